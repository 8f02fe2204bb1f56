"""Token-classification data: read words and their entity tags, check the tag scheme, split.

Two formats:
  CoNLL / IOB  one word and its tag per line (tab or spaces between them), a blank line between
               sentences; `-DOCSTART-` lines and `# comment` lines are skipped. Files whose every line has more
               columns (CoNLL-2003: word, part of speech, chunk, entity) use the first and the
               last. Extensions .conll .iob .bio .txt .tsv.
  JSONL        one sentence per line: {"text": "...", "entities": [{"start": 0, "end": 5,
               "label": "PER"}, ...]} (character offsets, end excluded; [start, end, label]
               lists and the keys "spans" / "label" / "labels" are read too). The text is cut
               into words (Chinese: one character a word) and each word inside a span is tagged.

Tags follow IOB2: `O` outside any entity, `B-TYPE` on an entity's first word, `I-TYPE` on the
words after it. Every problem a user can fix is a `UserError` naming the line (CoNLL) or row
(JSONL) and what to change: an I- tag that starts an entity, a line with a different number of
columns, a span outside its text. Nothing here writes a file.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from models.core.errors import Notice, UserError, check_ranges
from models.core.files import ASSETS
from models.training.finetune.data import MAX_FILE_BYTES, _decode, safe_name

CONLL_FORMATS = (".conll", ".iob", ".bio", ".txt", ".tsv")
SPAN_FORMATS = (".jsonl",)
FORMATS = CONLL_FORMATS + SPAN_FORMATS
MAX_SENTENCES = 5_000      # more are sampled: a CPU epoch stays in minutes
MAX_WORDS = 150            # words per sentence kept (a longer one is cut, with a notice)
MAX_TYPES = 30             # more distinct entity types than this is not an entity scheme
MIN_SENTENCES = 10         # fewer cannot be split into training and validation usefully
SAMPLES_DIR = ASSETS / "samples"
SAMPLES = {"ner_en": SAMPLES_DIR / "ner_en.conll",     # the default (MiniLM reads it)
           "ner_zh": SAMPLES_DIR / "ner_zh.conll"}     # needs a base model that reads Chinese

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:['’.-][^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)*|[^\w\s]")
_TAG = re.compile(r"^(O|[BI]-\S+)$")


@dataclass
class TokenData:
    """Sentences as words with one IOB2 tag per word.

    words, tags  [n_sentences][n_words] strings
    types        entity types, sorted ("LOC", "PER", ...)
    counts       type -> number of entities
    """
    words: list
    tags: list
    types: list
    counts: dict
    notices: list = field(default_factory=list)
    source: str = ""
    fmt: str = "conll"                 # "conll" | "jsonl"
    rows_read: int = 0

    @property
    def labels(self) -> list:
        """Every tag the model can give: O, then B-/I- of each type."""
        return ["O"] + [f"{p}-{t}" for t in self.types for p in "BI"]


@dataclass
class TokenSplit:
    train_words: list
    train_tags: list
    val_words: list
    val_tags: list
    labels: list


def words_of(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each word of `text`: letters and digits run together (with inner
    apostrophes, dots and hyphens: "don't", "U.S.", "Jean-Luc"), every Chinese character and
    every other sign is a word of its own."""
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _bad_tag(line_no: int, tag: str, name: str) -> UserError:
    return UserError("tok_bad_tag", name=name, line=line_no, tag=tag)


def check_scheme(tags: list, lines: list, name: str) -> None:
    """IOB2: an I-TYPE tag must follow B-TYPE or I-TYPE of the same type; `lines` gives each
    tag's line number in the file. (Spans from JSONL always make valid tags.)"""
    prev = "O"
    for tag, line_no in zip(tags, lines):
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            raise UserError("tok_i_without_b", name=name, line=line_no, tag=tag, prev=prev,
                            start=f"B-{tag[2:]}")
        prev = tag


def read_conll(text: str, name: str) -> tuple[list, list, list]:
    """(words, tags, notices) from CoNLL text; UserError with the line number on a bad line."""
    sentences, tags, lines_of = [], [], []
    words, sent_tags, sent_lines = [], [], []
    columns = None
    notices = []

    def close():
        if words:
            check_scheme(sent_tags, sent_lines, name)
            sentences.append(list(words)), tags.append(list(sent_tags))
            lines_of.append(sent_lines[0])
        words.clear(), sent_tags.clear(), sent_lines.clear()

    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("-DOCSTART-"):
            close()
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        parts = [p.strip() for p in parts if p.strip()]
        if line.startswith("#") and not (len(parts) >= 2 and _TAG.match(parts[-1])):
            continue                      # a comment ("# source: ..."), not the word "#"
        if columns is None:
            if len(parts) < 2:
                raise UserError("tok_one_column", name=name, line=line_no)
            columns = len(parts)
            if columns > 2:
                notices.append(Notice("tok_columns", n=columns))
        if len(parts) != columns:
            raise UserError("tok_columns", name=name, line=line_no, n=len(parts), expected=columns)
        tag = parts[-1]
        if not _TAG.match(tag):
            raise _bad_tag(line_no, tag, name)
        words.append(parts[0]), sent_tags.append(tag), sent_lines.append(line_no)
    close()
    return sentences, tags, notices


def _spans_of(row: dict) -> list:
    for key in ("entities", "spans", "labels", "label"):
        if key in row and isinstance(row[key], list):
            return row[key]
    return []


def read_jsonl(text: str, name: str) -> tuple[list, list, list]:
    """(words, tags, notices) from JSONL with character spans; UserError with the row."""
    sentences, tags = [], []
    for row_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            raise UserError("tok_bad_json", name=name, row=row_no) from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise UserError("tok_no_text", name=name, row=row_no)
        sentence = row["text"]
        found = words_of(sentence)
        word_tags = ["O"] * len(found)
        for span in _spans_of(row):
            if isinstance(span, dict):
                start, end, label = span.get("start"), span.get("end"), span.get("label")
            elif isinstance(span, (list, tuple)) and len(span) == 3:
                start, end, label = span
            else:
                start = end = label = None
            if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str)
                    and label.strip()):
                raise UserError("tok_bad_span", name=name, row=row_no, span=str(span)[:60])
            if not 0 <= start < end <= len(sentence):
                raise UserError("tok_span_outside", name=name, row=row_no, start=start, end=end,
                                label=label, length=len(sentence))
            label = label.strip().replace(" ", "_")
            inside = [i for i, (_w, s, e) in enumerate(found) if s < end and e > start]
            for k, i in enumerate(inside):
                if word_tags[i] != "O":
                    raise UserError("tok_overlap", name=name, row=row_no, start=start, end=end,
                                    label=label)
                word_tags[i] = ("B-" if k == 0 else "I-") + label
        if found:
            sentences.append([w for w, _s, _e in found])
            tags.append(word_tags)
    return sentences, tags, []


def prepare(words: list, tags: list, notices: list, name: str, fmt: str, seed: int = 0) -> TokenData:
    """Checks that apply to both formats: enough sentences, some entities, not too many types;
    long sentences cut and big files sampled (with notices)."""
    rows_read = len(words)
    if not words:
        raise UserError("tok_no_sentences", name=name)
    cut = 0
    for i in range(len(words)):
        if len(words[i]) > MAX_WORDS:
            words[i], tags[i], cut = words[i][:MAX_WORDS], tags[i][:MAX_WORDS], cut + 1
    if cut:
        notices.append(Notice("tok_long", n=cut, max=MAX_WORDS))
    if len(words) > MAX_SENTENCES:
        keep = sorted(random.Random(seed).sample(range(len(words)), MAX_SENTENCES))
        words, tags = [words[i] for i in keep], [tags[i] for i in keep]
        notices.append(Notice("tok_sampled", n=rows_read, kept=MAX_SENTENCES))
    if len(words) < MIN_SENTENCES:
        raise UserError("tok_too_few", name=name, n=len(words), min=MIN_SENTENCES)
    counts: dict[str, int] = {}
    for sent in tags:
        for tag in sent:
            if tag.startswith("B-"):
                counts[tag[2:]] = counts.get(tag[2:], 0) + 1
    if not counts:
        raise UserError("tok_no_entities", name=name)
    if len(counts) > MAX_TYPES:
        raise UserError("tok_many_types", name=name, n=len(counts), max=MAX_TYPES)
    types = sorted(counts)
    return TokenData(words, tags, types, {t: counts[t] for t in types}, notices, name, fmt,
                     rows_read)


def load(path: str | Path, display_name: str | None = None, seed: int = 0) -> TokenData:
    """Read a CoNLL or JSONL file the user uploaded. UserError for anything wrong with it."""
    path = Path(path)
    name = safe_name(display_name or path.name)
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError("tok_bad_format", name=name, suffix=suffix or "-")
    if not path.is_file():
        raise UserError("tok_no_file", name=name)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError("tok_too_big", name=name, mb=f"{size / 2**20:.0f}",
                        limit=MAX_FILE_BYTES // 2**20)
    notices: list = []
    text = _decode(path.read_bytes(), name, notices) if size else ""
    if not text.strip():
        raise UserError("tok_no_sentences", name=name)
    if suffix in SPAN_FORMATS:
        words, tags, more = read_jsonl(text, name)
        fmt = "jsonl"
    else:
        words, tags, more = read_conll(text, name)
        fmt = "conll"
    return prepare(words, tags, notices + more, name, fmt, seed)


def split(data: TokenData, val_fraction: float, seed: int) -> TokenSplit:
    """A random share of the sentences kept aside for validation (at least one)."""
    from models.training.finetune.data import SETTING_LIMITS, bad_setting
    check_ranges({"val_fraction": val_fraction}, SETTING_LIMITS, bad_setting)
    order = list(range(len(data.words)))
    random.Random(seed).shuffle(order)
    n_val = min(len(order) - 1, max(1, round(len(order) * val_fraction)))
    val, train = order[:n_val], order[n_val:]
    return TokenSplit([data.words[i] for i in train], [data.tags[i] for i in train],
                      [data.words[i] for i in val], [data.tags[i] for i in val], data.labels)


def to_conll(words: list, tags: list) -> str:
    """The CoNLL text of sentences (for samples, tests and the bench)."""
    return "\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(ws, ts))
                       for ws, ts in zip(words, tags)) + "\n"
