"""Keeping fine-tuned models: saving (safetensors + model card, with the classifier head as it
was initialised, `initial_head.safetensors`, for the honest "before" of
models/runners/classification.py) and zipping for download.

Saved models live in `<app data dir>/finetuned/<safe name>`; the folder name is made from the
user's name with every path part removed, and checked to lie inside that folder.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from models.core.accounts import user_folder
from models.core.errors import UserError
from models.core.files import atomic_folder, slug
from models.training.finetune.data import LabelledData
from models.training.finetune.loop import FinetuneConfig, TrainOutcome

META_FILE = "finetune.json"
HEAD_FILE = "initial_head.safetensors"


def finetuned_dir(cache_dir: Path, name: str) -> Path:
    """A new, unused folder under <cache_dir>/finetuned for `name`."""
    root = user_folder(Path(cache_dir) / "finetuned").resolve()   # classroom: per user
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
        raise UserError("ft_out_exists", path=str(out_dir))


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
        raise UserError("ft_no_model", folder=folder.name)
    out = Path(tempfile.mkdtemp(prefix="llm-explorer-zip-")) / folder.name
    return Path(shutil.make_archive(str(out), "zip", root_dir=folder.parent, base_dir=folder.name))
