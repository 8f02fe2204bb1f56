"""Extractive question answering: the answer is a span copied out of the context.

A QA head (BERT, DistilBERT...) gives every token two scores: how likely the answer starts
there and how likely it ends there. The runner, in pipeline stages:

  prepare       question + context -> windows of at most `max_length` tokens. A context
                longer than one window is split into overlapping windows (`stride` tokens
                shared between neighbours), so no part of it is silently dropped and an
                answer on a window edge is seen whole in the next one.
  run           the windows as batches that fit a request's memory -> start/end logits
  post-process  best (start, end) with start <= end < start + max_answer_tokens over context
                tokens only; score = P(start) * P(end); character offsets from the
                tokenizer's offsets mapping, so the span highlights the original text.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass

import torch

from models.core.budget import forward_bytes, forward_shape
from models.core.errors import UserError
from models.core.manager import LoadedModel
from models.runners.generation import check_text

MAX_WINDOW = 384        # the SQuAD models' training length; longer windows are slower, not better
MAX_ANSWER_TOKENS = 30  # answers are short spans; this also keeps the search O(n * 30)


@dataclass(frozen=True)
class SpanAnswer:
    """The best span: context[start:end] == answer. `windows` is how many overlapping windows
    the context needed; `window` the one the answer came from (0-based)."""
    answer: str
    score: float        # P(start) * P(end), 0..1
    start: int          # character offsets in the context
    end: int
    windows: int
    window: int
    seconds: float
    window_tokens: int  # tokens per window (question + context part + specials)


def _forward_names(model) -> set:
    return set(inspect.signature(model.forward).parameters)


def prepare(lm: LoadedModel, question: str, context: str, stride: int = 128):
    """-> (BatchEncoding of windows with offsets, window length used)."""
    question = check_text(question, "question")
    context = (context or "").strip()
    if not context:
        raise UserError("qa_no_context", name=lm.spec.name)
    check_text(context, "context")
    tok = lm.tokenizer
    if not getattr(tok, "is_fast", False):
        raise UserError("wrong_task", name=lm.spec.name)
    max_len = min(lm.max_length, MAX_WINDOW)
    q_len = len(tok(question, add_special_tokens=False)["input_ids"])
    if q_len > max_len // 2:
        raise UserError("question_too_long", n=q_len, limit=max_len // 2)
    room = max_len - q_len - 3                 # [CLS] q [SEP] context [SEP]
    stride = max(0, min(int(stride), room // 2))
    enc = tok(question, context, truncation="only_second", max_length=max_len, stride=stride,
              return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest",
              return_tensors="pt")
    return enc, max_len


def best_span(start_logits: torch.Tensor, end_logits: torch.Tensor, context_mask: torch.Tensor,
              max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[int, int, float]:
    """One window: (start, end, score) of the best span among context tokens.
    Probabilities are taken over the context tokens only."""
    neg = torch.finfo(start_logits.dtype).min
    s = torch.softmax(start_logits.float().masked_fill(~context_mask, neg), -1)
    e = torch.softmax(end_logits.float().masked_fill(~context_mask, neg), -1)
    n = s.shape[0]
    pair = s[:, None] * e[None, :]                                 # [start, end]
    allowed = torch.ones(n, n, dtype=torch.bool).triu()            # end >= start
    allowed &= ~torch.ones(n, n, dtype=torch.bool).triu(max_answer_tokens)   # short spans
    allowed &= context_mask[:, None] & context_mask[None, :]
    pair = pair.masked_fill(~allowed, 0.0)
    flat = int(pair.argmax())
    return flat // n, flat % n, float(pair.view(-1)[flat])


def answer(lm: LoadedModel, question: str, context: str, stride: int = 128) -> SpanAnswer:
    """Prepare, run, post-process. The caller holds `lm` (manager.use)."""
    enc, max_len = prepare(lm, question, context, stride)
    context = context.strip()
    names = _forward_names(lm.model)
    inputs = {k: v.to(lm.device) for k, v in enc.items()
              if k in names and k not in ("offset_mapping",)}
    started = time.perf_counter()
    windows, width = enc["input_ids"].shape
    # as many windows per forward pass as a request's memory holds (models/core/budget.py)
    rows = max(1, lm.request_bytes // forward_bytes(forward_shape(lm.model), 1, width, cache=False))
    starts, ends = [], []
    with torch.inference_mode():
        for a in range(0, windows, rows):
            out = lm.model(**{k: v[a:a + rows] for k, v in inputs.items()})
            starts.append(out.start_logits)
            ends.append(out.end_logits)
    start_logits, end_logits = torch.cat(starts), torch.cat(ends)
    seconds = time.perf_counter() - started
    best = None
    for w in range(enc["input_ids"].shape[0]):
        seq_ids = enc.sequence_ids(w)
        mask = torch.tensor([sid == 1 for sid in seq_ids], dtype=torch.bool)
        if not mask.any():
            continue
        s, e, score = best_span(start_logits[w].cpu(), end_logits[w].cpu(), mask)
        if best is None or score > best[3]:
            best = (w, s, e, score)
    if best is None:
        raise UserError("qa_no_context", name=lm.spec.name)
    w, s, e, score = best
    offsets = enc["offset_mapping"][w]
    start, end = int(offsets[s][0]), int(offsets[e][1])
    return SpanAnswer(context[start:end], score, start, end, enc["input_ids"].shape[0], w,
                      seconds, max_len)
