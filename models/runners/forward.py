"""Forward passes of a decoder LM in pieces that fit a request's memory (models/core/budget.py).

- `read_prompt`: a prompt read into a key/value cache in chunks, only the last position's
  logits kept (a 5,000-token prompt's full logits alone are ~1 GB for SmolLM2's vocabulary).
- `continuation_logprobs`: the log-probability of each token of many continuations of one
  prompt, read side by side against the prompt's cache *without copying it* (every row sees
  the same cached tensors through `expand`; only the rows' own tokens are new memory), a few
  rows and a few hundred columns at a time as the budget allows, keeping per position only the
  numbers asked for (the token's log-probability, the log-probability of a set of tokens next),
  never the logits of the whole batch.

Used by the span answers and extractive summaries (models/runners/applications/span.py) and the
chunked prefill of streamed generation (models/runners/generation.py).
"""
from __future__ import annotations

import copy
import inspect
import threading
from dataclasses import dataclass
from typing import Callable

import torch
from transformers import DynamicCache

from models.core.budget import forward_shape, pieces_that_fit, prompt_chunk

MOST_ROWS = 8           # continuations read side by side at most (more buys no speed on a CPU,
                        # and each row holds its own copy of the context's cache)


def cache_argument(model) -> str | None:
    """The name under which the model takes a key/value cache ("cache" since transformers 5.2x,
    "past_key_values" before), or None."""
    params = inspect.signature(model.forward).parameters
    for name in ("cache", "past_key_values"):
        if name in params:
            return name
    return None


def keep_last(model, n: int = 1) -> dict:
    """`logits_to_keep=n` where the model takes it: the logits of the last n positions only."""
    return {"logits_to_keep": n} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}


@dataclass
class ReadPrompt:
    cache: DynamicCache
    last_logits: torch.Tensor | None     # [vocab] float32 at the prompt's last token (None if stopped)
    tokens: int                          # how many tokens the cache holds


def read_prompt(lm, ids: list[int] | torch.Tensor, upto: int | None = None,
                stop: threading.Event | None = None,
                report: Callable[[int, int], None] | None = None, chunk: int = 512) -> ReadPrompt:
    """Read `ids[:upto]` (default: all) into a fresh cache, `chunk` tokens per forward pass or
    fewer when the request's memory asks (models/core/budget.py `prompt_chunk`), reporting
    `report(done, total)` after each pass and returning early when `stop` is set."""
    model = lm.model
    ids = torch.as_tensor(ids, device=lm.device).reshape(1, -1)
    total = int(ids.shape[1])
    upto = total if upto is None else int(upto)
    chunk = prompt_chunk(forward_shape(model), lm.request_bytes, total, chunk)
    name = cache_argument(model)
    cache = DynamicCache(config=model.config)
    extra = keep_last(model)
    logits = None
    with torch.inference_mode():
        for start in range(0, upto, chunk):
            if stop is not None and stop.is_set():
                return ReadPrompt(cache, None, start)
            end = min(start + chunk, upto)
            out = model(input_ids=ids[:, start:end], use_cache=True,
                        attention_mask=torch.ones(1, end, dtype=torch.long, device=lm.device),
                        **{name: cache}, **extra)
            logits = out.logits[0, -1].float()
            if report is not None:
                report(end, total)
    return ReadPrompt(cache, logits, upto)


def shared_rows(cache: DynamicCache, rows: int) -> DynamicCache:
    """A cache that shows `cache`'s tensors to `rows` rows without copying them: each layer's
    keys and values are `expand`ed views. The model's update concatenates new keys after them
    into new tensors, so the prompt's cache is never changed and can serve the next group."""
    out = copy.copy(cache)
    out.layers = []
    for layer in cache.layers:
        view = copy.copy(layer)
        if getattr(layer, "is_initialized", False) and getattr(layer, "keys", None) is not None \
                and layer.keys.numel():
            view.keys = layer.keys.expand(rows, *layer.keys.shape[1:])
            view.values = layer.values.expand(rows, *layer.values.shape[1:])
        out.layers.append(view)
    return out


@dataclass
class Scored:
    token_logp: list[float]          # log P(token j | prompt + tokens before j)
    next_logp: list[float] | None    # log P(one of `next_ids` | prompt + tokens up to j)


def continuation_logprobs(lm, prompt: ReadPrompt, conts: list[list[int]],
                          next_ids: list[int] | None = None) -> list[Scored]:
    """For every continuation (token ids) of the prompt read into `prompt`, the log-probability
    of each of its tokens and, with `next_ids`, of any of those tokens coming after each of its
    tokens. Reads as many rows and columns per forward pass as the request's memory allows
    (models/core/budget.py `pieces_that_fit`); refuses with `request_too_big` when not even one
    row of 16 tokens fits."""
    model, dev = lm.model, lm.device
    first = torch.log_softmax(prompt.last_logits, -1)
    name = cache_argument(model)
    shape = forward_shape(model)
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else lm.tokenizer.eos_token_id
    nxt = torch.tensor(sorted(set(next_ids)), device=dev) if next_ids else None
    out: list[Scored | None] = [None] * len(conts)
    order = sorted(range(len(conts)), key=lambda i: len(conts[i]))   # like lengths together
    i = 0
    while i < len(order):
        width = max(1, len(conts[order[i]]))
        rows, cols = pieces_that_fit(shape, lm.request_bytes, width, prompt.tokens, MOST_ROWS)
        group = order[i:i + rows]
        width = max(1, max(len(conts[k]) for k in group))     # the longest row of the group
        rows, cols = pieces_that_fit(shape, lm.request_bytes, width, prompt.tokens, len(group))
        group = group[:rows]
        batch = torch.tensor([conts[k] + [pad] * (width - len(conts[k])) for k in group], device=dev)
        cache = shared_rows(prompt.cache, len(group))
        tok_lp = torch.empty(len(group), width)
        nxt_lp = torch.empty(len(group), width) if nxt is not None else None
        with torch.inference_mode():
            for a in range(0, width, cols):
                b = min(a + cols, width)
                mask = torch.ones(len(group), prompt.tokens + b, dtype=torch.long, device=dev)
                logits = model(input_ids=batch[:, a:b], attention_mask=mask, use_cache=True,
                               **{name: cache}).logits.float()          # [rows, b - a, vocab]
                norm = torch.logsumexp(logits, -1)                       # [rows, b - a]
                if nxt_lp is not None:
                    nxt_lp[:, a:b] = (torch.logsumexp(logits[..., nxt], -1) - norm).cpu()
                # the token at j + 1 is read from position j; the token at a from the position before
                if b < width:
                    target = batch[:, a + 1:b + 1]
                    tok_lp[:, a + 1:b + 1] = (logits.gather(-1, target[..., None])[..., 0] - norm).cpu()
                else:
                    target = batch[:, a + 1:b]
                    tok_lp[:, a + 1:b] = (logits[:, :-1].gather(-1, target[..., None])[..., 0]
                                          - norm[:, :-1]).cpu()
                del logits, norm
        tok_lp[:, 0] = first[batch[:, 0]].cpu()
        for row, k in enumerate(group):
            n = len(conts[k])
            out[k] = Scored(tok_lp[row, :n].tolist(),
                            nxt_lp[row, :n].tolist() if nxt_lp is not None else None)
        i += len(group)
    return out
