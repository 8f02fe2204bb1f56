"""What every tab shares: the app context passed to each `build`, the heavy-work concurrency
settings, and the wrapper that turns errors into messages a user can act on."""
from __future__ import annotations

import functools
import html
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr

from models.errors import UserError
from models.jobs import JobRunner
from models.manager import ModelManager

from .i18n import LANGS, Localizer, error_text, t

log = logging.getLogger("llm_explorer")

# Every event that runs a model joins this group: one at a time on the device, the rest
# wait in Gradio's queue and see their position.
HEAVY = {"concurrency_id": "device", "concurrency_limit": 1}


@dataclass
class AppContext:
    """Handed to every tab's build(). `lang` is the language radio (an input to handlers that
    produce text); `shared` lets tabs publish components others wire to (after_build)."""
    manager: ModelManager
    jobs: JobRunner
    loc: Localizer
    lang: Any = None                     # gr.Radio with "en" / "zh"
    demo: Any = None                     # the gr.Blocks being built (for demo.load)
    tabs: Any = None                     # gr.Tabs, to switch tabs from an event
    current_tab: Any = None              # the gr.Tab being built (for its .select event)
    shared: dict = field(default_factory=dict)
    after_build: list = field(default_factory=list)   # callables run once all tabs exist
    pickers: list = field(default_factory=list)       # (model Dropdown, task), see model_picker


def _lang_of(fn: Callable, args, kwargs) -> str:
    """The handler's `lang` argument, found by name (Gradio may pass gr.Progress after it)."""
    try:
        lang = inspect.signature(fn).bind_partial(*args, **kwargs).arguments.get("lang")
    except TypeError:
        lang = None
    return lang if lang in LANGS else "en"


def _as_gr_error(exc: BaseException, lang: str) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, UserError):
        return gr.Error(html.escape(error_text(exc, lang), quote=False), duration=12)
    log.exception("unexpected error in a handler")
    return gr.Error(html.escape(t("app.bug", lang, what=type(exc).__name__), quote=False), duration=None)


def friendly(fn: Callable) -> Callable:
    """Decorate a handler that has an argument named `lang`: UserError becomes a gr.Error in the
    user's language; any other exception is logged and reported as a bug, and the server
    keeps running. Works for plain functions and generators (streaming)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _as_gr_error(exc, _lang_of(fn, args, kwargs)) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
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
    order = {"packaged": 0, "local": 1, "hub": 2}
    specs = sorted(manager.registry.for_task(task), key=lambda s: (order[s.source], s.name))
    out = []
    for spec in specs:
        state = manager.registry.availability(spec)
        blocked = state in ("needs download (offline)", "missing", "downloadable")
        out.append((f"{spec.name} · {t('state.' + state, lang)}" if blocked else spec.name, spec.key))
    return out
