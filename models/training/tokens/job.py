"""The app's token-classifier job: checks the base model, reserves the training memory, runs the
loop one device step at a time, saves (safetensors + model card, in the same folder and with the
same metadata file as the sentence classifier, so the zip and the Models tab treat both alike),
registers the model (registry head "token-classification", task "analyze": it appears in
Analyse meaning) and turns the job's events into the JSON /tokens_status returns."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.core.files import atomic_folder
from models.core.jobs import Job, JobContext, JobRunner, status_json
from models.training.checkpoint import Checkpointer, settings_of
from models.training.finetune.job import JobCallback, check_base, training_bytes
from models.training.finetune.store import META_FILE, check_out_dir, finetuned_dir
from models.training.tokens.data import TokenData, split
from models.training.tokens.loop import TokenConfig, TokenEpoch, TokenOutcome, train


@dataclass
class TokenResult:
    """A finished (or stopped) token fine-tuning job. Plain data, JSON-friendly."""
    key: str                     # registry key of the saved model ("local:...")
    name: str
    folder: str
    base_key: str
    labels: list
    report: dict                 # TokenReport.to_dict() of the kept weights
    history: list                # one dict per epoch (TokenEpoch)
    best_epoch: int
    stopped: bool
    train_seconds: float
    examples_per_s: float
    notices: list = field(default_factory=list)


class TokenCallback(JobCallback):
    """The sentence classifier's bridge to the job, with entity scores per epoch."""

    def on_epoch(self, info: TokenEpoch):
        self.ctx.report(None, f"epoch {info.epoch}: entity F1 {info.f1:.3f}", type="epoch",
                        **asdict(info))


def _card(outcome: TokenOutcome, cfg: TokenConfig, data: TokenData, base_name: str,
          n_train: int) -> str:
    r = outcome.report
    rows = "\n".join(f"| {c['type']} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} "
                     f"| {c['support']} |" for c in r.per_type)
    settings = "\n".join(f"| {k} | {v} |" for k, v in asdict(cfg).items())
    counts = ", ".join(f"{k}: {v}" for k, v in data.counts.items())
    return f"""---
base_model: {base_name}
pipeline_tag: token-classification
library_name: transformers
tags: [llm-explorer, fine-tuned, ner]
---
# Entity tagger fine-tuned from {base_name}

Made with LLM Explorer's Fine-tune tab ("Label words"). Tags (IOB2): {', '.join(outcome.labels)}.

## Data
- Source: `{data.source}` ({data.fmt}); {len(data.words)} sentences ({counts} entities)
- Random split: {n_train} sentences for training, {r.n} for validation

## Settings
| setting | value |
|---|---|
{settings}

## Results (validation, entity level with seqeval, best epoch {outcome.best_epoch}{', stopped early' if outcome.stopped else ''})
- Precision **{r.precision:.3f}**, recall **{r.recall:.3f}**, F1 **{r.f1:.3f}** on {r.entities} entities
- Baseline (each word's most frequent training tag): F1 {r.baseline_f1:.3f}
- Training: {outcome.train_seconds:.0f} s, {outcome.examples_per_s:.1f} sentences/s

| type | precision | recall | F1 | entities |
|---|---|---|---|---|
{rows}

## Use it
```python
from transformers import AutoModelForTokenClassification, AutoTokenizer
tok = AutoTokenizer.from_pretrained("path/to/this/folder")
model = AutoModelForTokenClassification.from_pretrained("path/to/this/folder")
enc = tok(["Ada", "lives", "in", "Paris"], is_split_into_words=True, return_tensors="pt")
tags = [model.config.id2label[i] for i in model(**enc).logits.argmax(-1)[0].tolist()]
```
(one tag per word piece; a word's tag is its first piece's).
"""


def save_tagger(outcome: TokenOutcome, cfg: TokenConfig, data: TokenData, out_dir: Path,
                base_key: str, base_name: str, base_dir: Path) -> Path:
    """Write the model (safetensors), tokenizer, metadata and card, all at once."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    with atomic_folder(out_dir) as tmp:
        outcome.model.save_pretrained(tmp)                  # model.safetensors + config.json
        outcome.tokenizer.save_pretrained(tmp)
        meta = {"kind": "tokens", "base_key": base_key, "base_name": base_name,
                "base_dir": str(base_dir), "labels": outcome.labels, "config": asdict(cfg),
                "data": {"source": data.source, "format": data.fmt, "sentences": len(data.words),
                         "counts": data.counts, "n_val": outcome.report.n},
                "metrics": {k: v for k, v in outcome.report.to_dict().items() if k != "wrong"},
                "history": outcome.history, "best_epoch": outcome.best_epoch,
                "stopped": outcome.stopped, "train_seconds": outcome.train_seconds,
                "examples_per_s": outcome.examples_per_s, "created": time.time()}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        (tmp / "README.md").write_text(_card(outcome, cfg, data, base_name,
                                             len(data.words) - outcome.report.n), encoding="utf-8")
    return out_dir


def tokens_and_save(manager, cfg: TokenConfig, data: TokenData, name: str, callback=None,
                    should_stop=lambda: False, checkpoint: Checkpointer | None = None) -> TokenResult:
    """Train a tagger on `data` from the registry model cfg.base_model, save it under the app's
    data dir and register it. Used by the app's job, the bench and the tests. With
    `checkpoint`, the training saves its state every few steps and continues from a saved one."""
    cfg.check()
    spec, folder = check_base(manager, cfg.base_model)
    parts = split(data, cfg.val_fraction, cfg.seed)
    label = f"tokens {(name or '').strip() or spec.name}"
    with manager.reserve(training_bytes(folder, cfg), label, spec.name), manager.guard():
        outcome = train(cfg, parts, folder, callback, should_stop,
                        cpu=manager.device.kind == "cpu", base_name=spec.name,
                        device_step=lambda: manager.device_step(label), checkpoint=checkpoint)
    title = (name or "").strip()[:60] or f"{spec.key}-ner-{Path(data.source).stem}"
    out = save_tagger(outcome, cfg, data, finetuned_dir(manager.registry.cache_dir, title),
                      base_key=spec.key, base_name=spec.name, base_dir=folder)
    registered = manager.register_local(str(out), name=title)
    result = TokenResult(registered.key, registered.name, str(out), spec.key, outcome.labels,
                         outcome.report.to_dict(), outcome.history, outcome.best_epoch,
                         outcome.stopped, outcome.train_seconds, outcome.examples_per_s,
                         [list(n) for n in outcome.notices])
    del outcome
    return result


def start_job(manager, jobs: JobRunner, cfg: TokenConfig, data: TokenData, name: str) -> str:
    """Queue a token fine-tuning job on the device's runner; returns its id at once."""
    cfg.check()
    check_base(manager, cfg.base_model)             # refuse a bad base or split now, not in
    split(data, cfg.val_fraction, cfg.seed)         # the queue

    title = (name or "").strip()[:60] or f"{cfg.base_model} tagger on {data.source}"
    job_id = jobs.submit("tokens", title, job_function(manager, cfg, data, name))
    jobs.keep_settings(job_id, {"config": asdict(cfg), "data": settings_of(data), "name": name})
    return job_id


def job_function(manager, cfg: TokenConfig, data: TokenData, name: str):
    """The job's body, with a checkpoint in the job's folder (see finetune/job.py)."""
    def work(ctx: JobContext) -> TokenResult:
        ctx.report(0.01, f"loading {cfg.base_model}")
        return tokens_and_save(manager, cfg, data, name, TokenCallback(ctx), lambda: ctx.cancelled,
                               Checkpointer(ctx.checkpoint_dir))
    return work


def rebuild(manager, settings: dict):
    """The job function of a stored token-tagging job (JobRunner.register's factory)."""
    return job_function(manager, TokenConfig(**settings["config"]), TokenData(**settings["data"]),
                        settings["name"])


def status_dict(job: Job) -> dict:
    """A job snapshot as plain JSON: what /tokens_status returns."""
    return status_json(job, TokenResult, steps=("step", ("step", "epoch", "loss")),
                       epochs=("epoch", ("epoch", "step", "train_loss", "val_loss", "precision",
                                         "recall", "f1", "partial")))
