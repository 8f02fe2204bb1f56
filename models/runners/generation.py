"""Task runners built on `generate` (transformers 5 has no summarization/translation/QA
pipelines). Each runner is split into stages, like transformers' pipelines:
prepare (text -> input ids, with the prompt actually sent) / run (the model, device-agnostic)
/ post-process (ids -> plain strings and numbers).

This file holds the shared pieces and free-form generation; the task-specific runners
(summarize, translate, answer) build on `prepare_prompt` and `stream_generate`.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import torch
from transformers import DynamicCache, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList
from transformers.generation.logits_process import (TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)
from transformers.generation.streamers import BaseStreamer

from models.core.errors import Notice, UserError, check_ranges
from models.runners.forward import cache_argument, read_prompt
from models.runners.gen_speed import PREFILL_CHUNK, SpeedMeter
from models.core.manager import LoadedModel
from models.runners.next_token import StepRecorder, TokenStep
from models.runners.token_text import whole_characters

MAX_PROMPT_CHARS = 100_000   # longer text is refused before tokenizing (it cannot fit anyway)
# The settings' bounds (check_ranges); temperature only matters when sampling.
LIMITS = {"max_new_tokens": (1, 2048), "temperature": (0.01, 5), "top_k": (0, 10_000),
          "top_p": (0.01, 1), "repetition_penalty": (1, 2), "seed": (0, 2**32 - 1)}
WHOLE = ("max_new_tokens", "top_k", "seed")


def bad_setting(name: str, value, lo: float, hi: float) -> UserError:
    return UserError("gen_bad_setting", field=name, lo=f"{lo:g}", hi=f"{hi:g}", value=repr(value))


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 128   # about a paragraph; ~10 s on a laptop CPU with SmolLM2
    temperature: float = 0.7    # below 1 keeps a small model on topic
    top_k: int = 50             # the usual default in transformers
    top_p: float = 0.95
    greedy: bool = False        # True: always the most likely token (deterministic)
    repetition_penalty: float = 1.1  # small models loop without it
    seed: int | None = None     # fixed seed -> the same sample every time

    def check(self) -> "GenerationSettings":
        """Self when every setting is within LIMITS (whole numbers where counts are meant);
        else the UserError that names the setting."""
        values = {name: getattr(self, name) for name in LIMITS
                  if not (name == "temperature" and self.greedy)
                  and not (name == "seed" and self.seed is None)}
        check_ranges(values, LIMITS, bad_setting)
        for name in WHOLE:
            value = values.get(name)
            if value is not None and float(value) != int(float(value)):
                raise bad_setting(name, value, *LIMITS[name])
        return self

    def generate_kwargs(self) -> dict:
        if self.greedy:
            return {"do_sample": False, "repetition_penalty": self.repetition_penalty}
        return {"do_sample": True, "temperature": float(self.temperature), "top_k": int(self.top_k),
                "top_p": float(self.top_p), "repetition_penalty": self.repetition_penalty}

    def warpers(self) -> list:
        """Temperature, top-k, top-p as `generate` would build them (same order, same
        conditions), for callers that pass them in themselves (see models/runners/next_token.py)."""
        if self.greedy:
            return []
        out = []
        if float(self.temperature) != 1.0:
            out.append(TemperatureLogitsWarper(float(self.temperature)))
        if int(self.top_k) != 0:
            out.append(TopKLogitsWarper(int(self.top_k)))
        if float(self.top_p) < 1.0:
            out.append(TopPLogitsWarper(float(self.top_p)))
        return out

    def recorded_kwargs(self, recorder: StepRecorder) -> dict:
        """generate() arguments that draw exactly as `generate_kwargs` does, with the warpers
        passed in between the recorder's two taps (generate's own are switched off)."""
        # greedy: the final distribution is the model's (StepRecorder.step), so one tap will do
        taps = [recorder.model_tap] if self.greedy else [recorder.model_tap, *self.warpers(),
                                                          recorder.final_tap]
        kwargs = {"do_sample": not self.greedy, "repetition_penalty": self.repetition_penalty,
                  "logits_processor": LogitsProcessorList(taps)}
        if not self.greedy:
            kwargs.update(temperature=1.0, top_k=0, top_p=1.0)
        return kwargs


@dataclass(frozen=True)
class Prompt:
    input_ids: torch.Tensor     # [1, n] on the model's device
    text: str                   # the prompt exactly as the model sees it (chat template applied)
    notice: Notice | None = None   # set when the input was cut to fit the context window


@dataclass
class GenerationUpdate:
    text: str                   # everything generated so far, in whole characters (never "�")
    n_tokens: int
    seconds: float
    done: bool = False
    notice: Notice | None = None
    prompt_text: str = ""
    token_ids: list = field(default_factory=list)
    steps: list = field(default_factory=list)   # TokenStep per generated token
    prefill: tuple[int, int] | None = None      # (tokens read, of) while the prompt is read
    prompt_tokens: int = 0
    first_token_s: float | None = None          # seconds until the first new token
    stopped: bool = False                       # the caller's `stop` ended it (last update)

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.seconds if self.seconds > 0 else 0.0


def check_text(text: str, what: str = "prompt") -> str:
    text = (text or "").strip()
    if not text:
        raise UserError("empty_text", what=what)
    if len(text) > MAX_PROMPT_CHARS:
        raise UserError("text_too_long", n=len(text), limit=MAX_PROMPT_CHARS, what=what)
    return text


def _prompt_ids(lm: LoadedModel, text: str, chat: bool, system: str | None) -> tuple[str, torch.Tensor]:
    """The prompt as the model sees it (chat template applied in chat mode) and its ids."""
    tok = lm.tokenizer
    if chat:
        if not getattr(tok, "chat_template", None):
            raise UserError("no_chat_template", name=lm.spec.name)
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}]
        prompt_text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return prompt_text, tok(prompt_text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    return text, tok(text, return_tensors="pt")["input_ids"]


def _room(lm: LoadedModel, max_new_tokens: int) -> int:
    room = lm.max_length - int(max_new_tokens)
    if room < 16:
        raise UserError("window_too_small", name=lm.spec.name, window=lm.max_length,
                        new=int(max_new_tokens), most=lm.max_length - 16)
    return room


def prepare_prompt(lm: LoadedModel, text: str, chat: bool, max_new_tokens: int,
                   system: str | None = None) -> Prompt:
    """Text -> input ids. Chat mode applies the model's chat template. Input longer than the
    context window (minus room for the answer) keeps its end and says so."""
    prompt_text, ids = _prompt_ids(lm, text, chat, system)
    room = _room(lm, max_new_tokens)
    notice = None
    if ids.shape[1] > room:
        notice = Notice("gen_truncated", n=int(ids.shape[1]), room=room, window=lm.max_length,
                        new=max_new_tokens, model=lm.spec.name)
        ids = ids[:, -room:]
        prompt_text = lm.tokenizer.decode(ids[0])
    return Prompt(ids.to(lm.device), prompt_text, notice)


# ---- long prompts: said before they run ---------------------------------------------------
LONG_PROMPT_TOKENS = 512   # shorter prompts are read in a second or two on any device
SLOW_SECONDS = 30.0        # a prompt that alone takes longer is announced first


@dataclass(frozen=True)
class LengthCheck:
    """What a prompt will cost, known before it runs (the prompt as sent: template included)."""
    prompt_tokens: int
    room: int                  # the most the model reads, leaving room for the new tokens
    seconds: float | None      # estimated time of the whole run; None: short, not estimated
    fit_tokens: int            # the longest prompt whose whole run fits the window and time limit
    over_window: bool
    too_slow: bool

    @property
    def needs_ok(self) -> bool:
        return self.over_window or self.too_slow


def check_length(lm: LoadedModel, text: str, chat: bool, max_new_tokens: int, meter: SpeedMeter,
                 limit_s: float = SLOW_SECONDS, system: str | None = None) -> LengthCheck:
    """Count the prompt's tokens and, for a long one, estimate the time on this device
    (models/runners/gen_speed.py; the first time a model is asked, a short calibration runs — the
    caller holds the device).

    A prompt is too slow when reading it (its own share of the run) takes longer than
    `limit_s`. What it is cut to (`fit_tokens`) is the longest prompt, within the window, whose
    WHOLE run — reading it and then writing `max_new_tokens` over it — takes `limit_s`: a cut
    to the reading limit alone would shorten a prompt just past it by a few tokens and leave a
    run as long as before. When writing alone takes longer than that, the prompt keeps
    LONG_PROMPT_TOKENS (read in a second or two; a prompt that short is never announced)."""
    _, ids = _prompt_ids(lm, text, chat, system)
    n, room = int(ids.shape[1]), _room(lm, max_new_tokens)
    if lm.spec.source == "engine":    # a served model (models/runners/engine.py): no local timing
        return LengthCheck(n, room, None, min(n, room), n > room, False)
    if n <= min(LONG_PROMPT_TOKENS, room):
        return LengthCheck(n, room, None, n, False, False)
    read = min(n, room)            # a longer prompt is cut to the window (prepare_prompt)
    seconds = meter.estimate(lm, read, max_new_tokens)
    writing = meter.estimate(lm, 0, max_new_tokens)       # the run's part that no cut shortens
    fit = max(min(LONG_PROMPT_TOKENS, room),
              meter.fits_in(lm, limit_s - writing, max_new_tokens, room))
    return LengthCheck(n, room, seconds, min(fit, read), n > room,
                       meter.prompt_seconds(lm, read, max_new_tokens) > limit_s)


def cut_to_fit(lm: LoadedModel, text: str, chat: bool, keep_tokens: int,
               system: str | None = None) -> str:
    """The end of `text`, as long as the prompt sent (template included) stays within
    `keep_tokens`. Cut at a token boundary; a character cut in half is dropped."""
    text = check_text(text)
    _, ids = _prompt_ids(lm, text, chat, system)
    if int(ids.shape[1]) <= keep_tokens:
        return text
    text_ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    keep = max(1, int(keep_tokens) - max(int(ids.shape[1]) - len(text_ids), 0))
    while True:              # re-read: the cut text may tokenize a little differently
        cut = whole_characters(lm.tokenizer.decode(text_ids[-keep:])).strip()
        over = int(_prompt_ids(lm, cut, chat, system)[1].shape[1]) - int(keep_tokens)
        if over <= 0 or keep <= 1:
            return cut
        keep = max(1, keep - over)


class _QueueStreamer(BaseStreamer):
    """Receives token ids from `generate` (prompt first, then one tensor per step) and pairs
    each new token with the distribution it was drawn from."""

    def __init__(self, recorder: StepRecorder | None = None):
        self.q: queue.Queue = queue.Queue()
        self.recorder = recorder
        self._prompt_seen = False

    def put(self, value):
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        ids = value.reshape(-1).tolist()
        steps = [self.recorder.step(i) if self.recorder else None for i in ids]
        self.q.put(("tokens", ids, steps))

    def end(self):
        self.q.put(None)


class _StopFlag(StoppingCriteria):
    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return self.event.is_set()


def shown_text(tok, ids: list[int]) -> str:
    """Generated ids as text for the reader: special tokens dropped, and never a "�" from a
    character whose bytes are split over tokens (byte-level BPE splits a Chinese character
    over two or three tokens; it shows once complete)."""
    return whole_characters(tok.decode(ids, skip_special_tokens=True))


def _prefill(lm: LoadedModel, ids: torch.Tensor, stop: threading.Event, report) -> DynamicCache | None:
    """Read all but the last prompt token into a cache in chunks of at most PREFILL_CHUNK (fewer
    when the request's memory asks: models/runners/forward.py), reporting progress after each;
    `generate` then continues from the cache. Returns None (let `generate` read the prompt at
    once) for short prompts or models that cannot take a cache."""
    n, model = ids.shape[1], lm.model
    if n <= PREFILL_CHUNK or getattr(model.config, "is_encoder_decoder", False):
        return None
    if cache_argument(model) is None:
        return None
    return read_prompt(lm, ids, upto=n - 1, stop=stop, report=report, chunk=PREFILL_CHUNK).cache


# The model side of a streamed generation runs on long-lived threads. A fresh thread per
# request cost ~5 % more CPU for the same 64 tokens (process CPU time, SmolLM2 greedy: 4.70 s
# against 4.46 s in the calling thread and 4.47 s on a reused thread): every new thread that
# calls into torch sets up its own OpenMP team. Threads are reused as long as they are idle.
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="generate")


def stream_generate(lm: LoadedModel, prompt: Prompt, settings: GenerationSettings, *,
                    report_prefill: bool = False, meter: SpeedMeter | None = None,
                    interval: float = 0.0,
                    stop: threading.Event | None = None) -> Iterator[GenerationUpdate]:
    """Yield a GenerationUpdate after every new token; the last one has done=True.
    With `interval` > 0, at most one token update per `interval` seconds (the last always
    comes): a reader that shows ~10 updates a second does not pay for decoding the text and
    copying the steps at every token, beside the model on the same cores.
    Each update carries the steps so far (TokenStep: the candidates and the drawn token).
    Long prompts are read in chunks; with `report_prefill`, an update (n_tokens=0, `prefill`
    set) follows each chunk. Closing the iterator early (the user left, or pressed Stop)
    stops the model within one step or one chunk. So does setting `stop` (the user pressed Stop,
    from another thread): the model ends within one chunk of the prompt or one new token, and
    the last update (done, `stopped`) comes at once; the run sets `stop` itself when it ends.
    `meter` learns this device's speed."""
    settings.check()
    if lm.spec.source == "engine":    # served by an OpenAI-compatible engine
        from models.runners import engine
        yield from engine.stream_generate(lm, prompt, settings)
        return
    tok = lm.tokenizer
    recorder = StepRecorder(tok, settings.greedy)
    streamer = _QueueStreamer(recorder)
    stop = threading.Event() if stop is None else stop
    n_prompt = int(prompt.input_ids.shape[1])
    kwargs = dict(input_ids=prompt.input_ids, attention_mask=torch.ones_like(prompt.input_ids),
                  max_new_tokens=int(settings.max_new_tokens), streamer=streamer,
                  stopping_criteria=StoppingCriteriaList([_StopFlag(stop)]),
                  pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                  **settings.recorded_kwargs(recorder))
    errors: list[BaseException] = []

    def work():
        try:
            if settings.seed is not None:
                torch.manual_seed(int(settings.seed))
            with torch.inference_mode():
                cache = _prefill(lm, prompt.input_ids, stop,
                                 lambda done, total: streamer.q.put(("prefill", done, total)))
                if stop.is_set():
                    streamer.end()
                    return
                if cache is not None:
                    kwargs[cache_argument(lm.model)] = cache
                lm.model.generate(**kwargs)
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)
            streamer.end()

    started = time.perf_counter()
    first: float | None = None
    # The worker runs while the calling request holds the device (manager.use).
    future = _WORKERS.submit(work)
    ids: list[int] = []
    steps: list[TokenStep] = []
    shown = -interval
    try:
        while True:
            item = streamer.q.get()
            if item is None:
                break
            now = time.perf_counter() - started
            if item[0] == "prefill":
                if report_prefill and not stop.is_set():     # stopped: no progress after Stop
                    yield GenerationUpdate("", 0, now, False, prompt.notice, prompt.text,
                                           prefill=(item[1], item[2]), prompt_tokens=n_prompt)
                continue
            if first is None:
                first = now
            ids.extend(item[1])
            steps.extend(s for s in item[2] if s is not None)
            if interval > 0:
                if now - shown < interval:
                    continue
                shown = now
            yield GenerationUpdate(shown_text(tok, ids), len(ids), now, False, prompt.notice,
                                   prompt.text, list(ids), list(steps), None, n_prompt, first)
        stopped = stop.is_set()       # set by the caller: this side sets it only from here on
    finally:
        stop.set()
        if not future.cancel():        # not started yet: nothing to wait for
            future.result()
    if errors:
        exc = errors[0]
        if isinstance(exc, torch.OutOfMemoryError):
            raise UserError("oom")
        raise exc
    total = time.perf_counter() - started
    if meter is not None and first is not None:
        meter.record(lm, n_prompt, first, len(ids), total - first)
    yield GenerationUpdate(shown_text(tok, ids), len(ids), total, True, prompt.notice,
                           prompt.text, list(ids), list(steps), None, n_prompt, first, stopped)


def generate_text(lm: LoadedModel, text: str, settings: GenerationSettings, chat: bool = True,
                  system: str | None = None) -> GenerationUpdate:
    """Non-streaming convenience: the final update."""
    text = check_text(text)
    prompt = prepare_prompt(lm, text, chat, settings.max_new_tokens, system)
    last = None
    for last in stream_generate(lm, prompt, settings):
        pass
    return last
