"""Attention extraction: run a model once with `output_attentions=True` and keep what a student
needs to look at, as plain numpy arrays with their tokens.

- Encoders (BERT, MiniLM): one self-attention map; a second text makes a sentence pair.
- Decoders (Llama/SmolLM2, GPT-2): one causal self-attention map over `text + target`; the
  boundary between the input and the continuation (e.g. generated tokens) is kept, so each
  generated token's attention over the input can be opened.
- Encoder-decoders (T5, BART, Marian): encoder self, decoder self and cross attention
  (decoder tokens x source tokens).

Weights need eager attention: with sdpa, transformers silently returns no
attentions, which is reported as a clear error instead of an empty picture.
The formula walkthrough that recomputes these weights lives in attention_walkthrough.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from models.core.errors import Notice, UserError
from models.core.manager import LoadedModel
from models.runners.generation import check_text
from models.runners.token_text import token_pieces

MAX_TOKENS = 512          # the longest input shown: MiniLM's limit; keeps n x n maps browsable
METRICS = ("entropy", "previous", "self", "first", "distance")


@dataclass(frozen=True)
class AttentionMap:
    """One family of attention weights.

    name     "self" (encoder-only / decoder-only), "encoder", "decoder" or "cross"
    kind     "self" or "cross"
    weights  float array [layers, heads, query, key]; each row sums to 1
    """
    name: str
    kind: str
    query_tokens: list
    key_tokens: list
    weights: np.ndarray
    causal: bool = False

    @property
    def layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def heads(self) -> int:
        return int(self.weights.shape[1])

    def head(self, layer: int, head: int) -> np.ndarray:
        """[query, key] weights of one head; a layer/head out of range is a UserError."""
        check_layer_head(layer, head, self.layers, self.heads)
        return np.asarray(self.weights[layer, head], dtype=np.float32)


@dataclass(frozen=True)
class Encoded:
    """Model inputs plus the tokens as a student should read them."""
    inputs: dict                      # tensors for model(**inputs)
    tokens: list                      # input (encoder / whole decoder sequence) tokens
    target_tokens: list | None        # seq2seq decoder tokens, else None
    boundary: int | None              # decoder: first continuation token; encoder pair: start of B
    notice: Notice | None = None      # set when the text was cut to fit


@dataclass(frozen=True)
class AttentionResult:
    model_key: str
    model_name: str
    model_kind: str                   # encoder | decoder | seq2seq
    maps: dict                        # name -> AttentionMap, in display order
    tokens: list
    target_tokens: list | None = None
    boundary: int | None = None
    notice: Notice | None = None
    kv_heads: int | None = None       # grouped-query attention: key/value heads (< heads)
    meta: dict = field(default_factory=dict)

    def get(self, name: str | None) -> AttentionMap:
        if not name or name not in self.maps:
            return next(iter(self.maps.values()))
        return self.maps[name]

    def compact(self) -> "AttentionResult":
        """A float16 copy (half the memory) for keeping per browser session."""
        maps = {k: replace(m, weights=m.weights.astype(np.float16)) for k, m in self.maps.items()}
        return replace(self, maps=maps)


def check_layer_head(layer, head, layers: int, heads: int) -> tuple[int, int]:
    try:
        layer, head = int(layer), int(head)
    except (TypeError, ValueError):
        raise UserError("att_bad_index", layers=layers - 1, heads=heads - 1) from None
    if not (0 <= layer < layers and 0 <= head < heads):
        raise UserError("att_bad_index", layers=layers - 1, heads=heads - 1, layer=layer,
                        head=head)
    return layer, head


def token_labels(tokenizer, ids) -> list[str]:
    """Readable strings for ids: each decoded alone (so byte-level BPE shows ' the', not 'Ġthe');
    a token that is only the first part of a character shows ◌ (models/runners/token_text.py)."""
    return token_pieces(tokenizer, ids)


def max_tokens(lm: LoadedModel, cap: int = MAX_TOKENS) -> int:
    return max(8, min(int(lm.max_length), cap))


def encode(lm: LoadedModel, text: str, target: str = "", cap: int = MAX_TOKENS) -> Encoded:
    """Tokenize for the model's kind, truncating to `cap` tokens with a notice."""
    text = check_text(text, "text")
    target = (target or "").strip()
    tok, kind, limit = lm.tokenizer, lm.spec.kind, max_tokens(lm, cap)
    dev = lm.device
    if kind == "seq2seq":
        src = tok(text, add_special_tokens=True)["input_ids"]
        tgt = tok(text_target=target, add_special_tokens=True)["input_ids"] if target else []
        start = lm.model.config.decoder_start_token_id
        if start is None:
            start = tok.pad_token_id or 0
        dec = [int(start)] + list(tgt)
        notice = _cut_notice(len(src), limit, "text") or _cut_notice(len(dec), limit, "target")
        src, dec = src[:limit], dec[:limit]
        inputs = {"input_ids": torch.tensor([src], device=dev),
                  "attention_mask": torch.ones(1, len(src), dtype=torch.long, device=dev),
                  "decoder_input_ids": torch.tensor([dec], device=dev)}
        return Encoded(inputs, token_labels(tok, src), token_labels(tok, dec), None, notice)
    if kind == "decoder":
        first = tok(text, add_special_tokens=True)["input_ids"]
        second = tok(" " + target if target and not target[0].isspace() else target,
                     add_special_tokens=False)["input_ids"] if target else []
        notice = _cut_notice(len(first) + len(second), limit, "text")
        if notice and second:
            # keep the continuation visible (it is what a student came to see): it gets up to
            # half the window, the input the rest
            second = second[: max(limit // 2, limit - len(first))]
            first = first[: limit - len(second)]
        ids = (list(first) + list(second))[:limit]
        boundary = len(first) if second and len(first) < len(ids) else None
        inputs = {"input_ids": torch.tensor([ids], device=dev),
                  "attention_mask": torch.ones(1, len(ids), dtype=torch.long, device=dev)}
        return Encoded(inputs, token_labels(tok, ids), None, boundary, notice)
    # encoder: one text or a sentence pair
    full = tok(text, target or None, add_special_tokens=True)["input_ids"]
    notice = _cut_notice(len(full), limit, "text")
    enc = tok(text, target or None, truncation=True, max_length=limit, return_tensors="pt")
    ids = enc["input_ids"][0].tolist()
    boundary = None
    if target and "token_type_ids" in enc:
        types = enc["token_type_ids"][0].tolist()
        boundary = types.index(1) if 1 in types else None
    inputs = {k: v.to(dev) for k, v in enc.items()}
    return Encoded(inputs, token_labels(tok, ids), None, boundary, notice)


def _cut_notice(n: int, limit: int, what: str) -> Notice | None:
    if n <= limit:
        return None
    return Notice(f"att_cut_{what}", n=n, limit=limit)


def _stack(attentions, what: str) -> np.ndarray:
    if not attentions or any(a is None for a in attentions):
        raise UserError("att_unavailable", what=what)
    return torch.stack([a[0] for a in attentions]).float().cpu().numpy()


def run_model(lm: LoadedModel, enc: Encoded, **kwargs):
    """One forward pass with attention weights (eager attention is asked for at load time)."""
    model = lm.model
    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        try:
            model.set_attn_implementation("eager")
        except Exception:  # noqa: BLE001  (models that cannot switch report no weights below)
            pass
    with torch.inference_mode():
        return model(**enc.inputs, output_attentions=True, **kwargs)


def extract(lm: LoadedModel, text: str, target: str = "", cap: int = MAX_TOKENS) -> AttentionResult:
    """All attention weights of `lm` for `text` (and `target`, see module docstring)."""
    enc = encode(lm, text, target, cap)
    out = run_model(lm, enc)
    kind, toks = lm.spec.kind, enc.tokens
    if kind == "seq2seq":
        tgt = enc.target_tokens
        maps = {
            "cross": AttentionMap("cross", "cross", tgt, toks, _stack(out.cross_attentions, "cross")),
            "encoder": AttentionMap("encoder", "self", toks, toks,
                                    _stack(out.encoder_attentions, "encoder")),
            "decoder": AttentionMap("decoder", "self", tgt, tgt,
                                    _stack(out.decoder_attentions, "decoder"), causal=True),
        }
    else:
        maps = {"self": AttentionMap("self", "self", toks, toks, _stack(out.attentions, "self"),
                                     causal=kind == "decoder")}
    cfg = lm.model.config
    heads = next(iter(maps.values())).heads
    kv = getattr(cfg, "num_key_value_heads", None)
    return AttentionResult(lm.spec.key, lm.spec.name, kind, maps, toks, enc.target_tokens,
                           enc.boundary, enc.notice, kv if kv and kv < heads else None,
                           {"model_type": getattr(cfg, "model_type", "")})


# ---- per-head summaries for the overview grid ----------------------------------------------
def head_summary(amap: AttentionMap, metric: str) -> np.ndarray:
    """[layers, heads] one number per head, to spot head types at a glance.

    entropy   mean over queries of the row entropy, in bits (low: sharp, high: spread out)
    previous  mean weight on the token just before the query (a "previous token" head)
    self      mean weight on the query's own position
    first     mean weight on the first key ([CLS] / BOS: a common "resting place")
    distance  mean |query - key| distance weighted by attention, in tokens
    """
    w = np.asarray(amap.weights, dtype=np.float32)
    q, k = w.shape[-2], w.shape[-1]
    if metric == "entropy":
        return -(w * np.log2(np.clip(w, 1e-12, 1))).sum(-1).mean(-1)
    if metric == "first":
        return w[..., :, 0].mean(-1)
    if amap.kind == "cross":  # query and key positions are in different texts
        if metric == "distance":
            pos = np.arange(k, dtype=np.float32)
            return (w * pos).sum(-1).mean(-1)
        raise UserError("att_bad_metric", choices="entropy, first, distance", metric=metric)
    n = min(q, k)
    if metric == "self":
        idx = np.arange(n)
        return w[..., idx, idx].mean(-1)
    if metric == "previous":
        if n < 2:
            return np.zeros(w.shape[:2], dtype=np.float32)
        idx = np.arange(1, n)
        return w[..., idx, idx - 1].mean(-1)
    if metric == "distance":
        dist = np.abs(np.arange(q)[:, None] - np.arange(k)[None, :]).astype(np.float32)
        return (w * dist).sum(-1).mean(-1)
    raise UserError("att_bad_metric", choices=", ".join(METRICS), metric=metric)


def head_csv(amap: AttentionMap, layer: int, head: int, decimals: int = 6) -> str:
    """The [query, key] matrix of one head as CSV: first row key tokens, first column queries."""
    import csv
    import io
    m = amap.head(layer, head)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["query \\ key"] + [f"{j}:{t}" for j, t in enumerate(amap.key_tokens)])
    for i, tokq in enumerate(amap.query_tokens):
        writer.writerow([f"{i}:{tokq}"] + [f"{v:.{decimals}f}" for v in m[i]])
    return buf.getvalue()


# ---- what a browser session keeps between a run and its redraws ---------------------------------
def result_bytes(result: AttentionResult) -> int:
    """Memory held by a result's weights (the tokens and metadata are small beside them)."""
    return int(sum(m.weights.nbytes for m in result.maps.values()))


@dataclass
class _Kept:
    owner: str
    result: AttentionResult
    nbytes: int
    reservation: object = None          # the manager's reserve() context, open while kept


class ViewStore:
    """Attention results kept on the server for the sliders, the overview, the CSV and bertviz,
    so a session holds only a handle (webapp/tabs/attention.py keeps the handle in gr.State).

    Bounded two ways: each owner (a classroom login, or one browser session outside a class)
    keeps at most `per_owner` results, and all together at most `cap_bytes`; the least
    recently used go first. What is kept is counted against the model manager's memory
    budget (`manager.reserve`), so models and kept views share one budget: a view that does
    not fit beside the models in use is refused with the manager's message, after the store
    has let go of its own older views. A handle whose result was let go answers None from
    `get` (the tab then asks for a new run)."""

    LABEL = "attention views"

    def __init__(self, manager=None, cap_bytes: int | None = None, per_owner: int = 2):
        import threading
        from collections import OrderedDict
        budget = getattr(manager, "budget_bytes", 0) or 0
        self.manager = manager
        self.cap_bytes = int(cap_bytes if cap_bytes is not None else
                             (budget // 4 if budget else 2 * 1024 ** 3))
        self.per_owner = max(1, int(per_owner))
        self._lock = threading.Lock()
        self._kept: "OrderedDict[str, _Kept]" = OrderedDict()
        self.evicted = 0                # results let go to make room (for the bench and tests)

    # ---- keeping ---------------------------------------------------------------------------
    def put(self, owner: str, result: AttentionResult) -> str:
        """Keep `result` for `owner`; returns its handle."""
        import uuid
        nbytes = result_bytes(result)
        handle = f"att-{uuid.uuid4().hex}"
        with self._lock:
            mine = [h for h, k in self._kept.items() if k.owner == owner]
            for old in mine[: max(0, len(mine) - self.per_owner + 1)]:
                self._drop(old)
            while self._kept and self._total() + nbytes > self.cap_bytes:
                self._drop(next(iter(self._kept)))
            reservation = self._reserve(nbytes)
            self._kept[handle] = _Kept(owner, result, nbytes, reservation)
        return handle

    def _reserve(self, nbytes: int):
        if self.manager is None or not hasattr(self.manager, "reserve"):
            return None
        while True:
            reservation = self.manager.reserve(nbytes, self.LABEL, "an attention view")
            try:
                reservation.__enter__()
                return reservation
            except UserError as exc:
                if exc.code != "budget_busy" or not self._kept:
                    raise
                self._drop(next(iter(self._kept)))      # our own oldest view, then try again

    def _drop(self, handle: str) -> None:
        kept = self._kept.pop(handle, None)
        if kept is None:
            return
        self.evicted += 1
        if kept.reservation is not None:
            kept.reservation.__exit__(None, None, None)

    def _total(self) -> int:
        return sum(k.nbytes for k in self._kept.values())

    # ---- reading -----------------------------------------------------------------------------
    def get(self, handle: str | None, owner: str | None = None) -> AttentionResult | None:
        """The kept result (marked as just used), or None when it was let go. Another owner's
        handle answers None too."""
        with self._lock:
            kept = self._kept.get(handle or "")
            if kept is None or (owner is not None and kept.owner != owner):
                return None
            self._kept.move_to_end(handle)
            return kept.result

    def drop_owner(self, owner: str) -> None:
        with self._lock:
            for handle in [h for h, k in self._kept.items() if k.owner == owner]:
                self._drop(handle)

    def total_bytes(self) -> int:
        with self._lock:
            return self._total()

    def bytes_by_owner(self) -> dict[str, int]:
        with self._lock:
            out: dict[str, int] = {}
            for kept in self._kept.values():
                out[kept.owner] = out.get(kept.owner, 0) + kept.nbytes
            return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)
