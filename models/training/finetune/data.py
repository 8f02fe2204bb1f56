"""Fine-tuning data: read a user's table, find the text and label columns, check it, split it.

Every problem a user can fix becomes a `UserError` with a stable code (the tab translates it);
things worth knowing but not fatal become `Notice`s (imbalance, duplicates removed, empty rows
dropped, very long texts cut, rows sampled). Nothing here writes a file: uploads are read where
Gradio put them, and only the base name of a user's file name is ever shown or used.

Formats: CSV, TSV, JSON (records or columns), JSONL, Parquet, Excel (.xlsx).
"""
from __future__ import annotations

import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import pandas as pd

from models.core.files import ASSETS
from models.core.errors import Notice, UserError, check_ranges

FORMATS = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".xlsx")
MAX_FILE_BYTES = 50 * 1024 * 1024   # same as the app's upload limit (app.py max_file_size)
MAX_ROWS = 20_000                   # more than this is sampled: a CPU epoch stays in minutes
MAX_TEXT_CHARS = 5_000              # longer texts are cut (the model sees <= 512 tokens anyway)
LONG_TEXT_CHARS = 1_000             # warn: such texts lose most of their words to max_length
MAX_CLASSES = 50                    # a label column with more distinct values is not labels
IMBALANCE_RATIO = 3.0               # warn when the biggest class is this many times the smallest
SAMPLES_DIR = ASSETS / "samples"
SAMPLES = {"sentiment_en": SAMPLES_DIR / "sentiment_en.csv",     # the default (MiniLM reads it)
           "sentiment_zh": SAMPLES_DIR / "sentiment_zh.csv"}     # needs a base that reads Chinese


@dataclass
class Table:
    """A file as read: the raw frame plus what reading it taught us."""
    frame: pd.DataFrame
    name: str                          # base file name only, never a path
    notices: list = field(default_factory=list)


@dataclass
class LabelledData:
    """Clean (text, label) pairs ready to split. labels are strings; classes sorted."""
    texts: list
    labels: list
    classes: list
    counts: dict                       # class -> number of examples
    notices: list = field(default_factory=list)
    text_column: str = "text"
    label_column: str = "label"
    source: str = ""
    rows_read: int = 0


@dataclass
class Split:
    train_texts: list
    train_labels: list                 # class indices
    val_texts: list
    val_labels: list
    classes: list


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")


def cjk_share(texts) -> float:
    """Share of `texts` written mostly (at least half of their letters) in Chinese, Japanese
    or Korean characters: such data needs a base model whose vocabulary has them."""
    texts = list(texts)
    if not texts:
        return 0.0
    mostly = 0
    for text in texts:
        letters = sum(ch.isalpha() for ch in text)
        mostly += bool(letters) and len(_CJK.findall(text)) >= 0.5 * letters
    return mostly / len(texts)


def safe_name(name: str | None) -> str:
    """The last part of a user's file name ('../../x.csv' -> 'x.csv'), for display only."""
    raw = str(name or "").replace("\\", "/")
    base = PurePath(raw).name
    return base if base not in ("", ".", "..") else "data"


def read_table(path: str | Path, display_name: str | None = None) -> Table:
    """Read an uploaded file into a DataFrame. UserError for anything wrong with the file."""
    path = Path(path)
    name = safe_name(display_name or path.name)
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError("ft_bad_format", name=name, suffix=suffix, formats=", ".join(FORMATS))
    if not path.is_file():
        raise UserError("ft_no_file", name=name)
    size = path.stat().st_size
    if size == 0:
        raise UserError("ft_empty_file", name=name)
    if size > MAX_FILE_BYTES:
        raise UserError("ft_too_big", name=name, mb=f"{size / 2**20:.0f}",
                        limit=MAX_FILE_BYTES // 2**20)
    notices: list[Notice] = []
    try:
        if suffix in (".parquet", ".xlsx"):
            frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_excel(path)
        else:
            text = _decode(path.read_bytes(), name, notices)
            if not text.strip():
                raise UserError("ft_empty_file", name=name)
            if suffix in (".csv", ".tsv"):
                frame = pd.read_csv(io.StringIO(text), sep="\t" if suffix == ".tsv" else ",",
                                    dtype=str, keep_default_na=False, skip_blank_lines=True)
            elif suffix == ".jsonl":
                frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
            else:
                frame = _read_json_text(text)
    except UserError:
        raise
    except Exception as exc:  # pandas / pyarrow / openpyxl parse errors of every kind
        raise UserError("ft_unreadable", name=name, fmt=suffix[1:].upper()) from None
    if frame.empty or len(frame.columns) == 0:
        raise UserError("ft_empty_file", name=name)
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table(frame, name, notices)


def _decode(data: bytes, name: str, notices: list) -> str:
    """UTF-8 (with or without BOM); otherwise the encoding charset-normalizer detects, with a
    notice; otherwise a clear error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes
    best = from_bytes(data[:2_000_000]).best()
    if best is None or best.encoding is None:
        raise UserError("ft_not_utf8", name=name)
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise UserError("ft_not_utf8", name=name) from None
    notices.append(Notice("encoding", name=name, encoding=best.encoding))
    return text


def _read_json_text(text: str) -> pd.DataFrame:
    data = json.loads(text)
    if isinstance(data, dict):
        for value in data.values():          # {"data": [...]} wrappers
            if isinstance(value, list) and value and isinstance(value[0], dict):
                data = value
                break
    return pd.DataFrame(data)


def guess_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """(text column, label column): the text is the column with the longest strings; the label
    is a column with 2..MAX_CLASSES distinct values, preferring ones named like labels."""
    cols = list(frame.columns)
    if len(cols) < 2:
        raise UserError("ft_one_column", column=cols[0] if cols else "?")
    lengths = {c: frame[c].astype(str).str.len().mean() for c in cols}
    named_text = [c for c in cols if c.lower() in ("text", "sentence", "review", "content", "文本", "句子")]
    text_col = named_text[0] if named_text else max(cols, key=lambda c: lengths[c])
    others = [c for c in cols if c != text_col]
    named = [c for c in others if c.lower() in ("label", "labels", "class", "category", "sentiment",
                                                "target", "y", "标签", "类别")]
    if named:
        return text_col, named[0]
    nunique = {c: frame[c].nunique(dropna=True) for c in others}
    fits = [c for c in others if 2 <= nunique[c] <= MAX_CLASSES]
    return text_col, min(fits or others, key=lambda c: (nunique[c] if c in fits else 10**9))


def _label_str(value) -> str:
    """Labels become strings; 1.0 and 1 and '1' are the same class."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if re.fullmatch(r"-?\d+\.0+", text):          # "1.0" from a spreadsheet is class "1"
        return text.split(".")[0]
    return text


def prepare(table: Table, text_column: str | None = None, label_column: str | None = None,
            max_rows: int = MAX_ROWS, seed: int = 0) -> LabelledData:
    """Pick the columns, clean the rows and check there is something to learn."""
    frame = table.frame
    guess_text, guess_label = guess_columns(frame)
    text_column, label_column = text_column or guess_text, label_column or guess_label
    for col in (text_column, label_column):
        if col not in frame.columns:
            raise UserError("ft_no_column", column=col, columns=", ".join(map(str, frame.columns)))
    if text_column == label_column:
        raise UserError("ft_same_column")
    notices = list(table.notices)
    rows_read = len(frame)
    data = pd.DataFrame({"text": frame[text_column], "label": frame[label_column]})
    raw_labels = data["label"].dropna()
    data["text"] = data["text"].map(lambda v: "" if v is None or (isinstance(v, float) and v != v)
                                    else str(v).strip())
    data["label"] = data["label"].map(lambda v: "" if v is None or (isinstance(v, float) and v != v)
                                      else _label_str(v))
    empty = (data["text"] == "") | (data["label"] == "")
    if empty.any():
        notices.append(Notice("empty_rows", n=int(empty.sum())))
        data = data[~empty]
    if data.empty:
        raise UserError("ft_no_rows", text=text_column, label=label_column)
    if len(raw_labels) and all(isinstance(v, (int, float)) or str(v).strip().lstrip("-").replace(
            ".", "", 1).isdigit() for v in raw_labels.head(200)):
        notices.append(Notice("numeric_labels"))
    long = data["text"].str.len() > MAX_TEXT_CHARS
    if long.any():
        notices.append(Notice("cut_texts", n=int(long.sum()), chars=MAX_TEXT_CHARS))
        data.loc[long, "text"] = data.loc[long, "text"].str.slice(0, MAX_TEXT_CHARS)
    elif (data["text"].str.len() > LONG_TEXT_CHARS).any():
        n = int((data["text"].str.len() > LONG_TEXT_CHARS).sum())
        notices.append(Notice("long_texts", n=n, chars=LONG_TEXT_CHARS))
    dup = data.duplicated(["text", "label"])
    if dup.any():
        notices.append(Notice("duplicates", n=int(dup.sum())))
        data = data[~dup]
    conflict = data.duplicated("text", keep=False)
    if conflict.any():
        notices.append(Notice("conflicts", n=int(conflict.sum())))
    if len(data) > max_rows:
        notices.append(Notice("sampled", n=len(data), max=max_rows))
        data = data.sample(n=max_rows, random_state=seed)
    counts = data["label"].value_counts()
    if len(counts) < 2:
        only = counts.index[0]
        raise UserError("ft_one_class", label=only)
    if len(counts) > MAX_CLASSES:
        raise UserError("ft_many_classes", column=label_column, n=len(counts), max=MAX_CLASSES)
    tiny = [str(c) for c, n in counts.items() if n < 2]
    if tiny:
        raise UserError("ft_tiny_class", classes=", ".join(tiny[:10]))
    if counts.max() >= IMBALANCE_RATIO * counts.min():
        notices.append(Notice("imbalance", big=str(counts.index[0]), nbig=int(counts.max()),
                              small=str(counts.index[-1]), nsmall=int(counts.min())))
    classes = sorted(counts.index.tolist(), key=str)
    return LabelledData(data["text"].tolist(), data["label"].tolist(), classes,
                        {c: int(counts[c]) for c in classes}, notices, text_column, label_column,
                        table.name, rows_read)


# The fine-tuning settings' limits (FinetuneConfig.check; split checks its own share again).
SETTING_LIMITS = {"epochs": (1, 50), "learning_rate": (1e-6, 1e-2), "batch_size": (1, 256),
                  "max_length": (8, 512), "val_fraction": (0.05, 0.5), "seed": (0, 2**31 - 1)}


def bad_setting(name: str, value, low: float, high: float) -> UserError:
    return UserError("ft_bad_setting", name=name, value=value, low=f"{low:g}", high=f"{high:g}")


def split(data: LabelledData, val_fraction: float, seed: int) -> Split:
    """Stratified split: every class appears in validation in its own proportion (at least once)."""
    check_ranges({"val_fraction": val_fraction}, SETTING_LIMITS, bad_setting)
    index = {c: i for i, c in enumerate(data.classes)}
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(data.labels):
        by_class.setdefault(index[label], []).append(i)
    rng = random.Random(seed)
    train, val = [], []
    for cls in sorted(by_class):
        rows = by_class[cls][:]
        rng.shuffle(rows)
        n_val = min(len(rows) - 1, max(1, round(len(rows) * val_fraction)))
        val += rows[:n_val]
        train += rows[n_val:]
    rng.shuffle(train)
    rng.shuffle(val)
    return Split([data.texts[i] for i in train], [index[data.labels[i]] for i in train],
                 [data.texts[i] for i in val], [index[data.labels[i]] for i in val], data.classes)


def load(path: str | Path, text_column: str | None = None, label_column: str | None = None,
         display_name: str | None = None, seed: int = 0) -> LabelledData:
    """read_table + prepare: the one call the training job and the command line use."""
    return prepare(read_table(path, display_name), text_column, label_column, seed=seed)
