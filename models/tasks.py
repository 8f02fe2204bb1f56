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
from dataclasses import dataclass, field
from typing import Iterator

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from .errors import UserError
from .manager import LoadedModel

MAX_PROMPT_CHARS = 100_000   # longer text is refused before tokenizing (it cannot fit anyway)


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
        if not 1 <= int(self.max_new_tokens) <= 2048:
            raise UserError("bad_setting", "Max new tokens must be between 1 and 2048.")
        if not self.greedy and not 0 < float(self.temperature) <= 5:
            raise UserError("bad_setting", "Temperature must be above 0 and at most 5 "
                            "(or tick Greedy for always the most likely token).")
        if not 0 <= int(self.top_k) <= 10_000 or not 0 < float(self.top_p) <= 1:
            raise UserError("bad_setting", "Top-k must be 0 or more and top-p between 0 and 1.")
        return self

    def generate_kwargs(self) -> dict:
        if self.greedy:
            return {"do_sample": False, "repetition_penalty": self.repetition_penalty}
        return {"do_sample": True, "temperature": float(self.temperature), "top_k": int(self.top_k),
                "top_p": float(self.top_p), "repetition_penalty": self.repetition_penalty}


@dataclass(frozen=True)
class Prompt:
    input_ids: torch.Tensor     # [1, n] on the model's device
    text: str                   # the prompt exactly as the model sees it (chat template applied)
    notice: str | None = None   # set when the input was cut to fit the context window


@dataclass
class GenerationUpdate:
    text: str                   # everything generated so far
    n_tokens: int
    seconds: float
    done: bool = False
    notice: str | None = None
    prompt_text: str = ""
    token_ids: list = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.seconds if self.seconds > 0 else 0.0


def check_text(text: str, what: str = "prompt") -> str:
    text = (text or "").strip()
    if not text:
        raise UserError("empty_text", f"The {what} is empty. Type some text first.", what=what)
    if len(text) > MAX_PROMPT_CHARS:
        raise UserError("text_too_long", f"The {what} has {len(text):,} characters; the limit is "
                        f"{MAX_PROMPT_CHARS:,}. Paste a shorter part.", what=what)
    return text


def prepare_prompt(lm: LoadedModel, text: str, chat: bool, max_new_tokens: int,
                   system: str | None = None) -> Prompt:
    """Text -> input ids. Chat mode applies the model's chat template. Input longer than the
    context window (minus room for the answer) keeps its end and says so."""
    tok = lm.tokenizer
    if chat:
        if not getattr(tok, "chat_template", None):
            raise UserError("no_chat_template", f"{lm.spec.name} has no chat template; untick "
                            "Chat mode to continue the text instead.", name=lm.spec.name)
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}]
        prompt_text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tok(prompt_text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    else:
        prompt_text = text
        ids = tok(text, return_tensors="pt")["input_ids"]
    room = lm.max_length - max_new_tokens
    notice = None
    if room < 16:
        raise UserError("bad_setting", f"{lm.spec.name} reads at most {lm.max_length} tokens; "
                        "ask for fewer new tokens.")
    if ids.shape[1] > room:
        notice = (f"The input had {ids.shape[1]} tokens; {lm.spec.name} reads at most "
                  f"{lm.max_length} including the {max_new_tokens} new ones, so only the last "
                  f"{room} tokens were used.")
        ids = ids[:, -room:]
        prompt_text = tok.decode(ids[0])
    return Prompt(ids.to(lm.device), prompt_text, notice)


class _QueueStreamer(BaseStreamer):
    """Receives token ids from `generate` (prompt first, then one tensor per step)."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()
        self._prompt_seen = False

    def put(self, value):
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.q.put(value.reshape(-1).tolist())

    def end(self):
        self.q.put(None)


class _StopFlag(StoppingCriteria):
    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return self.event.is_set()


def stream_generate(lm: LoadedModel, prompt: Prompt,
                    settings: GenerationSettings) -> Iterator[GenerationUpdate]:
    """Yield a GenerationUpdate after every new token; the last one has done=True.
    Closing the iterator early (the user left) stops the model within one step."""
    settings.check()
    streamer, stop = _QueueStreamer(), threading.Event()
    tok = lm.tokenizer
    kwargs = dict(input_ids=prompt.input_ids, attention_mask=torch.ones_like(prompt.input_ids),
                  max_new_tokens=int(settings.max_new_tokens), streamer=streamer,
                  stopping_criteria=StoppingCriteriaList([_StopFlag(stop)]),
                  pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                  **settings.generate_kwargs())
    errors: list[BaseException] = []

    def work():
        try:
            if settings.seed is not None:
                torch.manual_seed(int(settings.seed))
            with torch.inference_mode():
                lm.model.generate(**kwargs)
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)
            streamer.end()

    started = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    ids: list[int] = []
    try:
        while True:
            chunk = streamer.q.get()
            if chunk is None:
                break
            ids.extend(chunk)
            yield GenerationUpdate(tok.decode(ids, skip_special_tokens=True), len(ids),
                                   time.perf_counter() - started, False, prompt.notice,
                                   prompt.text, list(ids))
    finally:
        stop.set()
        thread.join()
    if errors:
        exc = errors[0]
        if isinstance(exc, torch.OutOfMemoryError):
            raise UserError("oom", "The device ran out of memory while generating. Ask for fewer "
                            "tokens or unload other models.")
        raise exc
    yield GenerationUpdate(tok.decode(ids, skip_special_tokens=True), len(ids),
                           time.perf_counter() - started, True, prompt.notice, prompt.text, list(ids))


def generate_text(lm: LoadedModel, text: str, settings: GenerationSettings, chat: bool = True,
                  system: str | None = None) -> GenerationUpdate:
    """Non-streaming convenience: the final update."""
    text = check_text(text)
    prompt = prepare_prompt(lm, text, chat, settings.max_new_tokens, system)
    last = None
    for last in stream_generate(lm, prompt, settings):
        pass
    return last
