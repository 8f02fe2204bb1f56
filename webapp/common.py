"""What every tab shares: the app context passed to each `build`, the heavy-work concurrency
settings, the wrapper that turns errors into messages a user can act on, the one reader
of number boxes (`read_number`) and of generation settings (`generation_settings`)."""
from __future__ import annotations

import functools
import html
import inspect
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import gradio as gr

from models.core.errors import UserError
from models.core.jobs import INTERRUPTED, JobRunner
from models.core.manager import ModelManager
from models.runners.generation import WHOLE as WHOLE_SETTINGS
from models.runners.generation import GenerationSettings

from webapp.i18n import LANGS, Localizer, render, t

log = logging.getLogger("llm_explorer")

# Every event that runs a model joins this group: one at a time on the device, the rest
# wait in Gradio's queue and see their position.
HEAVY = {"concurrency_id": "device", "concurrency_limit": 1}


@dataclass(frozen=True)
class AttentionLink:
    """What the Attention tab offers other tabs ("See attention for this output"): the inputs
    they fill, and its run handler with its inputs and outputs to chain after filling them."""
    model: Any
    text: Any
    target: Any
    run: Callable
    inputs: list
    outputs: list


@dataclass(frozen=True)
class GenerateLink:
    """What the Generate tab offers the "Why" tab: its model and prompt, the prompt it really
    sent (chat template included), its answer step by step, and the "explore" button."""
    model: Any
    prompt: Any
    sent: Any
    steps: Any
    why: Any


@dataclass
class AppContext:
    """Handed to every tab's build(). `lang` is the language radio (an input to handlers that
    produce text); tabs publish what other tabs wire to as typed links (`attention`,
    `generate`), read in `after_build` hooks once every tab exists."""
    manager: ModelManager
    jobs: JobRunner
    loc: Localizer
    lang: Any = None                     # gr.Radio with "en" / "zh"
    demo: Any = None                     # the gr.Blocks being built (for demo.load)
    tabs: Any = None                     # gr.Tabs, to switch tabs from an event
    current_tab: Any = None              # the gr.Tab being built (for its .select event)
    attention: AttentionLink | None = None
    generate: GenerateLink | None = None
    teacher_only: list = field(default_factory=list)   # controls only teachers see (--classroom)
    after_build: list = field(default_factory=list)   # callables run once all tabs exist
    pickers: list = field(default_factory=list)       # (model Dropdown, task), see model_picker
    classroom: Any = None                # webapp/access.py Classroom with --classroom, else None
    attention_views: Any = None          # models/runners/attention.py ViewStore (Attention tab)
    followers: dict = field(default_factory=dict)   # follow_job name -> (box, poll, render, outputs)


def _lang_of(fn: Callable, args, kwargs) -> str:
    """The handler's `lang` argument, found by name (Gradio may pass gr.Progress after it)."""
    try:
        lang = inspect.signature(fn).bind_partial(*args, **kwargs).arguments.get("lang")
    except TypeError:
        lang = None
    return lang if lang in LANGS else "en"


def message_text(exc: BaseException, lang: str) -> str:
    """What the user reads for an exception, in their language: a UserError's words (its code
    and params rendered by webapp/text.py: what happened and what to do), or "something went
    wrong inside the app" for a bug (logged in full)."""
    if isinstance(exc, gr.Error):
        return str(exc.message)
    if isinstance(exc, UserError):
        return render(exc, lang)
    log.error("unexpected error in a handler", exc_info=exc)
    return t("app.bug", lang, what=type(exc).__name__)


def _as_gr_error(exc: BaseException, lang: str, visible: bool = True) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    is_bug = not isinstance(exc, UserError)
    return gr.Error(html.escape(message_text(exc, lang), quote=False), visible=visible,
                    duration=None if is_bug else 12, title=t("app.error_title", lang),
                    print_exception=False)


def readable(value):
    """Text as every library can read it: a lone surrogate (which JSON can carry and a browser
    can send, but UTF-8 cannot encode, so tokenizers fail on it) becomes U+FFFD. Goes into
    lists, tuples and dicts; anything else is returned as it is."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    if isinstance(value, tuple):
        return tuple(readable(v) for v in value)
    if isinstance(value, list):
        return [readable(v) for v in value]
    if isinstance(value, dict):
        return {k: readable(v) for k, v in value.items()}
    return value


def friendly(fn: Callable) -> Callable:
    """Decorate a handler that has an argument named `lang`: UserError becomes a gr.Error in the
    user's language; any other exception is logged and reported as a bug, and the server
    keeps running. Works for plain functions and generators (streaming)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            args, kwargs = readable(args), readable(kwargs)
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _as_gr_error(exc, _lang_of(fn, args, kwargs)) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, kwargs = readable(args), readable(kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _as_gr_error(exc, _lang_of(fn, args, kwargs)) from None
    return wrapper


def model_picker(ctx: "AppContext", task: str, **kwargs):
    """A model Dropdown for `task`: lists the models that can do it, accepts any registered key
    (so API users get our message, not Gradio's), and is refreshed by ui.py whenever a tab opens
    or the language changes."""
    kwargs.setdefault("allow_custom_value", True)
    dropdown = ctx.loc.Dropdown(choices=model_choices(ctx.manager, task, ctx.loc.lang), **kwargs)
    ctx.pickers.append((dropdown, task))
    return dropdown


def model_choices(manager: ModelManager, task: str, lang: str = "en") -> list[tuple[str, str]]:
    """(label, key) pairs for a model dropdown: the models that can do `task`, packaged ones
    first. Models that cannot be used now (Hub while offline, missing files) say so."""
    order = {"packaged": 0, "engine": 1, "local": 2, "hub": 3}   # engine: app.py --engine-url
    specs = sorted(manager.registry.for_task(task), key=lambda s: (order.get(s.source, 4), s.name))
    out = []
    for spec in specs:
        state = manager.registry.availability(spec)
        blocked = state in ("needs download (offline)", "missing", "downloadable")
        name = model_label(spec, lang)
        out.append((f"{name} · {t('state.' + state, lang)}" if blocked else name, spec.key))
    return out


def model_label(spec, lang: str = "en") -> str:
    """A model as every picker names it: its name (never given twice, models/core/registry.py)
    and, for a model trained here, when and by which job, e.g. "minilm-sentiment_en ·
    2026-12-07 23:50 · job 3f2a" (the start of the job's id in "My jobs")."""
    if not spec.job_id:
        return spec.name
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(spec.created))
    return t("jobs.made_by", lang, name=spec.name, when=when,
             job=spec.job_id.rsplit("-", 1)[-1][:4])


# ---- one place for an action's error ------------------------------------------------------

# An empty box ("" would leave the old HTML in the browser), hidden by assets/app.css.
NO_MESSAGE = '<div class="action-none"></div>'


def action_message(elem_id: str | None = None) -> gr.HTML:
    """The box where an action's error appears: place it right under the action's button.
    Empty (and taking no room) until something goes wrong; see `wire_action`."""
    return gr.HTML(NO_MESSAGE, elem_id=elem_id, elem_classes=["action-msg"], padding=False)


def render_message(text: str, kind: str = "error") -> str:
    """HTML for the message box; `text` is escaped (it may quote what the user typed)."""
    icon = {"error": "⚠️", "info": "ℹ️"}.get(kind, "")
    return (f'<div class="action-{kind}" role="{"alert" if kind == "error" else "status"}">'
            f'{icon} {html.escape(text, quote=False)}</div>')


def _as_list(out, n: int) -> list:
    if n == 1:
        return [out]
    out = list(out) if isinstance(out, (tuple, list)) else [out]
    if len(out) != n:
        raise TypeError(f"handler returned {len(out)} values for {n} outputs")
    return out


def wire_action(triggers, fn: Callable, inputs: list, outputs: list, *, message: gr.HTML,
                clear: list | None = None, api_name: str | None = None,
                skip: Callable | None = None, **event_kwargs) -> list:
    """Wire an action so that its errors appear in one place, next to its button.

    `triggers`: one event listener or a list (`[run.click, prompt.submit]`). `fn`: the handler,
    plain or generator, with an argument named `lang`; it raises UserError for what the user can
    fix. When the action starts, the outputs in `clear` (default: all of them) and the message
    are emptied, so no stale result stays beside a new question. A UserError or a bug shows in
    `message`, in the user's language; the server keeps running and nothing else is touched.

    With `api_name`, the same handler is also published under that name for API clients, with
    the same inputs and outputs, and errors reach them as exceptions (gradio_client raises).
    `skip(*args, **kwargs)`, called with the handler's arguments when a UI event starts: when
    it returns True the run is dropped before it touches anything (a run that waited in the
    queue while the user pressed Stop). Returns the events, for `cancels=`."""
    triggers = triggers if isinstance(triggers, (list, tuple)) else [triggers]
    outputs = list(outputs)
    n = len(outputs)
    to_clear = {id(c) for c in (outputs if clear is None else clear)}
    is_gen = inspect.isgeneratorfunction(fn)
    hide = NO_MESSAGE

    @functools.wraps(fn)
    def ui(*args, **kwargs):
        if skip is not None and skip(*args, **kwargs):
            yield *[gr.update()] * n, gr.update()
            return
        # plain values, not gr.update(value=...): Gradio skips an update back to the initial value
        yield *[None if id(c) in to_clear else gr.update() for c in outputs], hide
        try:
            if is_gen:
                for out in fn(*args, **kwargs):
                    yield *_as_list(out, n), hide
            else:
                yield *_as_list(fn(*args, **kwargs), n), hide
        except Exception as exc:
            text = message_text(exc, _lang_of(fn, args, kwargs))
            yield *[gr.update()] * n, render_message(text)

    event_kwargs.setdefault("show_progress_on", outputs or [message])
    # the UI events get their own (private) name, so `api_name` stays free for the endpoint
    # (otherwise a handler named like its endpoint takes the name and the API gets "<name>_1")
    ui_name = {"api_name": f"{api_name}_ui"} if api_name else {}
    events = [trigger(ui, inputs, outputs + [message], api_visibility="private", **ui_name,
                      **event_kwargs) for trigger in triggers]
    if api_name:
        endpoint = gr.Button(visible=False, render=True)
        events.append(endpoint.click(friendly(fn), inputs, outputs, api_name=api_name,
                                     **event_kwargs))
    return events


QUIET = {"show_progress": "hidden", "api_visibility": "private"}   # redraws: no spinner, no timer


def follow_job(ctx: AppContext, name: str, job_box, render: Callable, outputs: list,
               started=(), attach=None, resume=None) -> None:
    """The one way a tab follows its background job (fine-tuning, pre-training, ...).

    The id is kept in the browser's localStorage under "llm-explorer-<name>-job-id" (read
    directly: a gr.BrowserState inside a tab not shown yet is not mounted at page load), so a
    reload reattaches. `render(job_id, lang)` draws the job into `outputs`, whose last one is
    the gr.Timer that polls while the job runs (render returns gr.Timer(active=...) for it).
    `started`: events whose success put a new id in `job_box`; `attach`: a trigger for an id
    the user typed (a job started in another browser or on another computer). The drawing
    follows the timer, the page load and the language switch. `resume`: a hidden button, shown
    while the job is interrupted (its server stopped, models/core/jobs.py INTERRUPTED); a
    click queues it again and follows it (the same action as /my_job_resume)."""
    key = f"llm-explorer-{name}-job-id"
    save = ("(id) => { try { if (id && id.trim()) localStorage.setItem('%s', id.trim()); } "
            "catch (e) {} return id; }" % key)
    load = ("(id) => { try { return localStorage.getItem('%s') || id || ''; } "
            "catch (e) { return id || ''; } }" % key)
    poll, lang = outputs[-1], ctx.lang
    ctx.followers[name] = (job_box, poll, render, outputs)     # "My jobs" opens a job here

    def remember(job_id):
        return gr.Timer(active=bool((job_id or "").strip()))

    def reattach(stored):
        stored = (stored or "").strip()
        return (stored, gr.Timer(active=True)) if stored else (gr.skip(), gr.skip())

    for event in list(started) + ([attach] if attach is not None else []):
        event(remember, [job_box], [poll], js=save, api_visibility="private").then(
            render, [job_box, lang], outputs, **QUIET)
    poll.tick(render, [job_box, lang], outputs, **QUIET)
    loaded = None
    if ctx.demo is not None:
        loaded = ctx.demo.load(reattach, [job_box], [job_box, poll], js=load,
                               api_visibility="private").then(render, [job_box, lang], outputs,
                                                              **QUIET)
    lang.change(render, [job_box, lang], outputs, **QUIET)
    if resume is None:
        return

    def interrupted(job_id):
        try:
            show = ctx.jobs.snapshot((job_id or "").strip()).status == INTERRUPTED
        except UserError:
            show = False
        return gr.update(visible=show)

    def on_resume(job_id, lang):
        ctx.jobs.resume((job_id or "").strip())
        return gr.Timer(active=True), gr.update(visible=False)

    for event in [poll.tick] + ([loaded.then] if loaded is not None else []):
        event(interrupted, [job_box], [resume], **QUIET)
    resume.click(friendly(on_resume), [job_box, lang], [poll, resume], api_visibility="private",
                 show_progress="hidden").then(render, [job_box, lang], outputs, **QUIET)


def setting_number(value, name: str, code: str, cast=float):
    """A training setting's box as a `cast` number; an empty box or text that is not a number
    raises UserError(code) naming the setting (each tab words the code in its strings)."""
    try:
        number = read_number(value)
        if number is None:
            raise ValueError("empty")
        return cast(number)
    except (TypeError, ValueError, OverflowError):
        raise UserError(code, name=name, value=value) from None


def read_number(value) -> float | None:
    """What a number box (or an API client) sent, as a float: None when it is empty (None, ''
    or spaces); ValueError when it holds something that is not a number. NaN and infinity come
    back as they are, for the caller's range check to refuse with its own message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except TypeError:
        raise ValueError(f"{value!r} is not a number") from None


def generation_settings(base: GenerationSettings, **boxes) -> GenerationSettings:
    """Generation settings from the UI's boxes (or an API client's values), checked: each box
    is read by `read_number`; an empty one keeps `base`'s value, text that is not a number is
    refused by the range check with the setting's name. `greedy` is a tick box; a negative
    `seed` means "draw anew each time"."""
    values = {}
    for name, value in boxes.items():
        if name == "greedy":
            values[name] = bool(value)
            continue
        try:
            number = read_number(value)
        except ValueError:
            number = float("nan")
        if number is None:
            continue
        if name == "seed" and number < 0:
            values[name] = None
        elif name in WHOLE_SETTINGS and number == number and abs(number) < 1e18 \
                and number == int(number):
            values[name] = int(number)
        else:
            values[name] = number
    return replace(base, **values).check()
