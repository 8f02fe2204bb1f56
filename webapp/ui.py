"""build_app(manager, jobs) -> gr.Blocks: the header with the language switch, and one tab
per module in TABS. Later tabs add themselves to TABS; each module exposes TITLE_KEY,
TAB_ID and build(ctx)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from models.core.files import ASSETS
from models.core.jobs import JobRunner
from models.core.manager import ModelManager

from webapp.tabs import applications as tab_applications
from webapp.tabs import attention as tab_attention
from webapp.tabs import finetune as tab_finetune
from webapp.tabs import generate as tab_generate
from webapp.tabs import models as tab_models
from webapp.tabs import pretrain as tab_pretrain
from webapp.tabs import scale as tab_scale
from webapp.tabs import teacher as tab_teacher
from webapp.common import AppContext, model_choices
from webapp.i18n import Localizer
from webapp.tabs import why as tabs_why

# The order a learner meets the ideas: try a model, look inside (attention, then why this
# token), how it learned (pre-training, fine-tuning), what it is used for, what it costs; the
# model room last.
TABS = [tab_generate, tab_attention, tabs_why, tab_pretrain, tab_finetune, tab_applications,
        tab_scale, tab_models]

CSS = (ASSETS / "app.css").read_text(encoding="utf-8") if (ASSETS / "app.css").exists() else ""

# Picks the browser's language on first load unless the server was started with --lang.
# It marks <body data-lang-ready> once done (browser tests wait for it before switching).
DETECT_LANG_JS = """(current) => {
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  setTimeout(() => { document.body.dataset.langReady = '1'; }, 0);
  if (current === 'zh') return current;   // the user switched before the page finished loading
  return nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}"""


def _gradio_locale_js() -> str:
    """JS run on every language change: Gradio's own words (the upload box's "Drop File Here",
    the footer, progress text) follow the app's language switch, not only the browser's. The
    frontend exports `changeLocale` from its core module; importing the same URL gives the same
    module instance the page uses (the path is relative to the frontend's own modules)."""
    frontend = Path(gr.__file__).parent / "templates" / "frontend" / "assets"
    core = next(iter(sorted(frontend.glob("core-*.js"))), None)
    if core is None:      # another Gradio build: Gradio's words then follow the browser only
        return "(lang) => { document.body.dataset.langReady = '1'; return lang; }"
    return ("(lang) => { import('./" + core.name + "').then(m => m.changeLocale("
            "lang === 'zh' ? 'zh-CN' : 'en')).catch(() => {}); "
            "document.body.dataset.langReady = '1'; return lang; }")


def build_app(manager: ModelManager, jobs: JobRunner, lang: str = "auto",
              classroom=None, _room=None) -> gr.Blocks:
    """`classroom` (webapp/access.py, app.py --classroom): adds the Teacher tab and puts every
    event behind the classroom's checks."""
    if classroom is not None:
        # the page every browser gets is built as a student with no models of their own: no
        # student's model name is in it (each person's lists are filled when a tab opens)
        from models.core.accounts import CURRENT_USER, User
        token = CURRENT_USER.set(User("", "student"))
        try:
            return build_app(manager, jobs, lang, classroom=None, _room=classroom)
        finally:
            CURRENT_USER.reset(token)
    classroom, _room = _room, None
    start_lang = lang if lang in ("en", "zh") else "en"
    loc = Localizer(start_lang)
    with gr.Blocks(title="LLM Explorer", analytics_enabled=False) as demo:
        with gr.Row(elem_id="app-header"):
            loc.Markdown(value_key="app.title", elem_id="app-title")
            lang_radio = loc.Radio(label_key="app.lang", choices=[("English", "en"), ("中文", "zh")],
                                   value=start_lang, elem_id="lang-radio", scale=0,
                                   min_width=200, container=False)
        loc.Markdown(value_key="app.tagline", elem_id="app-tagline")
        if classroom is not None:      # Gradio's own /logout route (a login per person)
            loc.Markdown(value_key="teach.logout", elem_id="logout")
        ctx = AppContext(manager=manager, jobs=jobs, loc=loc, lang=lang_radio, demo=demo,
                         classroom=classroom)
        if classroom is not None:      # a one-time password is changed before anything else
            tab_teacher.build_password_box(ctx)
        with gr.Tabs(elem_id="main-tabs") as tabs:
            ctx.tabs = tabs
            tab_blocks = []
            for tab in TABS + ([tab_teacher] if classroom is not None else []):
                with loc.Tab(label_key=tab.TITLE_KEY, id=tab.TAB_ID, elem_id=f"tab-{tab.TAB_ID}",
                             visible=getattr(tab, "VISIBLE", True)) as block:
                    ctx.current_tab = block
                    tab.build(ctx)
                tab_blocks.append(block)
        for hook in ctx.after_build:
            hook(ctx)
        _refresh_pickers_on_open(ctx, tab_blocks)
        # the relabelling is instant work: outside the queue, so it never waits behind the
        # page's load events or another user's model work
        lang_radio.change(loc.updates, [lang_radio] + loc.typed_inputs(), loc.components(),
                          show_progress="hidden", api_visibility="private", queue=False)
        lang_radio.change(None, [lang_radio], None, js=_gradio_locale_js(),
                          api_visibility="private")
        if lang == "auto":
            demo.load(None, [lang_radio], [lang_radio], js=DETECT_LANG_JS, api_visibility="private")
        else:   # --lang forces the language: Gradio's own words follow it too
            demo.load(None, [lang_radio], None, js=_gradio_locale_js(), api_visibility="private")
    if classroom is not None:
        classroom.guard(demo)          # every handler, after every tab has wired its events
    return demo


def _refresh_pickers_on_open(ctx: AppContext, tab_blocks: list) -> None:
    """Model lists are built with the page; a model trained or added later appears in every
    tab's picker as soon as a tab is opened (the chosen value is kept), and the lists follow
    the language switch."""
    pickers = [dd for dd, _task in ctx.pickers]
    if not pickers:
        return

    def refresh(lang):
        return [gr.update(choices=model_choices(ctx.manager, task, lang)) for _dd, task in ctx.pickers]
    for trigger in [block.select for block in tab_blocks] + [ctx.lang.change]:
        trigger(refresh, [ctx.lang], pickers, show_progress="hidden", api_visibility="private",
                queue=False)


# Gradio's queue looks for new work every 1 ms and for progress to send every 10 ms while
# idle (gradio/queueing.py Queue.sleep_when_free, progress_update_sleep_when_free). On a
# 2-core CPU that wake-up loop took ~5 % of a core, idle or not (0.26 s of CPU in 5 idle
# seconds), and every wake-up can push one of torch's two threads off its core in the middle
# of a step: generation through the app ran at ~0.87 of a direct `generate`
# (bench/bench_foundation.py). Looking every 20 ms adds at most 20 ms before a request starts.
QUEUE_POLL_S = 0.02
PROGRESS_POLL_S = 0.1


def calm_queue(demo: gr.Blocks) -> None:
    """After demo.queue(): the queue's idle polling at QUEUE_POLL_S / PROGRESS_POLL_S."""
    queue = demo._queue
    for name, seconds in (("sleep_when_free", QUEUE_POLL_S),
                          ("progress_update_sleep_when_free", PROGRESS_POLL_S)):
        if hasattr(queue, name):     # a gradio that renamed them polls as it likes
            setattr(queue, name, max(getattr(queue, name), seconds))


def launch_kwargs() -> dict:
    """Arguments for demo.launch() that belong to the look (gradio 6: theme/css are launch args)."""
    return {"css": CSS, "theme": gr.themes.Soft(), "footer_links": ["api", "settings"]}
