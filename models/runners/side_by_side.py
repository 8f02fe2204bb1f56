"""Two models on the same input, in one view.

Each side gets what applies to its model (a part that does not apply says so, it is never
left blank without a reason):
  prediction   classifiers: the class probabilities; language models: the next token's
               top guesses
  steps        language models (decoders, encoder-decoders): the model's own continuation,
               with its top alternatives at every step (models/runners/branching.py)
  attention    every model: one head (layer, head; clipped to the model's shape), from
               models/runners/attention.py (the encoder's for an encoder-decoder)
  attribution  classifiers: integrated gradients for the predicted class
               (models/runners/attribution.py)
  lens         language models and classifiers: the logit lens (models/runners/logit_lens.py)

Typical pairs: the base encoder and a classifier fine-tuned from it (same attention head
before and after fine-tuning, and what the classifier attends and attributes to), or two
language models (their next-token distributions at each step and their lenses).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.runners.attention import extract
from models.core.manager import LoadedModel
from models.runners import attribution as attr_mod
from models.runners.branching import branch
from models.runners.logit_lens import LogitLens, logit_lens
from models.runners.parts import is_classifier

STEPS = 6                 # continuation steps per language model
IG_STEPS = 32


@dataclass(frozen=True)
class Side:
    """One model's column. `missing` maps a part that does not apply to a reason code:
    "no_head" (a base encoder predicts nothing), "not_lm" (it writes no text), "lm" (the
    attribution of a language model is in the Attribution part, not repeated here)."""
    key: str
    model_name: str
    kind: str
    tokens: list
    layer: int
    head: int
    layers: int
    heads: int
    attention: np.ndarray                  # [query, key] of (layer, head)
    prediction: list | None = None         # Guess list (classes or next tokens)
    steps: list | None = None              # branching.Step list
    continuation: str = ""
    attribution: attr_mod.Attribution | None = None
    lens: LogitLens | None = None
    missing: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SideBySide:
    text: str
    a: Side
    b: Side


def side(lm: LoadedModel, text: str, layer: int = 0, head: int = 0,
         ig_steps: int = IG_STEPS) -> Side:
    res = extract(lm, text, "")
    amap = res.maps.get("encoder") or res.maps.get("self") or next(iter(res.maps.values()))
    lyr = int(min(max(0, int(layer or 0)), amap.layers - 1))
    hd = int(min(max(0, int(head or 0)), amap.heads - 1))
    common = dict(key=lm.spec.key, model_name=lm.spec.name, kind=lm.spec.kind,
                  tokens=list(amap.query_tokens), layer=lyr, head=hd, layers=amap.layers,
                  heads=amap.heads, attention=np.asarray(amap.weights[lyr, hd], np.float32))
    if is_classifier(lm):
        a = attr_mod.attribute(lm, text, "", "", "ig", ig_steps)
        return Side(**common, prediction=a.candidates, attribution=a, lens=logit_lens(lm, text),
                    missing={"steps": "not_lm"})
    if lm.spec.kind in ("decoder", "seq2seq"):
        b = branch(lm, text, [], extend=STEPS)
        return Side(**common, prediction=b.steps[0].top if b.steps else None, steps=b.steps,
                    continuation=b.text, lens=logit_lens(lm, text),
                    missing={"attribution": "lm"})
    return Side(**common, missing={"prediction": "no_head", "steps": "not_lm",
                                   "attribution": "no_head", "lens": "no_head"})


def compare(manager, key_a: str, key_b: str, text: str, layer: int = 0, head: int = 0,
            ig_steps: int = IG_STEPS) -> SideBySide:
    """Both models on `text`, one after the other: each is held only while it runs, so the
    two need not fit in the memory budget together."""
    with manager.use((key_a or "").strip()) as lm_a, manager.guard():
        a = side(lm_a, text, layer, head, ig_steps)
    with manager.use((key_b or "").strip()) as lm_b, manager.guard():
        b = side(lm_b, text, layer, head, ig_steps)
    return SideBySide(text, a, b)
