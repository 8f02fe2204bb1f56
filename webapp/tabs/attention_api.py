"""Scriptable endpoints of the Attention lab and the walkthrough's LaTeX text.

    /attention             (model, text, target, layer, head, view, lang) -> tokens + one head's
                            matrix
    /attention_walkthrough (model, text, target, view, layer, head, query, lang)
                            -> every step for the query token + the verification difference

Both are plain-typed gr.api endpoints (JSON in, JSON out), share the device concurrency group,
and never return the whole layers x heads x n x n tensor.
"""
from __future__ import annotations

import math

import gradio as gr
import numpy as np

from models.runners.attention import extract
from models.runners.walkthrough import walkthrough

from webapp.views.attention import md_token
from webapp.common import HEAVY, friendly
from webapp.i18n import render, t

DECIMALS = 5


def _round(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), DECIMALS).tolist()


def register_api(manager) -> None:
    """Add /attention and /attention_walkthrough to the current Blocks."""

    @friendly
    def attention(model: str, text: str, target: str = "", layer: int = 0, head: int = 0,
                  view: str = "", lang: str = "en") -> dict:
        """Attention weights of one layer and head. view: self (encoders, decoders) or
        encoder / decoder / cross (encoder-decoders; default cross). Returns the tokens, the
        [query, key] matrix (rows sum to 1) and the model's shape."""
        with manager.use((model or "").strip()) as lm, manager.guard():
            result = extract(lm, text, target)
        amap = result.get(view)
        m = amap.head(layer, head)
        return {"model": result.model_key, "kind": result.model_kind, "view": amap.name,
                "views": list(result.maps), "layers": amap.layers, "heads": amap.heads,
                "kv_heads": result.kv_heads, "layer": int(layer), "head": int(head),
                "query_tokens": list(amap.query_tokens), "key_tokens": list(amap.key_tokens),
                "boundary": result.boundary,
                "notice": render(result.notice, lang) if result.notice else None,
                "weights": _round(m)}

    @friendly
    def attention_walkthrough(model: str, text: str, target: str = "", view: str = "",
                              layer: int = 0, head: int = 0, query: int = 0,
                              lang: str = "en") -> dict:
        """softmax(QKᵀ/√d_k + M)V recomputed from the model's weights for one head; each step
        is given for the query token (its row), with the step's full shape, and
        max_abs_diff compares the recomputed weights of the whole head with the model's."""
        with manager.use((model or "").strip()) as lm, manager.guard():
            w = walkthrough(lm, text, target, view or "self", layer, head, query)
        steps = []
        for s in w.steps:
            row = s.values[w.query_index] if s.values.ndim == 2 else s.values
            steps.append({"step": s.key, "latex": s.latex, "shape": list(s.shape),
                          "query_row": [None if not math.isfinite(v) else v for v in _round(row)]})
        return {"model": w.model_name, "family": w.family, "view": w.component,
                "layer": w.layer, "head": w.head, "kv_head": w.kv_head, "heads": w.n_heads,
                "kv_heads": w.n_kv_heads, "head_dim": w.head_dim, "scale": w.scale,
                "rope": w.rope, "position_bias": w.position_bias, "causal": w.causal,
                "query": w.query_index, "query_token": w.query_token,
                "key_tokens": list(w.key_tokens), "steps": steps,
                "max_abs_diff": w.max_abs_diff, "verified": w.max_abs_diff < 1e-4,
                "dtype": w.dtype}

    gr.api(attention, api_name="attention", **HEAVY)
    gr.api(attention_walkthrough, api_name="attention_walkthrough", **HEAVY)


def _top(values: np.ndarray, tokens: list, k: int = 3) -> str:
    v = np.where(np.isfinite(values), values, -np.inf)
    order = np.argsort(-v)[:k]
    return ", ".join(f"{md_token(tokens[j])} ({values[j]:.3f})" for j in order
                     if np.isfinite(values[j]))


def walk_markdown(w, lang: str) -> str:
    """Each step as a sentence plus its LaTeX, for the chosen query token."""
    i, n_q, n_k, d = w.query_index, len(w.query_tokens), len(w.key_tokens), w.head_dim
    d_model = w.step("x").shape[-1]
    tok = md_token(w.query_token)
    out = [t("att.walk.head", lang, layer=w.layer, head=w.head, i=i, tok=tok, view=w.component),
           t("att.walk.x", lang, n=n_q, dm=d_model),
           t("att.walk.qkv", lang, n=n_q, m=n_k, dm=d_model, d=d, h=w.head, g=w.kv_head)]
    if w.n_kv_heads < w.n_heads:
        out.append(t("att.walk.gqa", lang, heads=w.n_heads, kv=w.n_kv_heads, h=w.head,
                     g=w.kv_head, group=w.n_heads // w.n_kv_heads))
    if w.rope:
        out.append(t("att.walk.rope", lang, d=d))
    scores = w.step("scores").values[i]
    out.append(t("att.walk.scores", lang, n=n_q, m=n_k, top=_top(scores, w.key_tokens)))
    if w.family == "t5":
        out.append(t("att.walk.t5", lang, bias=t("att.walk.t5_bias", lang) if w.position_bias
                     else t("att.walk.t5_nobias", lang)))
    else:
        out.append(t("att.walk.scale", lang, d=d, sq=f"{math.sqrt(d):g}", s=f"{w.scale:.5g}"))
    out.append(t("att.walk.mask_causal" if w.causal else "att.walk.mask_none", lang, n=n_q, m=n_k))
    out.append(t("att.walk.softmax", lang, top=_top(w.recomputed[i], w.key_tokens),
                 total=f"{float(w.recomputed[i].sum()):.4f}"))
    out.append(t("att.walk.output", lang, d=d))
    if w.notice:
        out.append("⚠️ " + md_token(render(w.notice, lang)))
    return "\n\n".join(out)
