"""What one request may allocate, known before it allocates it.

The manager's memory budget (`--memory-budget`, models/core/manager.py) bounds the models held in
memory; this file bounds what a single request adds on top of them, so that no input — a
20,000-character paste, a million characters through the API — can grow the server past what
the machine has. Every forward pass of a request is sized here first, from the model's shape
alone (no tensor is made):

    key/value cache     rows × (past + new) × 2 · layers · kv_heads · head_dim · bytes
    attention scores    rows × heads × new × (past + new) × 4 bytes, three times (scores,
                        softmax, the weighted sum's input), and the mask, for one layer at a time
                        (eager attention keeps every pair); with grouped-query attention, one
                        layer's keys and values repeated for every query head
    activations         rows × new × (4 · hidden + 2 · intermediate) × 4 bytes, one layer at a time
    logits              rows × kept × vocabulary × 4 bytes, twice (logits, their log-softmax)

and the runner either reads the input in pieces that fit the request's share (`pieces_that_fit`)
or refuses it before starting with the sizes and the limit (`UserError("request_too_big")`).

A request's share is `REQUEST_SHARE` of the budget, between `MIN_REQUEST` and `MAX_REQUEST`:
a class of students asks at once, and the device takes one request at a time
(models/core/scheduler.py), so a few requests' worth beside the models is what must fit.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.core.device import format_bytes
from models.core.errors import UserError

REQUEST_SHARE = 8                 # a request may use 1/8 of the memory budget ...
MIN_REQUEST = 256 * 2**20         # ... but at least 256 MiB: a 512-token chunk of any packaged model
MAX_REQUEST = 2 * 2**30           # ... and at most 2 GiB: more buys no speed on a CPU


def request_bytes(budget_bytes: int) -> int:
    """The most one request may allocate beside the loaded models."""
    return int(min(MAX_REQUEST, max(MIN_REQUEST, budget_bytes // REQUEST_SHARE)))


@dataclass(frozen=True)
class ForwardShape:
    """The sizes of a model that decide what a forward pass allocates."""
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    intermediate: int
    vocab: int
    dtype_bytes: int

    @property
    def kv_per_token(self) -> int:
        """Bytes of key/value cache per token of context (all layers)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes


def _first(cfg, *names, default: int = 0) -> int:
    for name in names:
        value = getattr(cfg, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return default


def forward_shape(model) -> ForwardShape:
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    layers = _first(cfg, "num_hidden_layers", "n_layer", "num_layers", default=1)
    heads = _first(cfg, "num_attention_heads", "n_head", "num_heads", default=1)
    hidden = _first(cfg, "hidden_size", "n_embd", "d_model", default=1)
    head_dim = _first(cfg, "head_dim", default=max(1, hidden // heads))
    kv_heads = _first(cfg, "num_key_value_heads", default=heads)
    inter = _first(cfg, "intermediate_size", "n_inner", "d_ff", "ffn_dim", default=4 * hidden)
    vocab = _first(cfg, "vocab_size", default=1)
    try:
        dtype_bytes = next(model.parameters()).element_size()
    except (StopIteration, AttributeError):
        dtype_bytes = 4
    return ForwardShape(layers, heads, kv_heads, head_dim, hidden, inter, vocab, dtype_bytes)


def forward_bytes(shape: ForwardShape, rows: int, new: int, past: int = 0, kept: int | None = None,
                  cache: bool = True) -> int:
    """Peak bytes a forward pass of `rows` × `new` tokens after `past` cached ones allocates,
    with the logits of `kept` positions per row (None: all `new`). See the module docstring."""
    total_len = past + new
    kv = rows * total_len * shape.kv_per_token if cache else 0
    # one layer's keys and values repeated for every query head (grouped-query attention)
    repeated = 2 * rows * shape.heads * total_len * shape.head_dim * 4 \
        if shape.kv_heads < shape.heads else 0
    scores = 3 * rows * shape.heads * new * total_len * 4 + rows * new * total_len * 4   # + mask
    acts = rows * new * (4 * shape.hidden + 2 * shape.intermediate) * 4
    logits = 2 * rows * (new if kept is None else kept) * shape.vocab * 4
    return kv + repeated + scores + acts + logits


def pieces_that_fit(shape: ForwardShape, limit: int, width: int, past: int, most_rows: int) -> tuple[int, int]:
    """(rows, columns): how many continuations of `width` tokens after a shared `past` to read
    side by side, and how many of their tokens per forward pass, within `limit` bytes (each row
    keeps its own cache of past + width tokens). The columns shrink before the rows go under
    one; a request that does not fit even as one row of one token is refused."""
    width = max(1, int(width))
    cols = min(width, 512)
    while cols > 16 and forward_bytes(shape, 1, cols, past + width - cols) > limit:
        cols //= 2
    one = forward_bytes(shape, 1, cols, past + width - cols)
    if one > limit:
        raise too_big(one, limit, past + width)
    rows = max(1, min(int(most_rows), limit // one))
    return rows, cols


def prompt_chunk(shape: ForwardShape, limit: int, total: int, chunk: int = 512) -> int:
    """The most tokens of a `total`-token prompt to read in one forward pass within `limit`
    (the cache of all `total` tokens included); refused when not even 16 tokens fit."""
    chunk = max(1, min(int(chunk), int(total)))
    while chunk > 16 and forward_bytes(shape, 1, chunk, total - chunk, kept=1) > limit:
        chunk //= 2
    need = forward_bytes(shape, 1, chunk, total - chunk, kept=1)
    if need > limit:
        raise too_big(need, limit, total)
    return chunk


def too_big(need: int, limit: int, tokens: int) -> UserError:
    return UserError("request_too_big", need=format_bytes(need), limit=format_bytes(limit),
                     tokens=int(tokens))
