"""Batched, streaming generation for many users at once (continuous batching).

Decoder-only models run in one loop of forward passes over a batch of rows that changes
between steps: a request that arrives while others are writing joins at the next step, and a
row leaves as soon as its answer is complete (end of text, its token limit, or its reader
gone), so nobody waits for the longest answer of a batch. Each request receives only its own
tokens, streamed as they are produced. On a CPU a batch of 8 costs little more per step than
a batch of 1 (the weights are read once per step for all rows): that is the throughput gain
for a classroom.

- New prompts are read in chunks of `CHUNK` tokens, one chunk between two steps of the rows
  already writing, so a long prompt does not hold the others back. Requests that arrive
  together and start with the same tokens (a task's instructions, a worked example) read that
  shared start once.
- Rows keep one key/value cache; a row's cached positions that belong to nobody (rows of
  different lengths side by side) are masked out, and each row counts its own positions, so
  a row computes what it would compute alone.
- Every row has its own settings (greedy or sampling, temperature, top-k, top-p, repetition
  penalty, seed: a seeded row draws from its own random generator) and its own token
  restriction (`allowed`: question answering uses it to make the answer a piece of the
  context, models/runners/applications/run.py, "copy" prompt formats).
- At every step the 5 most likely next tokens are noted per row, with the model's
  probability and the probability after temperature / top-k / top-p (what the sampler drew
  from): the data behind the "generation insight" view.
- One worker thread runs the loop; it takes the device from the app's scheduler
  (models/core/scheduler.py) for every step, so training steps and other requests take turns
  with it; `device_lock` does that job when there is no scheduler (benchmarks, tests).
- Encoder-decoder models, and decoders whose cache is not a plain key/value cache (sliding
  windows, recurrent layers), are batched the simple way: requests that arrive within
  `window_s` with the same settings are padded into one `generate` call.

transformers 5 ships its own continuous batching (`generate_batch`, `init_continuous_batching`,
paged attention). It is not used here: it drops the repetition penalty every answer of the app
uses, takes no custom logits processors (the insight recorder, the `allowed` restriction) and
no per-request seed or greedy/sampling choice, and measured no faster on a CPU
(bench/bench_batching.py; figures in the README).
"""
from __future__ import annotations

import inspect
import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import torch
from transformers import (DynamicCache, LogitsProcessor, LogitsProcessorList, StoppingCriteria,
                          StoppingCriteriaList)
from transformers.cache_utils import DynamicLayer
from transformers.generation.logits_process import (RepetitionPenaltyLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)
from transformers.generation.streamers import BaseStreamer

from models.core.errors import UserError
from models.core.manager import LoadedModel
from models.runners.forward import cache_argument
from models.runners.generation import GenerationSettings

TOP_N = 5   # candidates kept per step for the insight view
IDLE_S = 30.0   # seconds the worker thread waits for more requests before it ends


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


CHUNK = 128     # prompt tokens read per forward pass while other rows are writing


class _Row:
    """A request in the running batch: its tokens so far and how it draws the next one."""

    def __init__(self, req: _Request):
        self.req = req
        s = req.settings
        self.ids = list(req.input_ids)          # prompt + answer so far (repetition penalty)
        self.count = 0
        self.warpers = s.warpers()
        self.penalty = (RepetitionPenaltyLogitsProcessor(float(s.repetition_penalty))
                        if float(s.repetition_penalty) != 1.0 else None)
        self.gen = None
        if s.seed is not None and not s.greedy:  # a seeded row draws the same alone or batched
            self.gen = torch.Generator(device=req.lm.device)
            self.gen.manual_seed(int(s.seed))
        self.done = False

    def pick(self, scores: torch.Tensor) -> tuple[int, StepCandidates]:
        """scores: [1, vocab] from the model -> the next token and what it was drawn from,
        processed as `generate` does: repetition penalty, the row's restriction, then (when
        sampling) temperature, top-k, top-p."""
        s, device = self.req.settings, scores.device
        if self.penalty is not None:
            scores = self.penalty(torch.tensor([self.ids], device=device), scores)
        if self.req.allowed is not None:
            allowed = self.req.allowed(self.ids[len(self.req.input_ids):])
            if allowed:
                keep = torch.full_like(scores, float("-inf"))
                keep[0, list(allowed)] = 0.0
                scores = scores + keep
        model_p = torch.softmax(scores, dim=-1)[0]
        top = model_p.topk(TOP_N)
        ids = tuple(top.indices.tolist())
        if s.greedy:
            tok = int(scores[0].argmax())
            return tok, StepCandidates(ids, tuple(top.values.tolist()), None, float(model_p[tok]))
        warped = scores
        for w in self.warpers:
            warped = w(None, warped)
        sample_p = torch.softmax(warped, dim=-1)
        tok = int(torch.multinomial(sample_p, 1, generator=self.gen)[0, 0])
        sample_p = sample_p[0]
        return tok, StepCandidates(ids, tuple(top.values.tolist()),
                                   tuple(sample_p[list(ids)].tolist()), float(model_p[tok]),
                                   float(sample_p[tok]))


class _Rows:
    """Rows that share one key/value cache. `mask` [rows, positions] says which cached
    positions are a row's own; `pos` is each row's next position; `last` its last token."""

    def __init__(self, rows, cache, mask, pos, last=None):
        self.rows, self.cache, self.mask, self.pos, self.last = rows, cache, mask, pos, last

    def keep(self, index: list[int]) -> None:
        """Only the rows at `index` stay; positions no remaining row uses are dropped."""
        idx = torch.tensor(index, dtype=torch.long, device=self.mask.device)
        mask = self.mask[idx]
        used = mask.sum(0).nonzero()
        first = int(used[0]) if len(used) else mask.shape[1]
        for layer in self.cache.layers:
            if getattr(layer, "is_initialized", False) and layer.keys.numel():
                layer.keys = layer.keys[idx, :, first:]
                layer.values = layer.values[idx, :, first:]
        self.rows = [self.rows[i] for i in index]
        self.mask, self.pos, self.last = mask[:, first:], self.pos[idx], self.last[idx]

    def join(self, other: "_Rows") -> None:
        """Append `other`'s rows; the shorter cache is padded on the left (masked out)."""
        n1, n2 = self.mask.shape[1], other.mask.shape[1]
        width = max(n1, n2)

        def left(t, n, dim):
            if n == width:
                return t
            shape = list(t.shape)
            shape[dim] = width - n
            return torch.cat([t.new_zeros(shape), t], dim=dim)
        for a, b in zip(self.cache.layers, other.cache.layers):
            if getattr(a, "is_initialized", False) and a.keys.numel():
                a.keys = torch.cat([left(a.keys, n1, 2), left(b.keys, n2, 2)], dim=0)
                a.values = torch.cat([left(a.values, n1, 2), left(b.values, n2, 2)], dim=0)
        self.mask = torch.cat([left(self.mask, n1, 1), left(other.mask, n2, 1)], dim=0)
        self.rows = self.rows + other.rows
        self.pos = torch.cat([self.pos, other.pos])
        self.last = torch.cat([self.last, other.last])


def continuous_ok(lm: LoadedModel) -> bool:
    """Can this model's rows come and go between steps (a decoder with a plain growing
    key/value cache that takes positions and a padding mask)?"""
    model = lm.model
    if lm.spec.kind != "decoder" or getattr(model.config, "is_encoder_decoder", False):
        return False
    name = cache_argument(model)
    params = inspect.signature(model.forward).parameters
    if name is None or "position_ids" not in params or "attention_mask" not in params:
        return False
    try:
        layers = DynamicCache(config=model.config).layers
    except Exception:           # a model whose config the cache cannot read
        return False
    return all(type(layer) is DynamicLayer for layer in layers)


class _Prefill:
    """Reads the prompts of requests that arrived together, one forward pass per `advance`:
    first the start they share (once), then the rest of each, side by side."""

    def __init__(self, lm: LoadedModel, reqs: list[_Request]):
        self.lm, self.reqs = lm, reqs
        prompts = [r.input_ids for r in reqs]
        shortest = min(len(p) for p in prompts)
        shared = 0
        if len(prompts) > 1:
            while shared < shortest and all(p[shared] == prompts[0][shared] for p in prompts):
                shared += 1
        else:
            shared = shortest
        self.shared = min(shared, shortest - 1)       # every row reads at least one token after
        self.cache = DynamicCache(config=lm.model.config)
        self.arg = cache_argument(lm.model)
        self.keep = ({"logits_to_keep": 1} if "logits_to_keep" in
                     inspect.signature(lm.model.forward).parameters else {})
        rest = [p[self.shared:] for p in prompts]
        width = max(len(r) for r in rest)
        dev = lm.device
        self.rest_ids = torch.tensor([[0] * (width - len(r)) + r for r in rest], device=dev)
        rest_mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rest], device=dev)
        # a row's positions continue after the shared start and skip its padding
        self.rest_pos = (self.shared + rest_mask.cumsum(1) - 1).clamp(min=0)
        self.mask = torch.cat([torch.ones(len(reqs), self.shared, dtype=torch.long, device=dev),
                               rest_mask], dim=1)
        self.done_shared, self.done_rest, self.width = 0, 0, width
        self.logits = None

    @property
    def finished(self) -> bool:
        return self.logits is not None

    def advance(self) -> None:
        model, dev = self.lm.model, self.lm.device
        if self.done_shared < self.shared:
            a, b = self.done_shared, min(self.done_shared + CHUNK, self.shared)
            ids = torch.tensor([self.reqs[0].input_ids[a:b]], device=dev)
            model(input_ids=ids, attention_mask=torch.ones(1, b, dtype=torch.long, device=dev),
                  position_ids=torch.arange(a, b, device=dev)[None], use_cache=True,
                  **{self.arg: self.cache}, **self.keep)
            self.done_shared = b
            if b == self.shared and len(self.reqs) > 1:
                for layer in self.cache.layers:
                    if getattr(layer, "is_initialized", False):
                        layer.batch_repeat_interleave(len(self.reqs))
            return
        a, b = self.done_rest, min(self.done_rest + CHUNK, self.width)
        out = model(input_ids=self.rest_ids[:, a:b], attention_mask=self.mask[:, :self.shared + b],
                    position_ids=self.rest_pos[:, a:b], use_cache=True, **{self.arg: self.cache},
                    **self.keep)
        self.done_rest = b
        if b == self.width:
            self.logits = out.logits[:, -1, :].float()

    def rows(self) -> _Rows:
        pos = torch.tensor([len(r.input_ids) for r in self.reqs], device=self.lm.device)
        return _Rows([_Row(r) for r in self.reqs], self.cache, self.mask, pos)


class Batcher:
    """Runs concurrent generation requests as one changing batch (see the module docstring).
    One instance per app; it owns its worker thread, started on demand, gone when idle."""

    def __init__(self, max_batch: int = 8, window_s: float = 0.05, scheduler=None,
                 continuous: bool = True):
        self.max_batch = max_batch      # 8: a classroom table; more rows slow every step
        self.window_s = window_s        # 50 ms: short next to a generation, long next to a click
        # each step takes the device from the app's scheduler (models/core/scheduler.py), so it
        # never runs beside a training step or another request; alone (benchmarks), a lock
        self.scheduler = scheduler
        self.device_lock = threading.Lock()
        self._cv = threading.Condition()
        self._pending: list[_Request] = []
        self._running = False
        self.continuous = continuous    # False: always the simple path (benchmarks compare)
        self._ok: dict[int, bool] = {}   # id(model) -> continuous_ok
        self.batches_run = 0            # for benchmarks and tests: groups of requests started
        self.steps_run = 0              # forward passes of the continuous loop

    def stream(self, lm: LoadedModel, input_ids: list[int], settings: GenerationSettings,
               allowed=None) -> Iterator[BatchUpdate]:
        """Queue one request and yield its updates, one per token; the last has done=True.
        `allowed`: optional callable(ids generated so far) -> the token ids allowed next (an
        empty result means no restriction). The caller must hold `lm` (manager.use) until the
        iterator is exhausted."""
        settings.check()
        if not input_ids:
            raise UserError("empty_text", what="prompt")
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
                        raise UserError("oom")
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
    def _device(self):
        return self.scheduler.slot("request", "batch") if self.scheduler else self.device_lock

    def _continuous(self, lm: LoadedModel) -> bool:
        key = id(lm.model)
        if not self.continuous:
            return False
        if key not in self._ok:
            self._ok[key] = continuous_ok(lm)
        return self._ok[key]

    def _take_batch(self) -> list[_Request]:
        """Wait for the window of the oldest request, then take it with the requests that can
        share its batch (the same model; for the simple path also the same settings)."""
        with self._cv:
            while True:
                self._pending = [r for r in self._pending if not r.cancelled.is_set()]
                if not self._pending:
                    # The worker waits a while for more work rather than ending: a new thread
                    # per request costs CPU (models/runners/generation.py _WORKERS says why).
                    if self._cv.wait_for(lambda: self._pending, timeout=IDLE_S):
                        continue
                    self._running = False
                    return []
                first = self._pending[0]
                deadline = first.created + self.window_s
                if self._continuous(first.lm):
                    same = [r for r in self._pending if r.lm.model is first.lm.model]
                else:
                    same = [r for r in self._pending if r.group == first.group]
                now = time.perf_counter()
                if len(same) >= self.max_batch or now >= deadline:
                    batch = same[: self.max_batch]
                    for r in batch:
                        self._pending.remove(r)
                    return batch
                self._cv.wait(deadline - now)

    def _join_waiting(self, lm: LoadedModel, room: int) -> list[_Request]:
        """Requests for the running model that arrived meanwhile (no window: they start now)."""
        with self._cv:
            take = [r for r in self._pending if r.lm.model is lm.model
                    and not r.cancelled.is_set()][:max(room, 0)]
            for r in take:
                self._pending.remove(r)
            self._pending = [r for r in self._pending if not r.cancelled.is_set()]
            return take

    def _start(self, batch: list[_Request]) -> None:
        started = time.perf_counter()
        for r in batch:
            r.started, r.batch_size = started, len(batch)
        self.batches_run += 1

    def _work(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                return
            self._start(batch)
            if self._continuous(batch[0].lm):
                self._loop(batch)
                continue
            try:
                with self._device():
                    self._generate(batch)
            except BaseException as exc:  # handed to every waiting consumer
                for r in batch:
                    r.q.put(exc)
            finally:
                for r in batch:
                    r.q.put(None)

    def _loop(self, first: list[_Request]) -> None:
        """The continuous loop for one model, until no row is left and nobody waits for it."""
        lm = first[0].lm
        running: _Rows | None = None
        reading: list[_Prefill] = []
        taken = list(first)             # every request this loop owns (told of an error)
        try:
            eos = _eos_ids(lm.model, lm.tokenizer)
            arg = cache_argument(lm.model)
            keep = ({"logits_to_keep": 1} if "logits_to_keep" in
                    inspect.signature(lm.model.forward).parameters else {})
            reading.append(_Prefill(lm, first))
            while running is not None or reading:
                busy = len(running.rows) if running else 0
                busy += sum(len(p.reqs) for p in reading)
                new = self._join_waiting(lm, self.max_batch - busy)
                if new:
                    taken += new
                    self._start(new)
                    reading.append(_Prefill(lm, new))
                with self._device(), torch.inference_mode():
                    if reading:
                        # one chunk between two steps of the rows writing; with none, read on
                        prefill = reading[0]
                        while True:
                            prefill.advance()
                            self.steps_run += 1
                            if prefill.finished or running is not None:
                                break
                        if prefill.finished:
                            reading.pop(0)
                            group = prefill.rows()
                            size = len(group.rows) + (len(running.rows) if running else 0)
                            for row in group.rows:
                                row.req.batch_size = size
                            group.last = self._emit(group, prefill.logits, eos)
                            if running is None:
                                running = group
                            else:
                                running.join(group)
                            running = self._drop_finished(running)
                            continue
                    if running is not None:
                        running.mask = torch.cat([running.mask, running.mask.new_ones(
                            len(running.rows), 1)], dim=1)
                        out = lm.model(input_ids=running.last[:, None], attention_mask=running.mask,
                                       position_ids=running.pos[:, None], use_cache=True,
                                       **{arg: running.cache}, **keep)
                        self.steps_run += 1
                        running.pos = running.pos + 1
                        running.last = self._emit(running, out.logits[:, -1, :].float(), eos)
                        running = self._drop_finished(running)
        except BaseException as exc:  # handed to every consumer still reading
            for r in taken:
                r.q.put(exc)

    @staticmethod
    def _emit(rows: _Rows, logits: torch.Tensor, eos: set) -> torch.Tensor:
        """Each row's next token, sent to its reader; returns the tokens [rows] as a tensor."""
        out = []
        for i, row in enumerate(rows.rows):
            if row.done or row.req.cancelled.is_set():
                row.done = True
                out.append(0)
                continue
            tok, step = row.pick(logits[i:i + 1])
            out.append(tok)
            if tok in eos:
                row.done = True
                continue
            row.ids.append(tok)
            row.count += 1
            row.req.q.put((tok, step))
            if row.count >= row.req.settings.max_new_tokens:
                row.done = True
        return torch.tensor(out, dtype=torch.long, device=logits.device)

    @staticmethod
    def _drop_finished(rows: _Rows) -> _Rows | None:
        index = []
        for i, row in enumerate(rows.rows):
            if row.done or row.req.cancelled.is_set():
                row.req.q.put(None)          # this reader has the whole answer now
            else:
                index.append(i)
        if not index:
            return None
        if len(index) < len(rows.rows):
            rows.keep(index)
        return rows

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
