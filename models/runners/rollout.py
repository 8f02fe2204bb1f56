"""Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").

Raw attention says where one layer's heads read from, but what they read is already a mix
of tokens made by the layers below. Rollout follows the mixing down through the layers:

    Â_l = 0.5 · mean_over_heads(A_l) + 0.5 · I      (the residual connection keeps half)
    Â_l ← Â_l / row sums                             (each row a distribution again)
    R_l = Â_l · Â_{l-1} · … · Â_1

Row i of R_l says how much of token i's vector after layer l comes from each input token, if
information only moved the way attention weights say. That is the assumption: it ignores the
values, the feed-forward layers and the norms, and treats heads as averaged. Every row of
every R_l sums to 1 (a product of row-stochastic matrices).

Uses the weights of models/runners/attention.py (one forward pass, eager attention). Encoder-decoders:
rollout of the encoder's self-attention (cross attention mixes two texts; rollout does not
apply to it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.runners.attention import extract
from models.core.errors import Notice
from models.core.manager import LoadedModel
from models.runners.parts import MAX_TOKENS

RESIDUAL = 0.5      # share kept by the skip connection, as in the paper


@dataclass(frozen=True)
class Rollout:
    """raw[l]: the layer's attention averaged over heads [n, n]; rollout[l]: R_l [n, n]
    (rows: the token whose vector it is; columns: input tokens)."""
    model_name: str
    kind: str
    view: str                    # "self" or "encoder"
    tokens: list
    raw: np.ndarray              # [layers, n, n]
    rollout: np.ndarray          # [layers, n, n]
    causal: bool
    notice: Notice | None = None

    @property
    def layers(self) -> int:
        return int(self.raw.shape[0])


def rollout_of(weights: np.ndarray, residual: float = RESIDUAL) -> tuple[np.ndarray, np.ndarray]:
    """weights [layers, heads, n, n] -> (raw mean [layers, n, n], rollout [layers, n, n])."""
    w = np.asarray(weights, dtype=np.float64)
    raw = w.mean(1)
    n = raw.shape[-1]
    eye = np.eye(n)
    out = np.empty_like(raw)
    acc = eye
    for layer in range(raw.shape[0]):
        a = (1 - residual) * raw[layer] + residual * eye
        a = a / a.sum(-1, keepdims=True)
        acc = a @ acc
        out[layer] = acc
    return raw.astype(np.float32), out.astype(np.float32)


def attention_rollout(lm: LoadedModel, text: str, cap: int = MAX_TOKENS) -> Rollout:
    result = extract(lm, text, "", cap)
    view = "encoder" if "encoder" in result.maps else "self"
    amap = result.maps[view]
    raw, roll = rollout_of(amap.weights)
    return Rollout(lm.spec.name, result.model_kind, view, list(amap.query_tokens), raw, roll,
                   amap.causal, result.notice)
