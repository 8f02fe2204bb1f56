"""The formula walkthrough: recompute one head's attention from the model's own weights and
check it against the weights the model itself returned.

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V          (Vaswani et al., 2017)

Steps, for one layer, one head and one query token:
  X            hidden states entering the attention module (captured with a forward pre-hook,
               so it is exactly what the layer saw: after the layer norm for pre-norm models)
  Q, K, V      X W_Q, X W_K, X W_V for this head (+ bias where the model has one)
  RoPE         Llama-style models rotate q and k by an angle proportional to the position,
               using the model's own inv_freq buffer
  GQA          with grouped-query attention, query head h reads key/value head h // (H / H_kv)
  QKᵀ          raw scores
  / √d_k       scaling (T5 does not scale: its initialization absorbs it; it adds a learned
               relative-position bias instead, from the first layer's bias table)
  + M          mask: causal (−∞ above the diagonal) for decoders; no padding in one text
  softmax      the weights; compared with the model's returned weights for the whole head
  · V          this head's output for the query token

Supported families: BERT-like (BERT, MiniLM, RoBERTa), Llama-like (Llama, SmolLM2, Qwen2,
Mistral), GPT-2, T5 (encoder, decoder, cross) and BART/Marian-style encoder-decoders.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from models.runners.attention import MAX_TOKENS, check_layer_head, encode, run_model
from models.core.errors import Notice, UserError
from models.core.families import family_of
from models.core.manager import LoadedModel


@dataclass(frozen=True)
class Step:
    """One stage of the formula. `values` is a matrix [rows, cols] or a vector (the query row)."""
    key: str          # x | q | k | v | rope | scores | scaled | bias | masked | softmax | output
    latex: str
    shape: tuple
    values: np.ndarray


@dataclass(frozen=True)
class Walkthrough:
    model_name: str
    family: str                  # bert | llama | gpt2 | t5 | bart
    component: str               # self | encoder | decoder | cross
    layer: int
    head: int
    kv_head: int                 # key/value head this query head reads (== head without GQA)
    n_heads: int
    n_kv_heads: int
    head_dim: int
    query_index: int
    query_tokens: list
    key_tokens: list
    scale: float                 # multiplier applied to QKᵀ (1/√d_k, or 1.0 for T5)
    rope: bool
    position_bias: bool
    causal: bool
    steps: list
    recomputed: np.ndarray       # [query, key] weights of this head, from the formula
    returned: np.ndarray         # [query, key] weights the model returned
    max_abs_diff: float
    dtype: str
    notice: Notice | None = None

    @property
    def query_token(self) -> str:
        return self.query_tokens[self.query_index]

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


# ---- finding the attention module of a layer -----------------------------------------------
def _locate(model, component: str, layer: int):
    """(attention module picker, layout, layers) for a component of a model. The layout comes
    from the model's family (models/core/families.py `attention`)."""
    fam = family_of(model.config)
    layout = fam.attention if fam else ""
    base = model.base_model
    if layout in ("t5", "bart") and hasattr(base, "encoder") and hasattr(base, "decoder"):
        stack = base.decoder if component in ("decoder", "cross") else base.encoder
        if layout == "t5":
            pick = {"encoder": lambda b: b.layer[0].SelfAttention,
                    "decoder": lambda b: b.layer[0].SelfAttention,
                    "cross": lambda b: b.layer[1].EncDecAttention}[component]
            return pick, layout, stack.block
        pick = (lambda b: b.encoder_attn) if component == "cross" else (lambda b: b.self_attn)
        return pick, layout, stack.layers
    if layout == "bert":
        return (lambda b: b.attention.self), layout, base.encoder.layer
    if layout == "llama":
        return (lambda b: b.self_attn), layout, base.layers
    if layout == "gpt2":
        return (lambda b: b.attn), layout, base.h
    raise UserError("att_walk_unsupported", model_type=getattr(model.config, "model_type", "?"))


def _split(t: torch.Tensor, d: int) -> torch.Tensor:
    """[n, heads*d] -> [heads, n, d]"""
    return t.reshape(t.shape[0], -1, d).transpose(0, 1)


def _project(mod, family: str, x: torch.Tensor, kv: torch.Tensor):
    """(Q [H, n, d], K [Hkv, m, d], V [Hkv, m, d], d, H, Hkv, scale) from the module's weights."""
    if family == "bert":
        d = mod.attention_head_size
        q, k, v = mod.query(x), mod.key(kv), mod.value(kv)
    elif family == "gpt2":
        d = mod.head_dim
        if kv is not x and hasattr(mod, "q_attn"):
            q = mod.q_attn(x)
            k, v = mod.c_attn(kv).split(mod.split_size, dim=-1)
        else:
            q, k, v = mod.c_attn(x).split(mod.split_size, dim=-1)
    elif family == "t5":
        d = mod.key_value_proj_dim
        q, k, v = mod.q(x), mod.k(kv), mod.v(kv)
    else:  # llama, bart: q_proj / k_proj / v_proj
        d = mod.head_dim
        q, k, v = mod.q_proj(x), mod.k_proj(kv), mod.v_proj(kv)
    q, k, v = _split(q, d), _split(k, d), _split(v, d)
    scale = float(getattr(mod, "scaling", d ** -0.5))
    return q, k, v, d, q.shape[0], k.shape[0], scale


def _rope(base, q: torch.Tensor, k: torch.Tensor):
    """Rotary positions as Llama applies them, from the model's own inv_freq buffer."""
    rot = base.rotary_emb
    pos_q = torch.arange(q.shape[-2], device=q.device, dtype=torch.float32)
    pos_k = torch.arange(k.shape[-2], device=k.device, dtype=torch.float32)

    def cos_sin(pos):
        freqs = pos[:, None] * rot.inv_freq.float()[None, :]        # [n, d/2] angles
        emb = torch.cat((freqs, freqs), dim=-1)                     # [n, d]
        scaling = float(getattr(rot, "attention_scaling", 1.0))
        return emb.cos() * scaling, emb.sin() * scaling

    def rotate_half(t):
        half = t.shape[-1] // 2
        return torch.cat((-t[..., half:], t[..., :half]), dim=-1)

    cq, sq = cos_sin(pos_q)
    ck, sk = cos_sin(pos_k)
    return q * cq + rotate_half(q) * sq, k * ck + rotate_half(k) * sk


def _t5_bias(model, component: str, n_q: int, n_k: int) -> torch.Tensor | None:
    """T5's learned relative-position bias [heads, q, k] (layer 0 owns the table, every layer
    reuses it); cross attention has none."""
    if component == "cross":
        return None
    base = model.base_model
    stack = base.decoder if component == "decoder" else base.encoder
    first = stack.block[0].layer[0].SelfAttention
    return first.compute_bias(n_q, n_k)[0].float()


def _returned(out, component: str):
    attn = {"self": getattr(out, "attentions", None),
            "encoder": getattr(out, "encoder_attentions", None),
            "decoder": getattr(out, "decoder_attentions", None),
            "cross": getattr(out, "cross_attentions", None)}.get(component)
    if not attn:
        raise UserError("att_unavailable", what=component)
    return attn


def walkthrough(lm: LoadedModel, text: str, target: str = "", component: str = "self",
                layer: int = 0, head: int = 0, query: int = 0,
                cap: int = MAX_TOKENS) -> Walkthrough:
    """Recompute the weights of (layer, head) step by step; see the module docstring."""
    model, kind = lm.model, lm.spec.kind
    valid = ("encoder", "decoder", "cross") if kind == "seq2seq" else ("self",)
    if component not in valid:
        component = valid[0]
    pick, family, blocks = _locate(model, component, 0)
    layer, head = check_layer_head(layer, head, len(blocks), _n_heads(model))
    enc = encode(lm, text, target, cap)
    module = pick(blocks[layer])
    captured: dict = {}

    def hook(_mod, args, kwargs):
        captured["x"] = args[0] if args else kwargs.get("hidden_states")
        captured["kv"] = kwargs.get("key_value_states", kwargs.get("encoder_hidden_states"))

    handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        out = run_model(lm, enc)
    finally:
        handle.remove()
    returned_raw = _returned(out, component)[layer][0]                    # [H, q, k]
    returned_all = returned_raw.float()

    with torch.inference_mode():
        x = captured["x"][0].float()
        kv_src = captured.get("kv")
        kv = kv_src[0].float() if kv_src is not None and component == "cross" else x
        # recompute in float32; a half-precision model gets a float32 copy of this one module
        # (never converted in place: the shared model keeps serving other requests)
        mod32 = (copy.deepcopy(module).float()
                 if next(module.parameters()).dtype != torch.float32 else module)
        q, k, v, d, n_heads, n_kv, scale = _project(mod32, family, x, kv)
        group = max(1, n_heads // n_kv)
        kvh = head // group
        qh, kh, vh = q[head], k[kvh], v[kvh]
        steps = [Step("x", r"X", tuple(x.shape), _np(x)),
                 Step("q", r"Q^{(h)} = X\,W_Q^{(h)}", tuple(qh.shape), _np(qh)),
                 Step("k", r"K^{(g)} = X\,W_K^{(g)}", tuple(kh.shape), _np(kh)),
                 Step("v", r"V^{(g)} = X\,W_V^{(g)}", tuple(vh.shape), _np(vh))]
        fam = family_of(model.config)
        rope = bool(fam and fam.rope)
        if rope:
            qh, kh = _rope(model.base_model, qh, kh)
            steps.append(Step("rope", r"\tilde q_i = R_{\theta,i}\, q_i,\quad \tilde k_j = "
                              r"R_{\theta,j}\, k_j", tuple(qh.shape), _np(qh)))
        n_q, n_k = qh.shape[0], kh.shape[0]
        scores = qh @ kh.T                                                 # [q, k]
        steps.append(Step("scores", r"S = Q K^\top", (n_q, n_k), _np(scores)))
        scaled = scores * scale
        if fam is None or fam.scaled:
            steps.append(Step("scaled", r"S' = S / \sqrt{d_k}", (n_q, n_k), _np(scaled)))
        bias = _t5_bias(model, component, n_q, n_k) if family == "t5" else None
        if bias is not None:
            scaled = scaled + bias[head]
            steps.append(Step("bias", r"S' = S + B_{\mathrm{rel}}", (n_q, n_k), _np(scaled)))
        causal = component in ("decoder",) or (component == "self" and kind == "decoder")
        mask = torch.zeros(n_q, n_k)
        if causal:
            mask = torch.triu(torch.full((n_q, n_k), float("-inf")), diagonal=1)
        masked = scaled + mask.to(scaled.device)
        steps.append(Step("masked", r"S'' = S' + M", (n_q, n_k), _np(masked)))
        weights = torch.softmax(masked, dim=-1)
        steps.append(Step("softmax", r"A = \mathrm{softmax}(S'')", (n_q, n_k), _np(weights)))
        output = weights @ vh
        steps.append(Step("output", r"o_i = \sum_j A_{ij}\, v_j", tuple(output.shape), _np(output)))
        returned = returned_all[head]
        diff = float((weights - returned).abs().max())
    query_tokens = enc.target_tokens if component in ("decoder", "cross") else enc.tokens
    key_tokens = enc.target_tokens if component == "decoder" else enc.tokens
    query = int(query) if query is not None else 0
    if not 0 <= query < n_q:
        raise UserError("att_bad_query", last=n_q - 1, query=query)
    return Walkthrough(lm.spec.name, family, component, layer, head, kvh, n_heads, n_kv, d, query,
                       list(query_tokens), list(key_tokens), scale, rope, bias is not None,
                       causal, steps, _np(weights), _np(returned), diff,
                       str(returned_raw.dtype).replace("torch.", ""), enc.notice)


def _n_heads(model) -> int:
    cfg = model.config
    for name in ("num_attention_heads", "num_heads", "n_head", "encoder_attention_heads"):
        value = getattr(cfg, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 1


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()
