"""Fine-tuning throughput: the app's accelerate loop vs `transformers.Trainer`, in one run, on
the same model (packaged MiniLM), data (the bundled sample, same stratified split), settings
(epochs, learning rate, batch size, max length, warmup, weight decay, clipping, seed) and
optimizer (torch's fused AdamW, Trainer's default). Reports training examples/s (training
steps only: no model loading, no validation), CPU seconds used (less sensitive than wall
time to other processes on a shared machine), the ratio app / Trainer, final validation accuracy of both, accuracy per
language, and peak resident memory (psutil, sampled every 20 ms) during each run.

    .venv/bin/python -m bench.bench_finetune            # or: make bench
"""
from __future__ import annotations

import os
import tempfile
import threading
import time

import numpy as np
import psutil
import torch

from bench.common import Timer, manager, save, table


class PeakRSS:
    """Highest resident memory of this process while the block runs."""

    def __enter__(self):
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.start = self.proc.memory_info().rss
        self.cpu_start = time.process_time()

        def watch():
            while not self._stop.is_set():
                self.peak = max(self.peak, self.proc.memory_info().rss)
                time.sleep(0.02)
        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.cpu_seconds = time.process_time() - self.cpu_start   # CPU time of all threads
        self._stop.set()
        self._thread.join()


def per_language(texts, y_true, y_pred, lang_of) -> dict:
    out = {}
    for lang in ("en", "zh"):
        idx = [i for i, t in enumerate(texts) if lang_of.get(t) == lang]
        out[lang] = float(np.mean([y_true[i] == y_pred[i] for i in idx])) if idx else None
    return out


def run_app(cfg, parts, base_dir):
    from models.finetune import train
    with PeakRSS() as mem, Timer() as wall:
        outcome = train(cfg, parts, base_dir)
    enc = outcome.tokenizer(list(parts.val_texts), truncation=True, max_length=cfg.max_length,
                            padding=True, return_tensors="pt")
    with torch.no_grad():
        pred = outcome.model(**enc).logits.argmax(-1).tolist()
    return {"examples_per_s": outcome.examples_per_s, "train_s": outcome.train_seconds,
            "wall_s": wall.seconds, "cpu_s": mem.cpu_seconds, "accuracy": outcome.report.accuracy,
            "macro_f1": outcome.report.macro_f1, "peak_rss_mb": mem.peak / 2**20,
            "rss_growth_mb": (mem.peak - mem.start) / 2**20}, pred


def run_trainer(cfg, parts, base_dir):
    from accelerate.utils import set_seed
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, Trainer, TrainingArguments)
    set_seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=len(parts.classes))
    train_enc = tok(list(parts.train_texts), truncation=True, max_length=cfg.max_length)
    val_enc = tok(list(parts.val_texts), truncation=True, max_length=cfg.max_length)
    train_ds = [dict({k: v[i] for k, v in train_enc.items()}, labels=y)
                for i, y in enumerate(parts.train_labels)]          # same fields as the app's
    val_ds = [dict({k: v[i] for k, v in val_enc.items()}, labels=y)
              for i, y in enumerate(parts.val_labels)]
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, num_train_epochs=cfg.epochs, learning_rate=cfg.learning_rate,
            per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size * 2,
            weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_fraction,
            max_grad_norm=cfg.max_grad_norm, seed=cfg.seed, optim="adamw_torch_fused",
            lr_scheduler_type="linear", eval_strategy="no", save_strategy="no",
            logging_strategy="no", report_to=[], use_cpu=not torch.cuda.is_available(),
            disable_tqdm=True, dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=train_ds,
                          data_collator=DataCollatorWithPadding(tok))
        with PeakRSS() as mem, Timer() as wall:
            metrics = trainer.train().metrics
        pred = trainer.predict(val_ds).predictions.argmax(-1).tolist()
    acc = float(np.mean([p == y for p, y in zip(pred, parts.val_labels)]))
    from sklearn.metrics import f1_score
    return {"examples_per_s": metrics["train_samples_per_second"], "train_s": metrics["train_runtime"],
            "wall_s": wall.seconds, "cpu_s": mem.cpu_seconds, "accuracy": acc,
            "macro_f1": float(f1_score(parts.val_labels, pred, average="macro")),
            "peak_rss_mb": mem.peak / 2**20, "rss_growth_mb": (mem.peak - mem.start) / 2**20}, pred


def warm_up(cfg, parts, base_dir) -> None:
    """A few untimed steps first: the first backward pass on a fresh process pays one-time
    costs (thread pool, allocator) that would otherwise land on whichever loop runs first."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=len(parts.classes))
    batch = tok(list(parts.train_texts[:cfg.batch_size]), padding=True, truncation=True,
                max_length=cfg.max_length, return_tensors="pt")
    labels = torch.tensor(parts.train_labels[:cfg.batch_size])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate)
    for _ in range(3):
        model(**batch, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()


def main() -> None:
    import pandas as pd

    from models.finetune import FinetuneConfig
    from models.finetune_data import SAMPLES, load, split
    mgr = manager()
    cfg = FinetuneConfig()
    data = load(SAMPLES["sentiment_en_zh"])
    parts = split(data, cfg.val_fraction, cfg.seed)
    base_dir = mgr.registry.files_dir(mgr.registry.get(cfg.base_model))
    raw = pd.read_csv(SAMPLES["sentiment_en_zh"])
    lang_of = dict(zip(raw["text"], raw["lang"]))
    print(f"MiniLM, {len(parts.train_texts)} train / {len(parts.val_texts)} val, {cfg.epochs} epochs, "
          f"lr {cfg.learning_rate}, batch {cfg.batch_size}, max_length {cfg.max_length}, "
          f"{torch.get_num_threads()} threads", flush=True)
    warm_up(cfg, parts, base_dir)
    repeats = int(os.environ.get("FT_BENCH_REPEATS", "2"))
    loops = (("app loop (accelerate)", run_app), ("transformers.Trainer", run_trainer))
    runs = {name: [] for name, _ in loops}
    for r in range(repeats):                 # interleaved, so load from other processes hits both
        for name, fn in loops:
            row, pred = fn(cfg, parts, base_dir)
            langs = per_language(parts.val_texts, parts.val_labels, pred, lang_of)
            runs[name].append({"loop": name, "run": r + 1, **{k: round(v, 3) for k, v in row.items()},
                               "acc_en": round(langs["en"], 3), "acc_zh": round(langs["zh"], 3)})
            print(runs[name][-1], flush=True)
    rows = [max(runs[name], key=lambda x: x["examples_per_s"]) for name, _ in loops]  # best of
    ratio = rows[0]["examples_per_s"] / rows[1]["examples_per_s"]
    cpu_ratio = rows[1]["cpu_s"] / rows[0]["cpu_s"]
    table(rows)
    print(f"throughput ratio app / Trainer (best of {repeats}): {ratio:.2f}  (goal >= 1.0); "
          f"CPU-time ratio Trainer / app: {cpu_ratio:.2f}; majority baseline 0.500")
    save("finetune", rows, ratio=ratio, cpu_ratio=cpu_ratio, all_runs=runs, config=cfg.__dict__,
         threads=torch.get_num_threads())


if __name__ == "__main__":
    main()
