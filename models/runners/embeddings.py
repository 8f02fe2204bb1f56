"""Sentence embeddings: text -> one vector per sentence, so similar meanings lie close together.

Pooling follows the all-MiniLM-L6-v2 model card: run the encoder, average the token vectors
over the real (non-padding) tokens, then L2-normalise, so the dot product of two vectors is
their cosine similarity. The 2-D map is PCA (deterministic, keeps global layout) or t-SNE
(keeps neighbourhoods, layout differs with the seed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch

from models.core.errors import Notice, UserError
from models.core.manager import LoadedModel

MAX_SENTENCES = 300      # a 300x300 heatmap is still readable; more only slows the browser
MAX_TOKENS = 256         # the model card's max_seq_length: longer sentences are truncated
MAX_CHARS = 2_000        # per sentence, before tokenizing
BATCH = 32

EXAMPLES: dict[str, list[tuple[str, str]]] = {   # (sentence, label)
    "en": [
        ("The cat is sleeping on the sofa.", "animals"),
        ("A kitten naps on the couch.", "animals"),
        ("Dogs love to play fetch in the park.", "animals"),
        ("The stock market fell sharply today.", "money"),
        ("Share prices dropped a lot this afternoon.", "money"),
        ("The bank raised its interest rates.", "money"),
        ("It is going to rain tomorrow.", "weather"),
        ("Tomorrow will be wet and cloudy.", "weather"),
        ("The sun is shining and the sky is clear.", "weather"),
        ("She is learning to play the piano.", "music"),
        ("He practises the guitar every evening.", "music"),
        ("Transformers use attention to read text.", "AI"),
        ("Language models predict the next word.", "AI"),
    ],
    "zh": [
        ("猫在沙发上睡觉。", "动物"),
        ("一只小猫在长椅上打盹。", "动物"),
        ("狗喜欢在公园里捡球。", "动物"),
        ("今天股市大幅下跌。", "金融"),
        ("今天下午股价跌了很多。", "金融"),
        ("银行提高了利率。", "金融"),
        ("明天会下雨。", "天气"),
        ("明天天气阴沉潮湿。", "天气"),
        ("阳光明媚，天空晴朗。", "天气"),
        ("她正在学弹钢琴。", "音乐"),
        ("他每天晚上练吉他。", "音乐"),
        ("语言模型预测下一个词。", "人工智能"),
    ],
}


@dataclass
class SentenceList:
    sentences: list[str]
    labels: list[str]            # "" where a line had no label
    notice: Notice | None = None  # set when the list was capped


@dataclass
class EmbeddingResult:
    """vectors [n, dim] unit length; similarity [n, n] cosine; coords [n, 2] (PCA or t-SNE)."""
    sentences: list[str]
    labels: list[str]
    vectors: np.ndarray
    similarity: np.ndarray
    coords: np.ndarray
    method: str
    explained: list[float] | None = None   # PCA: share of variance on each axis
    notices: list = field(default_factory=list)   # Notice items (list capped, sentences cut)
    truncated: int = 0                     # sentences cut at MAX_TOKENS
    unk_share: float = 0.0                 # share of tokens the tokenizer could not spell


@dataclass(frozen=True)
class Neighbour:
    rank: int
    index: int
    sentence: str
    label: str
    score: float


_LABEL_SPLIT = re.compile(r"\t| \| ")


def parse_sentences(text: str, minimum: int = 2) -> SentenceList:
    """One sentence per line; an optional label after a tab or ' | '. Blank lines are skipped.
    Fewer than `minimum` -> UserError; more than MAX_SENTENCES -> the first ones, with a notice."""
    sentences, labels = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = _LABEL_SPLIT.split(line, maxsplit=1)
        sentence = parts[0].strip()[:MAX_CHARS]
        if not sentence:
            continue
        sentences.append(sentence)
        labels.append(parts[1].strip()[:40] if len(parts) > 1 else "")
    if not sentences:
        raise UserError("pre_no_sentences")
    if len(sentences) < minimum:
        raise UserError("pre_one_sentence")
    notice = None
    if len(sentences) > MAX_SENTENCES:
        notice = Notice("pre_sentences_capped", n=len(sentences), limit=MAX_SENTENCES)
        sentences, labels = sentences[:MAX_SENTENCES], labels[:MAX_SENTENCES]
    return SentenceList(sentences, labels, notice)


def read_sentence_file(path: str) -> str:
    """An uploaded .txt/.tsv/.csv list -> text with one sentence per line."""
    data = open(path, "rb").read(4_000_000)
    if b"\x00" in data[:8192]:
        raise UserError("pre_binary_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("pre_binary_file") from None
    if path.lower().endswith(".csv"):       # "sentence,label" rows -> tab separated
        import csv
        import io
        rows = list(csv.reader(io.StringIO(text)))
        text = "\n".join("\t".join(r[:2]) for r in rows if r)
    return text


@torch.no_grad()
def embed(lm: LoadedModel, sentences: list[str]) -> tuple[np.ndarray, int]:
    """Mean-pooled, L2-normalised sentence vectors [n, dim] (float32) and how many sentences
    were truncated to MAX_TOKENS."""
    tok, model = lm.tokenizer, lm.model
    limit = min(MAX_TOKENS, lm.max_length)
    out, truncated = [], 0
    for start in range(0, len(sentences), BATCH):
        batch = sentences[start:start + BATCH]
        enc = tok(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt")
        lengths = tok(batch, add_special_tokens=True, truncation=False)["input_ids"]
        truncated += sum(len(ids) > limit for ids in lengths)
        enc = {k: v.to(lm.device) for k, v in enc.items()}
        hidden = model(**enc).last_hidden_state.float()             # [b, t, dim]
        mask = enc["attention_mask"].unsqueeze(-1).float()           # [b, t, 1]
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).cpu())
    return torch.cat(out).numpy(), truncated


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair [n, n]; rows need not be normalised."""
    v = np.asarray(vectors, dtype=np.float64)
    v = v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)
    return np.clip(v @ v.T, -1.0, 1.0)


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, list | None]:
    """[n, dim] -> ([n, 2], explained variance ratios or None)."""
    n = len(vectors)
    if method == "pca":
        from sklearn.decomposition import PCA
        k = min(2, n, vectors.shape[1])
        pca = PCA(n_components=k, random_state=seed)
        coords = pca.fit_transform(vectors)
        if k < 2:
            coords = np.hstack([coords, np.zeros((n, 2 - k))])
        return coords, [float(x) for x in pca.explained_variance_ratio_]
    if method == "tsne":
        if n < 4:
            raise UserError("pre_tsne_small")
        from sklearn.manifold import TSNE
        # perplexity ~ how many neighbours each point cares about; it must stay below n.
        tsne = TSNE(n_components=2, perplexity=float(min(30, max(2, (n - 1) // 3))),
                    init="pca", random_state=seed, max_iter=500)
        return tsne.fit_transform(vectors), None
    raise UserError("pre_bad_method")


def nearest(result: EmbeddingResult, query: np.ndarray, k: int = 5,
            exclude: int | None = None) -> list[Neighbour]:
    """The k sentences closest to `query` (a unit vector), best first."""
    scores = result.vectors @ np.asarray(query, dtype=result.vectors.dtype)
    order = [int(i) for i in np.argsort(-scores) if int(i) != exclude][:k]
    return [Neighbour(r + 1, i, result.sentences[i], result.labels[i], float(scores[i]))
            for r, i in enumerate(order)]


def analyse(lm: LoadedModel, items: SentenceList, method: str = "pca") -> EmbeddingResult:
    vectors, truncated = embed(lm, items.sentences)
    coords, explained = project(vectors, method)
    notices = [items.notice] if items.notice else []
    if truncated:
        notices.append(Notice("pre_sentences_cut", n=truncated, limit=MAX_TOKENS))
    return EmbeddingResult(items.sentences, items.labels, vectors, cosine_matrix(vectors),
                           coords, method, explained, notices, truncated,
                           unknown_share(lm.tokenizer, items.sentences))


def unknown_share(tokenizer, sentences: list[str]) -> float:
    """Share of tokens that became the unknown token (MiniLM's English vocabulary spells few
    Chinese characters)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None:
        return 0.0
    ids = [i for row in tokenizer(sentences, add_special_tokens=False)["input_ids"] for i in row]
    return sum(i == unk for i in ids) / len(ids) if ids else 0.0


def example_text(lang: str) -> str:
    return "\n".join(f"{s}\t{label}" for s, label in EXAMPLES.get(lang, EXAMPLES["en"]))
