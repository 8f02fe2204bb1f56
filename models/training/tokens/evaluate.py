"""Entity-level scores of a token classifier, computed with `seqeval` (offline).

An entity counts as found only when its type and every one of its words are right: "New York"
tagged B-LOC I-LOC is one hit; B-LOC O is a miss and a false alarm. Precision = found and
right / found, recall = found and right / in the truth, F1 their harmonic mean, over all
entities (micro average) and per type. seqeval's default (conlleval-compatible) reading is
used, so a predicted I-TYPE with no B-TYPE before it still starts an entity, as in the CoNLL
shared tasks' own scorer.

The baseline is the classic one for named entities: every word gets the tag it had most often
in the training sentences (O for a word never seen). A model has learned something beyond
memorising names when it beats it. Results are plain lists and floats (JSON-friendly).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

MAX_WRONG = 50    # sentences with a mistake shown; enough to read through


@dataclass
class TokenReport:
    """How the tagger did on the validation sentences.

    per_type   one dict per entity type: type, precision, recall, f1, support (entities)
    wrong      up to MAX_WRONG dicts: words, true (tags), predicted (tags), errors (count)
    """
    precision: float
    recall: float
    f1: float
    loss: float
    baseline_f1: float = 0.0          # the most-frequent-tag-per-word baseline on the same sentences
    word_accuracy: float = 0.0        # share of words with the right tag (mostly O: flattering)
    per_type: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    n: int = 0                        # validation sentences
    entities: int = 0                 # entities in them

    def to_dict(self) -> dict:
        return asdict(self)


def _repair(tags: list) -> list:
    """Predicted tags as strings (a model may give any of its labels anywhere)."""
    return [str(t) for t in tags]


def entity_scores(true_tags: list, pred_tags: list) -> tuple[float, float, float, list]:
    """(precision, recall, f1, per_type) over sentences of IOB2 tags, with seqeval."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    true_tags = [list(map(str, s)) for s in true_tags]
    pred_tags = [_repair(s) for s in pred_tags]
    if not any(t != "O" for s in true_tags for t in s) and not any(
            t != "O" for s in pred_tags for t in s):
        return 0.0, 0.0, 0.0, []
    report = classification_report(true_tags, pred_tags, output_dict=True, zero_division=0)
    per_type = [{"type": name, "precision": float(r["precision"]), "recall": float(r["recall"]),
                 "f1": float(r["f1-score"]), "support": int(r["support"])}
                for name, r in report.items() if not name.endswith(" avg")]
    per_type.sort(key=lambda r: (-r["support"], r["type"]))
    return (float(precision_score(true_tags, pred_tags, zero_division=0)),
            float(recall_score(true_tags, pred_tags, zero_division=0)),
            float(f1_score(true_tags, pred_tags, zero_division=0)), per_type)


def lookup_tagger(train_words: list, train_tags: list):
    """The baseline: a function words -> tags giving each word its most frequent training tag
    (compared in lower case, as an uncased model reads it); O for unseen words. B-/I- are
    then made consistent: a type continuing from the word before is I-, otherwise B-."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for words, tags in zip(train_words, train_tags):
        for w, t in zip(words, tags):
            seen[w.lower()][t[2:] if t != "O" else "O"] += 1

    def tag(words: list) -> list:
        out, prev = [], "O"
        for w in words:
            best = seen[w.lower()].most_common(1)[0][0] if w.lower() in seen else "O"
            out.append("O" if best == "O" else ("I-" if prev == best else "B-") + best)
            prev = best
        return out
    return tag


def token_report(words: list, true_tags: list, pred_tags: list, loss: float,
                 train_words: list | None = None, train_tags: list | None = None) -> TokenReport:
    """Scores of `pred_tags` against `true_tags` for the validation sentences `words`, the
    baseline from the training sentences, and the sentences it got wrong (most mistakes first)."""
    precision, recall, f1, per_type = entity_scores(true_tags, pred_tags)
    baseline = 0.0
    if train_words is not None:
        tag = lookup_tagger(train_words, train_tags)
        baseline = entity_scores(true_tags, [tag(w) for w in words])[2]
    total = sum(len(s) for s in true_tags)
    right = sum(a == b for ts, ps in zip(true_tags, pred_tags) for a, b in zip(ts, ps))
    wrong = []
    for ws, ts, ps in zip(words, true_tags, pred_tags):
        errors = sum(a != b for a, b in zip(ts, ps))
        if errors:
            wrong.append({"words": list(ws), "true": list(ts), "predicted": list(ps),
                          "errors": errors})
    wrong.sort(key=lambda r: -r["errors"])
    entities = sum(1 for s in true_tags for t in s if t.startswith("B-"))
    return TokenReport(precision, recall, f1, float(loss), baseline,
                       right / total if total else 0.0, per_type, wrong[:MAX_WRONG],
                       len(true_tags), entities)
