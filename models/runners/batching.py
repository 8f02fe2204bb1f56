"""Batched, streaming generation for many users at once.

Requests that arrive within a short window (`window_s`) for the same model and the same
generation settings are padded into one batch and run through a single `generate` call;
each request still receives only its own tokens, streamed as they are produced. On a CPU a
batch of 8 costs little more per step than a batch of 1 (the weights are read once per step
for all rows), which is where the throughput gain for a classroom comes from.

- Decoder-only models are padded on the left (the new token must follow the prompt's last
  real token); encoder-decoder models pad the encoder input on the right.
- One worker thread runs one batch at a time, so the device is never oversubscribed by this
  layer; `device_lock` lets non-generative work (extractive QA) take turns with it.
- A `Recorder` logits processor notes the 5 most likely next tokens at every step, with the
  model's probability and the probability after temperature / top-k / top-p (what the
  sampler actually drew from): the data behind the "generation insight" view.
- A request whose consumer goes away (the browser closed) is marked cancelled; its row stops
  at the next step and the batch ends when every row is finished or cancelled.
- A request may restrict its next tokens (`allowed`): question answering uses it to make the
  answer a piece of the context (models/runners/applications/run.py, "copy" prompt formats). Other rows of the
  same batch are not affected.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList
from transformers.generation.logits_process import (TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)
from transformers.generation.streamers import BaseStreamer

from models.core.errors import UserError
from models.core.manager import LoadedModel
from models.runners.generation import GenerationSettings

TOP_N = 5   # candidates kept per step for the insight view


@dataclass(frozen=True)
class StepCandidates:
    """The next-token distribution at one generated step (top TOP_N by model probability).
    ids / model_p / sample_p have TOP_N entries; sample_p is None for greedy decoding."""
    ids: tuple
    model_p: tuple               # softmax of the model's scores (after repetition penalty)
    sample_p: tuple | None       # after temperature, top-k, top-p: what sampling drew from
    chosen_model_p: float = 0.0  # filled in once the chosen token is known
    chosen_sample_p: float | None = None


@dataclass
class BatchUpdate:
    """What one request has received so far."""
    token_ids: list
    steps: list                  # StepCandidates per generated token
    seconds: float               # since this request's batch started
    waited: float                # seconds spent queued before its batch started
    batch_size: int              # how many requests shared the batch
    done: bool = False


class _Request:
    def __init__(self, lm: LoadedModel, input_ids: list[int], settings: GenerationSettings,
                 allowed=None):
        self.lm = lm
        self.allowed = allowed          # None, or callable(generated ids) -> allowed next ids
        self.input_ids = input_ids
        self.settings = settings
        self.q: queue.Queue = queue.Queue()
        self.cancelled = threading.Event()
        self.created = time.perf_counter()
        self.started = 0.0
        self.batch_size = 0

    @property
    def group(self) -> tuple:
        """Requests batch together only with the same model and the same settings."""
        return (self.lm.spec.key, id(self.lm.model), self.settings)


class Recorder(LogitsProcessor):
    """Leaves scores unchanged; records the top candidates of every row at every step."""

    def __init__(self, settings: GenerationSettings):
        self.greedy = settings.greedy
        warpers = []
        if not settings.greedy:
            if float(settings.temperature) != 1.0:
                warpers.append(TemperatureLogitsWarper(float(settings.temperature)))
            if int(settings.top_k) > 0:
                warpers.append(TopKLogitsWarper(int(settings.top_k)))
            if float(settings.top_p) < 1.0:
                warpers.append(TopPLogitsWarper(float(settings.top_p)))
        self.warpers = warpers
        self.last: list[tuple] = []          # per row: (model_probs, sample_probs) of this step

    def __call__(self, input_ids, scores):
        with torch.no_grad():
            model_p = torch.softmax(scores.float(), dim=-1)
            sample_p = None
            if not self.greedy:
                warped = scores.float().clone()
                for w in self.warpers:
                    warped = w(input_ids, warped)
                sample_p = torch.softmax(warped, dim=-1)
            top = model_p.topk(TOP_N, dim=-1)
            self.last = []
            for row in range(scores.shape[0]):
                ids = top.indices[row]
                self.last.append((tuple(ids.tolist()), tuple(top.values[row].tolist()),
                                  None if sample_p is None else tuple(sample_p[row, ids].tolist()),
                                  model_p[row], None if sample_p is None else sample_p[row]))
        return scores


class _RowConstraints(LogitsProcessor):
    """Rows whose request has `allowed` may only take one of those tokens next (the others get
    probability 0 before the Recorder sees them, so the insight shows what could be drawn)."""

    def __init__(self, requests: list[_Request], prompt_width: int):
        self.requests = requests
        self.width = prompt_width

    def __call__(self, input_ids, scores):
        for row, req in enumerate(self.requests):
            if req.allowed is None:
                continue
            ids = req.allowed(input_ids[row, self.width:].tolist())
            if ids:
                keep = torch.full_like(scores[row], float("-inf"))
                keep[list(ids)] = 0.0
                scores[row] = scores[row] + keep
        return scores


class _RowStreamer(BaseStreamer):
    """Splits each generated step [batch] into the requests' own queues."""

    def __init__(self, requests: list[_Request], recorder: Recorder, eos_ids: set):
        self.requests = requests
        self.recorder = recorder
        self.eos_ids = eos_ids
        self.finished = [False] * len(requests)
        self._prompt_seen = False
        self.counts = [0] * len(requests)

    def put(self, value):
        if not self._prompt_seen:       # generate() first sends the prompt (or decoder start)
            self._prompt_seen = True
            return
        tokens = value.reshape(-1).tolist()
        for row, (req, tok) in enumerate(zip(self.requests, tokens)):
            if self.finished[row]:
                continue
            if tok in self.eos_ids or req.cancelled.is_set():
                self.finished[row] = True
                req.q.put(None)         # this user has the whole answer now, not at batch end
                continue
            ids, mp, sp, full_m, full_s = self.recorder.last[row]
            step = StepCandidates(ids, mp, sp, float(full_m[tok]),
                                  None if full_s is None else float(full_s[tok]))
            self.counts[row] += 1
            req.q.put((tok, step))
            if self.counts[row] >= req.settings.max_new_tokens:
                self.finished[row] = True
                req.q.put(None)

    def end(self):
        self.finished = [True] * len(self.requests)


class _StopRows(StoppingCriteria):
    """Per-row stop: a finished or cancelled row stops; the batch ends when all have."""

    def __init__(self, streamer: _RowStreamer):
        self.streamer = streamer

    def __call__(self, input_ids, scores, **kwargs):
        flags = [f or r.cancelled.is_set() for f, r in zip(self.streamer.finished,
                                                            self.streamer.requests)]
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)


class Batcher:
    """Groups concurrent generation requests into padded batches (see the module docstring).
    One instance per app; it owns its worker thread, started on demand, gone when idle."""

    def __init__(self, max_batch: int = 8, window_s: float = 0.05, scheduler=None):
        self.max_batch = max_batch      # 8: a classroom table; more rows slow every step
        self.window_s = window_s        # 50 ms: short next to a generation, long next to a click
        # each batch takes the device from the app's scheduler (models/core/scheduler.py), so a batch
        # never runs beside a training step or another request; alone (benchmarks), a lock
        self.scheduler = scheduler
        self.device_lock = threading.Lock()
        self._cv = threading.Condition()
        self._pending: list[_Request] = []
        self._running = False
        self.batches_run = 0            # for benchmarks and tests: how many generate calls

    def stream(self, lm: LoadedModel, input_ids: list[int], settings: GenerationSettings,
               allowed=None) -> Iterator[BatchUpdate]:
        """Queue one request and yield its updates, one per token; the last has done=True.
        `allowed`: optional callable(ids generated so far) -> the token ids allowed next (an
        empty result means no restriction). The caller must hold `lm` (manager.use) until the
        iterator is exhausted."""
        settings.check()
        req = _Request(lm, list(input_ids), settings, allowed)
        with self._cv:
            self._pending.append(req)
            if not self._running:
                self._running = True
                threading.Thread(target=self._work, daemon=True, name="batcher").start()
            self._cv.notify_all()
        ids: list[int] = []
        steps: list[StepCandidates] = []
        try:
            while True:
                item = req.q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    if isinstance(item, torch.OutOfMemoryError):
                        raise UserError("oom", "The device ran out of memory while generating. "
                                        "Ask for fewer tokens or unload other models.")
                    raise item
                tok, step = item
                ids.append(tok)
                steps.append(step)
                yield BatchUpdate(list(ids), list(steps), time.perf_counter() - req.started,
                                  req.started - req.created, req.batch_size)
        finally:
            req.cancelled.set()         # a consumer that leaves early frees its row
        yield BatchUpdate(ids, steps, time.perf_counter() - req.started,
                          req.started - req.created, req.batch_size, done=True)

    # ---- worker ----------------------------------------------------------------------------
    def _take_batch(self) -> list[_Request]:
        with self._cv:
            while True:
                if not self._pending:
                    self._running = False
                    return []
                first = self._pending[0]
                deadline = first.created + self.window_s
                same = [r for r in self._pending if r.group == first.group]
                now = time.perf_counter()
                if len(same) >= self.max_batch or now >= deadline:
                    batch = same[: self.max_batch]
                    for r in batch:
                        self._pending.remove(r)
                    return batch
                self._cv.wait(deadline - now)

    def _work(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                return
            batch = [r for r in batch if not r.cancelled.is_set()] or []
            if not batch:
                continue
            started = time.perf_counter()
            for r in batch:
                r.started, r.batch_size = started, len(batch)
            self.batches_run += 1
            try:
                with (self.scheduler.slot("request", "batch") if self.scheduler
                      else self.device_lock):
                    self._generate(batch)
            except BaseException as exc:  # handed to every waiting consumer
                for r in batch:
                    r.q.put(exc)
            finally:
                for r in batch:
                    r.q.put(None)

    def _generate(self, batch: list[_Request]) -> None:
        lm, settings = batch[0].lm, batch[0].settings
        tok, model = lm.tokenizer, lm.model
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if pad is None:
            pad = 0
        width = max(len(r.input_ids) for r in batch)
        left = lm.spec.kind == "decoder"     # decoders continue from the last position
        rows, masks = [], []
        for r in batch:
            fill = [pad] * (width - len(r.input_ids))
            ones = [1] * len(r.input_ids)
            rows.append(fill + r.input_ids if left else r.input_ids + fill)
            masks.append([0] * len(fill) + ones if left else ones + [0] * len(fill))
        input_ids = torch.tensor(rows, dtype=torch.long, device=lm.device)
        attention_mask = torch.tensor(masks, dtype=torch.long, device=lm.device)
        recorder = Recorder(settings)
        processors = [recorder]
        if left and any(r.allowed is not None for r in batch):
            processors.insert(0, _RowConstraints(batch, width))
        streamer = _RowStreamer(batch, recorder, _eos_ids(model, tok))
        kwargs = dict(input_ids=input_ids, attention_mask=attention_mask,
                      max_new_tokens=int(settings.max_new_tokens), streamer=streamer,
                      logits_processor=LogitsProcessorList(processors),
                      stopping_criteria=StoppingCriteriaList([_StopRows(streamer)]),
                      pad_token_id=pad, num_beams=1, **settings.generate_kwargs())
        if settings.seed is not None:
            torch.manual_seed(int(settings.seed))
        with torch.inference_mode():
            model.generate(**kwargs)


def _eos_ids(model, tok) -> set:
    ids = set()
    for source in (getattr(model, "generation_config", None), model.config):
        value = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(v for v in value if isinstance(v, int))
    if tok.eos_token_id is not None:
        ids.add(tok.eos_token_id)
    return ids
