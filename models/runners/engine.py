"""An OpenAI-compatible serving engine (vLLM, SGLang, llama.cpp's server, `transformers serve`)
as a model of the app: `python app.py --engine-url http://HOST:PORT/v1`.

The engine appears in the model pickers as "engine:<name>" and is handed out by the manager
like any model (models/core/manager.py): a `LoadedModel` whose `model` lives on the server.
Generation (models/runners/generation.py `stream_generate`) and the applications
(models/runners/applications/run.py `run`) pass a request for it here, and get back the same
result types the local runners return (GenerationUpdate with TokenSteps, AppUpdate with
TokenInsights), so the views do not change.

What a server can give is found out once, by asking it (`Engine.probe`):
  chat / completions   /v1/chat/completions and /v1/completions
  logprobs             `logprobs` + `top_logprobs` on chat: the top-k next-token choices
  echo                 legacy completions with `echo`: the prompt's own token log-probs
  prompt_logprobs      vLLM's `prompt_logprobs` (through extra_body)
  sampling             how top-k and the repetition penalty reach the server: vLLM-style
                       fields (`top_k`, `repetition_penalty` through extra_body), a
                       `generation_config` JSON (`transformers serve`), or not at all
What no server gives (attention, hidden states, gradients, training) stays on the app's own
PyTorch workers: the engine's tasks do not include them, and its `model` object refuses
such use with a message naming what to pick instead.

Prompts are built by the same code as for a local model: the engine's `tokenizer` is a
stand-in that renders a chat as the list of messages sent to the server (the server applies
its own chat template) and counts UTF-8 bytes instead of tokens (a byte is never less than
a token, so a length check is on the safe side).
"""
from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import torch

from models.core.errors import UserError
from models.core.files import slug

SOURCE = "engine"              # ModelSpec.source of a model served by the engine
KEY_PREFIX = "engine:"
CHAT_MARK = "# messages sent to the engine (it applies its own chat template)\n"
DEFAULT_WINDOW = 32768         # the window assumed when the server does not say (it refuses
                               # a longer prompt itself, and says so)
TIMEOUT_S = 120.0              # one request; a CPU server writes a long answer in about this
PROBE_TOKENS = 1
TOP_K = 10                     # top_logprobs asked for (vLLM's default cap is 20)
ENGINE_TASKS = frozenset({"generate", "chat", "summarize", "translate", "answer"})


def is_engine(spec) -> bool:
    return getattr(spec, "source", None) == SOURCE


# ---- what the server can do -------------------------------------------------------------
@dataclass(frozen=True)
class Capabilities:
    """What the server answered when asked once (`Engine.probe`)."""
    models: tuple = ()               # model ids it serves
    chat: bool = False
    completions: bool = False
    logprobs: bool = False           # top-k next-token choices on chat
    echo: bool = False               # prompt token log-probs through completions + echo
    prompt_logprobs: bool = False    # vLLM's prompt_logprobs
    sampling: str = "none"           # "fields" (vLLM style) | "generation_config" | "none"
    window: int = DEFAULT_WINDOW     # context window (vLLM reports max_model_len)
    server: str = ""                 # what /v1/models says owns the model

    def missing(self) -> list[str]:
        """Codes of what this server does not give (UI key "engine.missing.<code>")."""
        out = []
        if not self.logprobs:
            out.append("logprobs")
        if not (self.echo or self.prompt_logprobs):
            out.append("prompt_logprobs")
        if self.sampling == "none":
            out.append("sampling")
        return out


def _error(exc: BaseException, url: str) -> UserError:
    """openai client exceptions -> one UserError per kind, with the server's own words."""
    import openai
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return UserError("engine_timeout", url=url)
    if isinstance(exc, openai.APIConnectionError):
        return UserError("engine_unreachable", url=url)
    if isinstance(exc, openai.APIStatusError):
        detail = _detail(exc)
        return UserError("engine_http", url=url, status=exc.status_code, detail=detail)
    return UserError("engine_http", url=url, status="?", detail=str(exc)[:300])


def _detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        for k in ("detail", "message", "error"):
            v = body.get(k)
            if isinstance(v, dict):
                v = v.get("message")
            if v:
                return str(v)[:300]
    return str(getattr(exc, "message", exc))[:300]


# ---- the stand-ins a LoadedModel needs -------------------------------------------------
class ByteTokenizer:
    """Just enough of a tokenizer for the app's prompt builders: ids are UTF-8 bytes (the
    server tokenizes for real) and a chat is rendered as the messages the server receives."""
    chat_template = "engine"     # the server has one; it is applied there
    pad_token_id = eos_token_id = None
    model_max_length = DEFAULT_WINDOW

    def apply_chat_template(self, messages, add_generation_prompt=True, tokenize=False, **_):
        return CHAT_MARK + json.dumps(list(messages), ensure_ascii=False, indent=1)

    def __call__(self, text, add_special_tokens=True, return_tensors=None, **_):
        ids = list(str(text).encode("utf-8"))
        return {"input_ids": torch.tensor([ids], dtype=torch.long) if return_tensors == "pt" else ids}

    def decode(self, ids, skip_special_tokens=False, **_):
        if isinstance(ids, torch.Tensor):
            ids = ids.reshape(-1).tolist()
        return bytes(int(i) for i in ids if 0 <= int(i) < 256).decode("utf-8", errors="ignore")

    def get_vocab(self):
        return {}


class EngineOnly(UserError, AttributeError):
    """What a served model cannot do here. Also an AttributeError, so that
    `getattr(model, name, default)` still gives the default."""


class RemoteModel:
    """The `model` of an engine LoadedModel: a config (the context window) and nothing
    that computes. Anything else — attention, hidden states, gradients — is refused."""

    def __init__(self, name: str, window: int):
        from transformers import PretrainedConfig
        self.name = name
        self.config = PretrainedConfig(max_position_embeddings=int(window),
                                       model_type="engine", is_encoder_decoder=False)

    def parameters(self):          # nothing here: sizes and speed figures count 0
        return iter(())

    def buffers(self):
        return iter(())

    def get_input_embeddings(self):
        return None

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        raise EngineOnly("engine_only", name=self.name)

    def __call__(self, *args, **kwargs):
        return self.__getattr__("forward")


# ---- the client ---------------------------------------------------------------------------
@dataclass
class _Stream:
    """What a streamed request has produced so far."""
    text: str = ""
    steps: list = field(default_factory=list)     # TokenStep per token (servers with logprobs)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    pieces: int = 0       # pieces of text received: one token each on the servers we know

    @property
    def n_tokens(self) -> int:
        return self.completion_tokens or len(self.steps) or self.pieces


class Engine:
    """One OpenAI-compatible server, through the `openai` client (one per app, thread-safe)."""

    def __init__(self, url: str, model: str | None = None, key: str | None = None,
                 timeout: float = TIMEOUT_S):
        import openai
        self.url = url.rstrip("/")
        self.wanted = model
        self.client = openai.OpenAI(base_url=self.url, api_key=key or "none",
                                    timeout=timeout, max_retries=0)
        self._caps: Capabilities | None = None
        self._lock = threading.Lock()

    # -- what is there --
    def model_id(self) -> str:
        return self.wanted or (self.probe().models[0] if self.probe().models else "")

    def key(self) -> str:
        return key_for(self.model_id() or "model")

    def probe(self) -> Capabilities:
        """Ask the server once what it can do (each feature with a one-token request)."""
        with self._lock:
            if self._caps is None:
                try:
                    self._caps = self._probe()
                except Exception as exc:    # unreachable, too slow: said, and asked again later
                    raise _error(exc, self.url) from None
            return self._caps

    def known(self) -> Capabilities | None:
        """What the server can do, if it has been asked already (never asks)."""
        return self._caps

    def _probe(self) -> Capabilities:
        try:
            listed = self.client.models.list()
        except Exception as exc:
            raise _error(exc, self.url) from None
        rows = list(getattr(listed, "data", []) or [])
        models = tuple(m.id for m in rows)
        if not models and not self.wanted:
            raise UserError("engine_no_model", model="-", models="-", url=self.url)
        model = self.wanted or models[0]
        if self.wanted and models and self.wanted not in models:
            raise UserError("engine_no_model", url=self.url, model=self.wanted,
                            models=", ".join(models))
        row = next((m for m in rows if m.id == model), None)
        window = int(getattr(row, "max_model_len", None) or DEFAULT_WINDOW)
        server = str(getattr(row, "owned_by", "") or "")
        msgs = [{"role": "user", "content": "Hi"}]

        import openai

        def works(call) -> object | None:
            try:
                return call()
            except openai.APIConnectionError:   # unreachable or too slow (APITimeoutError):
                raise                           # that says nothing about the feature
            except Exception:     # a 4xx for an unknown field, a 404 for a missing endpoint
                return None

        # one small request per feature; an unknown field gets a 4xx (or is ignored: then the
        # answer simply lacks what was asked for)
        logp = works(lambda: self.client.chat.completions.create(
            model=model, messages=msgs, max_tokens=PROBE_TOKENS, logprobs=True, top_logprobs=2))
        chat = logp or works(lambda: self.client.chat.completions.create(
            model=model, messages=msgs, max_tokens=PROBE_TOKENS))
        has_logprobs = bool(logp and logp.choices and logp.choices[0].logprobs
                            and logp.choices[0].logprobs.content)
        echo = works(lambda: self.client.completions.create(
            model=model, prompt="Hi there", max_tokens=PROBE_TOKENS, echo=True, logprobs=1))
        comp = echo or works(lambda: self.client.completions.create(
            model=model, prompt="Hi there", max_tokens=PROBE_TOKENS))
        echo_lp = getattr(echo.choices[0], "logprobs", None) if echo and echo.choices else None
        has_echo = bool(echo_lp and len(getattr(echo_lp, "token_logprobs", None) or []) > 1)
        plp = comp and works(lambda: self.client.completions.create(
            model=model, prompt="Hi there", max_tokens=PROBE_TOKENS,
            extra_body={"prompt_logprobs": 1}))
        has_plp = bool(plp and plp.choices and getattr(plp.choices[0], "prompt_logprobs", None))
        sampling = "none"
        if chat is not None:
            if works(lambda: self.client.chat.completions.create(
                    model=model, messages=msgs, max_tokens=PROBE_TOKENS,
                    extra_body={"top_k": 1, "repetition_penalty": 1.0})):
                sampling = "fields"
            elif works(lambda: self.client.chat.completions.create(
                    model=model, messages=msgs, max_tokens=PROBE_TOKENS,
                    extra_body={"generation_config": json.dumps({"do_sample": False})})):
                sampling = "generation_config"
        if chat is None and comp is None:
            raise UserError("engine_http", url=self.url, status="?",
                            detail="no /chat/completions, no /completions")
        return Capabilities(models or (model,), chat is not None, comp is not None,
                            has_logprobs, has_echo, has_plp, sampling, window, server)

    # -- as a model of the app --
    def spec(self):
        from models.core.registry import ModelSpec
        model = self.model_id() or "model"
        return ModelSpec(key=key_for(model), name=f"{short_name(model)} · engine", source=SOURCE,
                         kind="decoder", head="causal-lm", location=model, tasks=ENGINE_TASKS,
                         license="see the server", chat=True,
                         note=f"served by the OpenAI-compatible engine at {self.url}")

    def loaded(self, spec):
        """The LoadedModel the manager hands out for the engine's spec (nothing in memory here)."""
        from models.core.manager import LoadedModel
        caps = self.probe()
        tok = ByteTokenizer()
        tok.model_max_length = caps.window
        return LoadedModel(spec, RemoteModel(spec.name, caps.window), tok, torch.device("cpu"),
                           0, 0, 0.0)

    # -- requests --
    def _sampling(self, settings, caps: Capabilities) -> dict:
        """OpenAI arguments for GenerationSettings; top-k and the repetition penalty go the
        way this server takes them (see the module docstring)."""
        args: dict = {"max_tokens": int(settings.max_new_tokens)}
        if settings.seed is not None:
            args["seed"] = int(settings.seed)
        if caps.sampling == "generation_config":
            cfg = {"do_sample": not settings.greedy,
                   "repetition_penalty": float(settings.repetition_penalty),
                   "max_new_tokens": int(settings.max_new_tokens)}
            if not settings.greedy:
                cfg.update(temperature=float(settings.temperature), top_k=int(settings.top_k),
                           top_p=float(settings.top_p))
            args["extra_body"] = {"generation_config": json.dumps(cfg)}
            return args
        if settings.greedy:
            args["temperature"] = 0.0
        else:
            args.update(temperature=float(settings.temperature), top_p=float(settings.top_p))
        if caps.sampling == "fields":
            args["extra_body"] = {"top_k": int(settings.top_k) if not settings.greedy else 1,
                                  "repetition_penalty": float(settings.repetition_penalty)}
        return args

    def stream(self, prompt_text: str, settings, stop: threading.Event | None = None
               ) -> Iterator[_Stream]:
        """Stream one request: a chat (the prompt renders messages, see ByteTokenizer) or a text
        to continue. Yields the state after each piece of text the server sends."""
        caps = self.probe()
        model = self.model_id()
        args = self._sampling(settings, caps)
        messages = parse_chat(prompt_text)
        want_lp = caps.logprobs and messages is not None
        try:
            if messages is not None:
                if not caps.chat:
                    raise UserError("engine_http", url=self.url, status=404,
                                    detail="/chat/completions")
                if want_lp:
                    args.update(logprobs=True, top_logprobs=TOP_K)
                response = self.client.chat.completions.create(
                    model=model, messages=messages, stream=True, **args)
            else:
                if not caps.completions:
                    raise UserError("engine_http", url=self.url, status=404, detail="/completions")
                response = self.client.completions.create(
                    model=model, prompt=prompt_text, stream=True, **args)
            state = _Stream()
        except Exception as exc:
            raise _error(exc, self.url) from None
        try:
            for chunk in response:
                if stop is not None and stop.is_set():
                    return
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    state.prompt_tokens = int(usage.prompt_tokens or 0)
                    state.completion_tokens = int(usage.completion_tokens or 0)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                piece = (choice.delta.content if messages is not None else choice.text) or ""
                if messages is not None and want_lp and choice.logprobs and choice.logprobs.content:
                    state.steps.extend(token_step(item, settings.greedy)
                                       for item in choice.logprobs.content)
                if piece:
                    state.text += piece
                    state.pieces += 1
                    yield state
            yield state
        except Exception as exc:
            raise _error(exc, self.url) from None
        finally:
            response.close()       # a stopped request frees the server's work too


def key_for(model_id: str) -> str:
    return KEY_PREFIX + slug(short_name(model_id), "model")


def short_name(model_id: str) -> str:
    """A served model's id as a name: the last part of a path or repo id."""
    return str(model_id).rstrip("/").rsplit("/", 1)[-1] or str(model_id)


def parse_chat(prompt_text: str) -> list | None:
    """The messages of a chat prompt rendered by ByteTokenizer, or None for plain text."""
    if not prompt_text.startswith(CHAT_MARK):
        return None
    try:
        return json.loads(prompt_text[len(CHAT_MARK):])
    except ValueError:
        raise UserError("engine_too_long") from None


def token_step(item, greedy: bool):
    """One `logprobs.content` entry ({token, logprob, top_logprobs[]}) -> a TokenStep as the
    local runner records it. The server gives the model's log-probabilities (vLLM by default:
    before temperature, top-k and top-p), so p and model_p are the same number; token ids are
    not sent, so they are -1."""
    from models.runners.next_token import Candidate, TokenStep
    p = math.exp(item.logprob) if item.logprob is not None else 0.0
    cands = [Candidate(-1, c.token, math.exp(c.logprob), math.exp(c.logprob))
             for c in (item.top_logprobs or [])]
    if item.token not in [c.text for c in cands]:
        cands.append(Candidate(-1, item.token, p, p))
    return TokenStep(-1, item.token, p, p, tuple(cands), 1 if greedy else len(cands), greedy)


# ---- the runners' entry points -----------------------------------------------------------
def engine_of(lm):
    """The Engine serving `lm` (set by the manager when it hands the engine's model out)."""
    engine = getattr(lm, "engine", None)
    if engine is None:
        raise UserError("engine_not_set", name=lm.spec.name)
    return engine


def stream_generate(lm, prompt, settings) -> Iterator:
    """models/runners/generation.py `stream_generate` for a served model: GenerationUpdates,
    the last with done=True; steps filled when the server gives logprobs."""
    from models.runners.generation import GenerationUpdate
    settings.check()
    engine = engine_of(lm)
    started = time.perf_counter()
    first = None
    stop = threading.Event()
    state = None
    gen = engine.stream(prompt.text, settings, stop)
    try:
        for state in gen:
            now = time.perf_counter() - started
            first = first if first is not None else now
            yield GenerationUpdate(state.text, state.n_tokens, now, False, prompt.notice, prompt.text, [],
                                   list(state.steps), None, state.prompt_tokens, first)
    finally:
        stop.set()
        gen.close()
    total = time.perf_counter() - started
    text = state.text if state else ""
    n = state.n_tokens if state else 0
    yield GenerationUpdate(text, n, total, True, prompt.notice, prompt.text, [],
                           list(state.steps) if state else [], None,
                           state.prompt_tokens if state else 0, first)


def run_app(lm, prep, settings) -> Iterator:
    """models/runners/applications/run.py `run` for a served model. The prompt is the one
    the app's format builds; what needs the model's score of every token (an answer copied
    from the context, a piece of it scored whole, sentences picked for a summary) cannot be
    asked of a server, so the engine writes its answer freely in the same format."""
    from models.runners.applications import prompts
    from models.runners.applications.run import AppUpdate, TokenInsight
    settings = replace(settings, max_new_tokens=prep.max_new_tokens)
    fmt = prep.fmt
    started = time.perf_counter()
    last = AppUpdate("", 0, 0.0, 0.0, 1)
    stop = threading.Event()
    gen = engine_of(lm).stream(prep.prompt_text, settings, stop)
    try:
        for state in gen:
            if fmt is None:
                text, ended = prompts.drop_broken(state.text).strip(), False
            else:
                text, ended = prompts.clean(state.text, fmt)
            last = AppUpdate(text, state.n_tokens, time.perf_counter() - started, 0.0, 1, False)
            last.insight = [TokenInsight(s.text, s.model_p, None,
                                         tuple((c.text, c.model_p, None) for c in s.candidates[:5]))
                            for s in state.steps]
            if ended:
                break
            yield last
    finally:
        stop.set()
        gen.close()
    last.done = True
    last.seconds = time.perf_counter() - started
    yield last
