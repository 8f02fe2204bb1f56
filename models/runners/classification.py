"""Classifying with a fine-tuned model, and with the model as it was before fine-tuning.

"Before" means the base encoder with the new classifier head exactly as it was initialised at
step 0: training keeps those few head weights and they are saved as `initial_head.safetensors`
next to the model (models/training/finetune/store.py), so the before/after comparison is
honest (an untrained head guesses).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from models.core.errors import UserError
from models.runners.generation import check_text
from models.training.finetune.store import HEAD_FILE, META_FILE


@dataclass
class ClassProbs:
    model_key: str
    model_name: str
    labels: list
    probs: list                  # same order as labels, sums to 1
    truncated: bool = False      # the text was longer than the model reads

    def as_dict(self) -> dict:
        return dict(zip(self.labels, self.probs))


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
        raise UserError("ft_not_classifier", name=spec.name)
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
            raise UserError("ft_no_before", name=spec.name)
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
            raise UserError("model_missing", name=meta["base_name"])
        classes = meta["classes"]
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(classes), id2label=dict(enumerate(classes)),
            label2id={c: i for i, c in enumerate(classes)}, ignore_mismatched_sizes=True)
        model.load_state_dict(load_file(str(folder / HEAD_FILE)), strict=False)
        model.to(self._manager.device.torch_device).eval()
        return model, AutoTokenizer.from_pretrained(folder)
