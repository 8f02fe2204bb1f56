"""Keeping and using fine-tuned models: the app's training job, saving (safetensors +
model card), registering in the model manager, zipping for download, and classifying with
the fine-tuned model and with the model as it was before fine-tuning.

"Before" means the base encoder with the new classifier head exactly as it was initialised at
step 0: `train` keeps those few head weights and they are saved as `initial_head.safetensors`
next to the model, so the before/after comparison is honest (an untrained head guesses).

Saved models live in `<app data dir>/finetuned/<safe name>`; the folder name is made from the
user's name with every path part removed, and checked to lie inside that folder.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from .errors import UserError
from .files import atomic_folder, slug
from .finetune import Callback, EpochInfo, FinetuneConfig, StepInfo, TrainOutcome, train
from .finetune_data import LabelledData, split
from .jobs import Job, JobContext, JobRunner
from .tasks import check_text

META_FILE = "finetune.json"
HEAD_FILE = "initial_head.safetensors"
MAX_STEP_EVENTS = 600    # a long run reports its loss every k steps so snapshots stay small


@dataclass
class FinetuneResult:
    """What a finished (or stopped) fine-tuning job returns. Plain data, JSON-friendly."""
    key: str                     # registry key of the saved model ("local:...")
    name: str
    folder: str
    base_key: str
    classes: list
    report: dict                 # EvalReport.to_dict() of the kept weights
    history: list                # one dict per epoch (EpochInfo)
    best_epoch: int
    stopped: bool
    train_seconds: float
    examples_per_s: float
    notices: list = field(default_factory=list)   # (code, message, params)


@dataclass
class ClassProbs:
    model_key: str
    model_name: str
    labels: list
    probs: list                  # same order as labels, sums to 1
    truncated: bool = False      # the text was longer than the model reads

    def as_dict(self) -> dict:
        return dict(zip(self.labels, self.probs))


# ---- saving -------------------------------------------------------------------------------
def finetuned_dir(cache_dir: Path, name: str) -> Path:
    """A new, unused folder under <cache_dir>/finetuned for `name`."""
    root = (Path(cache_dir) / "finetuned").resolve()
    base = slug(name, "model")
    candidate, n = root / base, 2
    while candidate.exists():
        candidate, n = root / f"{base}-{n}", n + 1
    if not candidate.resolve().is_relative_to(root):      # belt and braces: a bug if it happens
        raise ValueError(f"{name!r} made a folder outside {root}")
    return candidate


def check_out_dir(out_dir: Path) -> None:
    """Refuse to save into a folder that already holds something."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError("ft_out_exists", f"{out_dir} already exists and is not empty. Pick a new "
                        "folder.", path=str(out_dir))


def _card(outcome: TrainOutcome, cfg: FinetuneConfig, data: LabelledData, base_name: str,
          n_train: int, n_val: int) -> str:
    r = outcome.report
    rows = "\n".join(f"| {c['label']} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} "
                     f"| {c['support']} |" for c in r.per_class)
    settings = "\n".join(f"| {k} | {v} |" for k, v in asdict(cfg).items())
    counts = ", ".join(f"{k}: {v}" for k, v in data.counts.items())
    return f"""---
base_model: {base_name}
pipeline_tag: text-classification
library_name: transformers
tags: [llm-explorer, fine-tuned]
---
# Text classifier fine-tuned from {base_name}

Made with LLM Explorer's Fine-tune tab. Classes: {', '.join(outcome.classes)}.

## Data
- Source: `{data.source}` (text column `{data.text_column}`, label column `{data.label_column}`)
- {data.rows_read} rows read; {len(data.texts)} used ({counts})
- Stratified split: {n_train} for training, {n_val} for validation

## Settings
| setting | value |
|---|---|
{settings}

## Results (validation, best epoch {outcome.best_epoch}{', stopped early' if outcome.stopped else ''})
- Accuracy **{r.accuracy:.3f}** (always answering the majority class: {r.majority_baseline:.3f})
- Macro-F1 **{r.macro_f1:.3f}**, validation loss {r.loss:.4f}
- Training: {outcome.train_seconds:.0f} s, {outcome.examples_per_s:.1f} examples/s

| class | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}

## Use it
```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer
tok = AutoTokenizer.from_pretrained("path/to/this/folder")
model = AutoModelForSequenceClassification.from_pretrained("path/to/this/folder")
probs = model(**tok("I loved it", return_tensors="pt")).logits.softmax(-1)
```
"""


def save_model(outcome: TrainOutcome, cfg: FinetuneConfig, data: LabelledData, out_dir: Path,
               base_key: str, base_name: str, base_dir: Path) -> Path:
    """Write the model (safetensors), tokenizer, initial head, metadata and card. Atomic: the
    files are written to a temporary sibling folder that is renamed at the end."""
    from safetensors.torch import save_file
    out_dir = Path(out_dir)
    check_out_dir(out_dir)                                 # an empty folder there is replaced
    with atomic_folder(out_dir) as tmp:
        outcome.model.save_pretrained(tmp)                  # model.safetensors + config.json
        outcome.tokenizer.save_pretrained(tmp)
        save_file({k: v.contiguous() for k, v in outcome.initial_head.items()}, str(tmp / HEAD_FILE))
        n_val = outcome.report.n
        meta = {"base_key": base_key, "base_name": base_name, "base_dir": str(base_dir),
                "classes": outcome.classes, "config": asdict(cfg),
                "data": {"source": data.source, "text_column": data.text_column,
                         "label_column": data.label_column, "rows_read": data.rows_read,
                         "counts": data.counts, "n_val": n_val},
                "metrics": {k: v for k, v in outcome.report.to_dict().items() if k != "misclassified"},
                "history": outcome.history, "best_epoch": outcome.best_epoch,
                "stopped": outcome.stopped, "train_seconds": outcome.train_seconds,
                "examples_per_s": outcome.examples_per_s, "created": time.time()}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        (tmp / "README.md").write_text(_card(outcome, cfg, data, base_name, len(data.texts) - n_val,
                                             n_val), encoding="utf-8")
    return out_dir


def zip_model(folder: str | Path) -> Path:
    """A zip of a model fine-tuned in the app, in a fresh temporary folder (Gradio serves it
    from there). Other models (the packaged ones, say) are not offered for download."""
    folder = Path(folder)
    if not (folder / "config.json").exists() or not (folder / META_FILE).exists():
        raise UserError("ft_no_model", "Only a model fine-tuned here can be downloaded, and this "
                        "one was not. Train one first, then pick it in 'Fine-tuned model'.",
                        folder=folder.name)
    out = Path(tempfile.mkdtemp(prefix="llm-explorer-zip-")) / folder.name
    return Path(shutil.make_archive(str(out), "zip", root_dir=folder.parent, base_dir=folder.name))


# ---- the app's job ------------------------------------------------------------------------
class JobCallback(Callback):
    """Bridges the training loop to a JobContext: progress 0.03..0.95 is training."""

    def __init__(self, ctx: JobContext):
        self.ctx, self.every = ctx, 1

    def on_begin(self, total_steps, n_train, n_val, classes):
        self.every = max(1, total_steps // MAX_STEP_EVENTS)
        self.ctx.report(0.03, "training", type="begin", total_steps=total_steps, n_train=n_train,
                        n_val=n_val, classes=classes)

    def on_step(self, info: StepInfo):
        progress = 0.03 + 0.92 * info.step / max(1, info.total_steps)
        text = f"epoch {info.epoch} · step {info.step}/{info.total_steps} · loss {info.loss:.3f}"
        if info.step % self.every == 0 or info.step == info.total_steps:
            self.ctx.report(progress, text, type="step", **asdict(info))
        else:
            self.ctx.report(progress, text)

    def on_epoch(self, info: EpochInfo):
        self.ctx.report(None, f"epoch {info.epoch}: accuracy {info.accuracy:.3f}",
                        type="epoch", **asdict(info))

    def on_notice(self, code, message, **params):
        self.ctx.notice(code, message, **params)


def check_base(manager, key: str):
    """(spec, files folder) of a base model that can be fine-tuned here, or a UserError."""
    spec = manager.registry.get(key)
    if "finetune" not in spec.tasks:
        raise UserError("ft_not_base", f"{spec.name} cannot be fine-tuned here; pick an encoder "
                        "(such as all-MiniLM-L6-v2).", name=spec.name)
    folder = manager.registry.files_dir(spec)
    if folder is None:
        raise UserError("model_missing", f"The files of {spec.name} are not on this computer "
                        "(Hub models need a download first, in the Models tab).", name=spec.name)
    return spec, folder


def training_bytes(folder: Path, cfg: FinetuneConfig) -> int:
    """Memory to fine-tune the model in `folder` with `cfg` (fp32 weights, gradients and Adam's
    two moments for the trained parameters, activations of one batch), from the calculator's
    formulas (models/scale.py). A family the calculator does not know: 16 bytes a parameter."""
    from .files import read_json, safetensors_params
    from .scale import TrainingSetup, estimate, from_config
    config = read_json(Path(folder) / "config.json") or {}
    try:
        arch = from_config(config)
    except UserError:
        return 16 * (safetensors_params(Path(folder)) or 0)
    arch = replace(arch, context=int(cfg.max_length))
    est = estimate(arch, TrainingSetup(dtype="fp32", batch=int(cfg.batch_size), tokens=1, gpus=1))
    if cfg.head_only:        # gradients and optimizer state for the small head only
        return int(est.train_weights + est.train_activations)
    return int(est.train_total)


def finetune_and_save(manager, cfg: FinetuneConfig, data: LabelledData, name: str,
                      callback: Callback | None = None, should_stop=lambda: False) -> FinetuneResult:
    """Train on `data` from the registry model cfg.base_model, save under the app's data dir,
    register it with the manager. Used by the app's job and by tests."""
    cfg.check()
    spec, folder = check_base(manager, cfg.base_model)
    parts = split(data, cfg.val_fraction, cfg.seed)
    label = f"finetune {(name or '').strip() or spec.name}"
    # the model being trained, its gradients, Adam's state and activations count against the
    # memory budget while it trains; each step takes the device after waiting requests
    with manager.reserve(training_bytes(folder, cfg), label, spec.name), manager.guard():
        outcome = train(cfg, parts, folder, callback, should_stop,
                        cpu=manager.device.kind == "cpu", base_name=spec.name,
                        device_step=lambda: manager.device_step(label))
    label = (name or "").strip()[:60] or f"{spec.key}-{Path(data.source).stem}"
    out = save_model(outcome, cfg, data, finetuned_dir(manager.registry.cache_dir, label),
                     base_key=spec.key, base_name=spec.name, base_dir=folder)
    registered = manager.register_local(str(out), name=label)
    result = FinetuneResult(registered.key, registered.name, str(out), spec.key, outcome.classes,
                            outcome.report.to_dict(), outcome.history, outcome.best_epoch,
                            outcome.stopped, outcome.train_seconds, outcome.examples_per_s,
                            [list(n) for n in outcome.notices])
    del outcome
    return result


def start_job(manager, jobs: JobRunner, cfg: FinetuneConfig, data: LabelledData, name: str) -> str:
    """Queue a fine-tuning job on the device's runner; returns its id at once."""
    cfg.check()
    check_base(manager, cfg.base_model)              # refuse a bad base or split now, not in
    split(data, cfg.val_fraction, cfg.seed)          # the queue

    def work(ctx: JobContext) -> FinetuneResult:
        ctx.report(0.01, f"loading {cfg.base_model}")
        return finetune_and_save(manager, cfg, data, name, JobCallback(ctx), lambda: ctx.cancelled)

    title = (name or "").strip()[:60] or f"{cfg.base_model} on {data.source}"
    return jobs.submit("finetune", title, work)


def status_dict(job: Job) -> dict:
    """A job snapshot as plain JSON: what /finetune_status returns."""
    result = job.result
    begin = next((e for e in job.events if e.get("type") == "begin"), None)
    return {"job_id": job.id, "total_steps": begin["total_steps"] if begin else None, "title": job.title, "status": job.status,
            "progress": round(job.progress, 4), "eta_seconds": job.eta_seconds,
            "queue_position": job.queue_position, "message": job.message, "error": job.error,
            "error_code": job.error_code, "error_params": job.error_params, "detail": job.detail,
            "steps": [{"step": e["step"], "epoch": e["epoch"], "loss": e["loss"]}
                      for e in job.events if e.get("type") == "step"],
            "epochs": [{k: e[k] for k in ("epoch", "step", "train_loss", "val_loss", "accuracy",
                                          "macro_f1", "partial")}
                       for e in job.events if e.get("type") == "epoch"],
            "notices": [{"code": e["code"], "message": e["message"], "params": e["params"]}
                        for e in job.events if e.get("type") == "notice"],
            "result": asdict(result) if isinstance(result, FinetuneResult) else None}


# ---- classifying --------------------------------------------------------------------------
def _predict(model, tokenizer, device, text: str, key: str, name: str) -> ClassProbs:
    limit = min(512, getattr(model.config, "max_position_embeddings", 512) or 512)
    enc = tokenizer(text, truncation=True, max_length=limit, return_tensors="pt",
                    return_overflowing_tokens=False)
    truncated = len(tokenizer(text[:20_000], truncation=False)["input_ids"]) > limit or len(text) > 20_000
    with torch.no_grad():
        logits = model(**{k: v.to(device) for k, v in enc.items() if k != "overflow_to_sample_mapping"}).logits
    probs = logits.float().softmax(-1)[0].tolist()
    id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
    labels = [id2label.get(i, f"LABEL_{i}") for i in range(len(probs))]
    return ClassProbs(key, name, labels, [round(p, 6) for p in probs], truncated)


def classify(manager, key: str, text: str) -> ClassProbs:
    """Class probabilities of a classifier model in the registry for one text."""
    text = check_text(text, "text")
    spec = manager.registry.get(key)
    if spec.head != "classification":
        raise UserError("ft_not_classifier", f"{spec.name} has no classification head, so it "
                        "cannot give class probabilities. Fine-tune it first, then pick the "
                        "fine-tuned model.", name=spec.name)
    with manager.use(key) as lm, manager.guard():
        return _predict(lm.model, lm.tokenizer, lm.device, text, key, spec.name)


class BeforeModels:
    """The "before" side of the comparison: base encoder + the head as initialised at step 0.
    Keeps the last one loaded (one model, ~90 MB for MiniLM) for repeated comparisons."""

    def __init__(self, manager):
        self._manager = manager
        self._lock = threading.Lock()
        self._key, self._model, self._tokenizer = None, None, None

    def classify(self, key: str, text: str) -> ClassProbs:
        text = check_text(text, "text")
        registry = self._manager.registry
        spec = registry.get(key)
        folder = registry.files_dir(spec)
        meta_file = folder / META_FILE if folder else None
        if meta_file is None or not meta_file.exists() or not (folder / HEAD_FILE).exists():
            raise UserError("ft_no_before", f"{spec.name} was not fine-tuned in this app, so its "
                            "starting point is unknown.", name=spec.name)
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        with self._lock:
            if self._key != key:
                self._model, self._tokenizer = self._load(folder, meta)
                self._key = key
            with self._manager.guard():
                return _predict(self._model, self._tokenizer, self._manager.device.torch_device,
                                text, meta["base_key"], meta["base_name"] + " (before)")

    def _load(self, folder: Path, meta: dict):
        from safetensors.torch import load_file
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        registry = self._manager.registry
        base = None
        try:
            base = registry.files_dir(registry.get(meta["base_key"]))
        except UserError:
            pass
        base = base or Path(meta["base_dir"])
        if not (base / "config.json").exists():
            raise UserError("model_missing", f"The base model {meta['base_name']} is no longer on "
                            "this computer.", name=meta["base_name"])
        classes = meta["classes"]
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(classes), id2label=dict(enumerate(classes)),
            label2id={c: i for i, c in enumerate(classes)}, ignore_mismatched_sizes=True)
        model.load_state_dict(load_file(str(folder / HEAD_FILE)), strict=False)
        model.to(self._manager.device.torch_device).eval()
        return model, AutoTokenizer.from_pretrained(folder)
