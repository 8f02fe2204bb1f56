"""The next-token distribution at every generated step, as the sampler saw it.

`generate` turns the model's scores into the distribution it draws from in stages: the
repetition penalty, then (when sampling) temperature, top-k and top-p. `StepRecorder` taps
that pipeline twice — once right after the model's own processors (the model's probabilities)
and once at the very end (what the token is drawn from) — so a step records exactly the
probabilities used, not a recomputation. The streamer then pairs each drawn token with the
recorded distributions into a `TokenStep`.

The warpers are passed to `generate` by us (see GenerationSettings.processors in tasks.py)
and `generate`'s own are switched off, because `generate` appends its warpers after every
custom processor: a tap placed through `logits_processor` alone would see the scores before
temperature, top-k and top-p.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import LogitsProcessor

from models.runners.token_text import single_token_text

TOP_N = 10   # candidates kept per step: enough to see the shape of the distribution


@dataclass(frozen=True)
class Candidate:
    token_id: int
    text: str          # how the token reads alone (models/runners/token_text.py: bytes in hex when
                       # it holds part of a character)
    p: float           # probability after temperature, top-k and top-p (greedy: the model's)
    model_p: float     # the model's own probability (softmax of its scores)


@dataclass(frozen=True)
class TokenStep:
    """One generated step. `candidates` holds the TOP_N most likely tokens of the distribution
    the token was drawn from, most likely first, plus the drawn token if it was not among
    them; so their `p` sum to at most 1 and the drawn token always has a bar."""
    token_id: int
    text: str
    p: float           # the drawn token's probability in the distribution it was drawn from
    model_p: float     # ... and under the model alone
    candidates: tuple[Candidate, ...]
    kept: int          # tokens left with a non-zero probability (greedy: 1, the top one)
    greedy: bool


class _Tap(LogitsProcessor):
    """Leaves the scores unchanged and hands them to the recorder."""

    def __init__(self, recorder: "StepRecorder", stage: str):
        self.recorder, self.stage = recorder, stage

    def __call__(self, input_ids, scores):
        self.recorder.seen(self.stage, scores)
        return scores


class StepRecorder:
    """Records the distributions of the current step (batch row 0); `step(token_id)` turns
    them into a TokenStep once the drawn token is known."""

    def __init__(self, tokenizer, greedy: bool, top_n: int = TOP_N):
        self.tokenizer, self.greedy, self.top_n = tokenizer, greedy, top_n
        self.model_tap, self.final_tap = _Tap(self, "model"), _Tap(self, "final")
        self._model_p: torch.Tensor | None = None
        self._final_p: torch.Tensor | None = None

    def seen(self, stage: str, scores: torch.Tensor) -> None:
        with torch.no_grad():
            probs = torch.softmax(scores[0].float(), dim=-1)
        if stage == "model":
            self._model_p = probs
        else:
            self._final_p = probs

    def step(self, token_id: int) -> TokenStep | None:
        if self._model_p is None:
            return None
        model_p = self._model_p
        final_p = model_p if self.greedy or self._final_p is None else self._final_p
        # the tokens that could be drawn, most likely first; the rest of the list are the
        # model's own next likeliest (not arbitrary zero-probability tokens)
        top = torch.topk(final_p + 1e-6 * model_p, min(self.top_n, final_p.shape[0]))
        ids = top.indices.tolist()
        if token_id not in ids:
            ids.append(int(token_id))
        cands = tuple(Candidate(i, single_token_text(self.tokenizer, i), float(final_p[i]),
                                float(model_p[i])) for i in ids)
        kept = 1 if self.greedy else int((final_p > 0).sum())
        self._model_p = self._final_p = None
        return TokenStep(int(token_id), single_token_text(self.tokenizer, token_id),
                         float(final_p[token_id]), float(model_p[token_id]), cands, kept,
                         self.greedy)
