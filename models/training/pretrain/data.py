"""Pre-training data: the corpus (bundled or uploaded plain text, checked: not empty, not
binary, not tiny) and a byte-level BPE tokenizer trained on it with the `tokenizers` library
(every byte is in the base alphabet, so any language works). Used by models/training/pretrain/loop.py."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from models.core.files import ASSETS
from models.core.errors import Notice, UserError

SAMPLES_DIR = ASSETS / "samples"
MAX_CORPUS_BYTES = 5_000_000   # ~1M words: more would not be seen in a few minutes anyway
MIN_CORPUS_CHARS = 500         # below this a BPE tokenizer learns almost no merges


@dataclass
class Corpus:
    text: str
    source: str                  # file name or bundled corpus name
    notice: Notice | None = None  # set when the text was cut


# ---- corpus -----------------------------------------------------------------------------
def bundled_corpora() -> dict[str, Path]:
    """name -> file for assets/samples/pretrain_*.txt."""
    return {p.stem.removeprefix("pretrain_"): p for p in sorted(SAMPLES_DIR.glob("pretrain_*.txt"))}


def read_corpus(path: str | Path, source: str | None = None) -> Corpus:
    """Read a plain-text corpus file; binary, non-UTF-8, empty or tiny files -> UserError."""
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read(MAX_CORPUS_BYTES + 1)
    notice = None
    if len(data) > MAX_CORPUS_BYTES:
        data = data[:MAX_CORPUS_BYTES]
        mb = MAX_CORPUS_BYTES // 1_000_000
        notice = Notice("pre_corpus_capped", mb=mb)
    if b"\x00" in data[:65536]:
        raise UserError("pre_corpus_binary")
    try:
        text = data.decode("utf-8-sig", errors="strict" if notice is None else "ignore")
    except UnicodeDecodeError:
        raise UserError("pre_corpus_binary") from None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text[:65536])
    if text and printable < 0.95 * min(len(text), 65536):
        raise UserError("pre_corpus_binary")
    return check_corpus(Corpus(text, source or path.name, notice))


def check_corpus(corpus: Corpus) -> Corpus:
    text = corpus.text.replace("\r\n", "\n").strip()
    if not text:
        raise UserError("pre_corpus_empty")
    if len(text) < MIN_CORPUS_CHARS:
        raise UserError("pre_corpus_small", chars=len(text), need=MIN_CORPUS_CHARS)
    return Corpus(text, corpus.source, corpus.notice)


# ---- tokenizer ----------------------------------------------------------------------------
def train_tokenizer(text: str, vocab_size: int):
    """A byte-level BPE trained on `text`, wrapped as a transformers GPT2Tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Tokenizer
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(text.split("\n"), trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tok = GPT2Tokenizer(vocab=model["vocab"], merges=merges)
    tok.pad_token = tok.eos_token
    return tok


def encode_corpus(tok, text: str) -> torch.Tensor:
    """Paragraphs joined by the end-of-text token: one long 1-D tensor of ids."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    ids: list[int] = []
    for row in tok(paragraphs, add_special_tokens=False)["input_ids"]:
        ids.extend(row)
        ids.append(tok.eos_token_id)
    return torch.tensor(ids, dtype=torch.long)
