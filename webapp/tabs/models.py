"""Models tab: the device, every registered model with its source and state, a memory gauge,
load / unload / delete, and adding a model by local folder or Hub id."""
from __future__ import annotations

import html

import gradio as gr

from models.core.device import format_bytes
from models.core.manager import ModelManager

from webapp.common import HEAVY, AppContext, action_message, model_label, wire_action
from webapp.i18n import progress_words, render, t

TITLE_KEY = "tab.models"
TAB_ID = "models"


def status_json(manager: ModelManager, lang: str = "en") -> dict:
    st = manager.status()
    return {"device": st.device, "budget_bytes": st.budget_bytes, "used_bytes": st.used_bytes,
            "models": [{"key": r.key, "name": r.name, "source": r.source, "kind": r.kind,
                        "params": r.params, "size_bytes": r.size_bytes, "state": r.state,
                        "progress": render(r.progress, lang) if r.progress else "",
                        "license": r.license, "in_use": r.in_use}
                       for r in st.rows]}


def status_table(manager: ModelManager, lang: str) -> str:
    """The models as an HTML table that wraps to the page width (every column in view)."""
    cols = t("models.cols", lang).split("|")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for r in manager.status().rows:
        state = render(r.progress, lang) if r.progress else t("state." + r.state, lang)
        params = f"{r.params / 1e6:.1f} M" if r.params else "?"
        cells = [r.name, r.key, t("source." + r.source, lang), t("kind." + r.kind, lang), params,
                 format_bytes(r.size_bytes), state, r.license]
        cls = f' class="state-{r.state.split()[0]}"'
        rows.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                    + "</tr>")
    return (f'<table class="models-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def gauge_html(manager: ModelManager, lang: str) -> str:
    st = manager.status()
    frac = min(1.0, st.used_bytes / st.budget_bytes) if st.budget_bytes else 0
    color = "#16a34a" if frac < 0.7 else ("#d97706" if frac < 0.9 else "#dc2626")
    loaded = ", ".join(html.escape(r.name) for r in st.rows if r.state == "loaded") or "—"
    return (f'<div class="mem-gauge" role="meter" aria-valuenow="{frac * 100:.0f}" '
            f'aria-valuemin="0" aria-valuemax="100">'
            f'<div class="mem-label">{html.escape(t("models.memory", lang))}: '
            f'<b>{format_bytes(st.used_bytes)}</b> / {format_bytes(st.budget_bytes)} '
            f'({frac * 100:.0f}%)</div>'
            f'<div class="mem-track"><div class="mem-fill" style="width:{frac * 100:.1f}%;'
            f'background:{color}"></div></div><div class="mem-models">{loaded}</div></div>')


def loading_html(lang: str) -> str:
    """Shown until the real state arrives, so a stale '0 B' is never on screen."""
    return f'<div class="models-loading">⏳ {html.escape(t("models.reading", lang))}</div>'


# ---- handlers (plain inputs and outputs) ----------------------------------------------------

def refresh(manager: ModelManager, lang: str):
    return status_json(manager, lang), status_table(manager, lang), gauge_html(manager, lang)


def load(manager: ModelManager, key: str, lang: str, progress=None):
    spec = manager.registry.get(key)
    if manager.is_loaded(key):
        return t("models.already", lang, name=spec.name)
    lm = manager.load(key, progress=progress)
    return t("models.loaded", lang, name=spec.name, size=format_bytes(lm.nbytes),
             secs=lm.load_seconds)


def unload(manager: ModelManager, key: str, lang: str) -> str:
    spec = manager.registry.get(key)
    done = manager.unload(key)
    return t("models.unloaded" if done else "models.not_loaded", lang, name=spec.name)


def add(manager: ModelManager, text: str, lang: str):
    text = (text or "").strip()
    looks_like_path = text.startswith(("/", ".", "~")) or "\\" in text
    spec = manager.register_local(text) if looks_like_path else manager.register_hub(text)
    return spec, t("models.added", lang, name=spec.name, key=spec.key, kind=spec.kind,
                   tasks=", ".join(sorted(spec.tasks)))


def delete(manager: ModelManager, key: str, lang: str) -> str:
    spec = manager.registry.get(key)
    files_deleted = manager.delete(key)
    return t("models.deleted_files" if files_deleted else "models.forgotten", lang,
             name=spec.name, folder=spec.location)


def _choices(manager: ModelManager, lang: str = "en"):
    return [(model_label(s, lang), s.key) for s in manager.registry.all()]


# ---- layout and wiring ------------------------------------------------------------------------

def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="models.intro")
    device = gr.Markdown(f"**{t('models.device', loc.lang)}:** {manager.device.describe()}",
                         elem_id="device-info")
    gauge = gr.HTML(loading_html(loc.lang), elem_id="mem-gauge")
    loc.Markdown(value_key="models.table_title")
    table = gr.HTML(loading_html(loc.lang), elem_id="models-table")
    with gr.Row(equal_height=True):
        pick = loc.Dropdown(label_key="models.pick", scale=3, elem_id="models-pick",
                            choices=_choices(manager, loc.lang), value="smollm2",
                            allow_custom_value=True)
        load_btn = loc.Button(value_key="models.load", variant="primary", scale=1,
                              elem_id="models-load")
        unload_btn = loc.Button(value_key="models.unload", scale=1, elem_id="models-unload")
        delete_btn = loc.Button(value_key="models.delete", variant="stop", scale=1,
                                elem_id="models-delete")
        refresh_btn = loc.Button(value_key="models.refresh", scale=1, elem_id="models-refresh")
    with gr.Row(visible=False, elem_id="models-confirm") as confirm_row:
        confirm_text = gr.Markdown(elem_id="models-confirm-text")
        yes_btn = loc.Button(value_key="models.delete_yes", variant="stop", scale=0,
                             elem_id="models-delete-yes")
        no_btn = loc.Button(value_key="models.delete_no", scale=0, elem_id="models-delete-no")
    message = gr.Markdown(elem_id="models-message")
    error = action_message("models-error")
    with gr.Row():
        add_box = loc.Textbox(label_key="models.add", placeholder_key="models.add_ph", scale=4,
                              elem_id="models-add-box")
        add_btn = loc.Button(value_key="models.add_btn", scale=1, elem_id="models-add")
    # with --classroom these are shown to teachers only (webapp/tabs/teacher.py), and the
    # server refuses their actions to students (webapp/access.py TEACHER_ONLY)
    ctx.teacher_only.extend(
        [load_btn, unload_btn, delete_btn, add_box, add_btn])
    api_json = gr.JSON(visible=False)
    outs = [api_json, table, gauge]

    def on_refresh(lang):
        return refresh(manager, lang)

    def on_load(key, lang, progress=gr.Progress()):
        if not manager.is_loaded(key):
            progress(0, desc=t("models.loading", lang, name=manager.registry.get(key).name))
        msg = load(manager, key, lang, progress=progress_words(progress, lang))
        return (msg,) + refresh(manager, lang)

    def on_unload(key, lang):
        return (unload(manager, key, lang),) + refresh(manager, lang)

    def on_add(text, lang):
        spec, msg = add(manager, text, lang)
        return ((msg, gr.update(choices=_choices(manager, lang), value=spec.key))
                + refresh(manager, lang))

    def ask_delete(key, lang):
        spec = manager.registry.get(key)
        if not manager.registry.removable(spec):
            return gr.update(visible=False), "", t("models.not_removable", lang, name=spec.name)
        return gr.update(visible=True), t("models.delete_ask", lang, name=spec.name), ""

    def on_delete(key, lang):
        msg = delete(manager, key, lang)
        return ((msg, gr.update(choices=_choices(manager, lang), value="smollm2"),
                 gr.update(visible=False)) + refresh(manager, lang))

    refresh_btn.click(on_refresh, [lang], outs, api_name="models_status", show_progress="hidden")
    # Each action's error shows under the buttons (models-error); success in models-message.
    wire_action(load_btn.click, on_load, [pick, lang], [message] + outs, message=error,
                clear=[message], api_name="load_model", show_progress_on=[message], **HEAVY)
    wire_action(unload_btn.click, on_unload, [pick, lang], [message] + outs, message=error,
                clear=[message], api_name="unload_model", show_progress="hidden")
    wire_action(add_btn.click, on_add, [add_box, lang], [message, pick] + outs, message=error,
                clear=[message], api_name="add_model", show_progress="hidden")
    delete_btn.click(ask_delete, [pick, lang], [confirm_row, confirm_text, message],
                     show_progress="hidden", api_visibility="private")
    no_btn.click(lambda: gr.update(visible=False), None, [confirm_row], show_progress="hidden",
                 api_visibility="private")
    wire_action(yes_btn.click, on_delete, [pick, lang], [message, pick, confirm_row] + outs,
                message=error, clear=[message], api_name="delete_model", show_progress="hidden",
                **HEAVY)
    # The real state as soon as the page or the tab opens (a loading sign until then), kept
    # honest while other tabs load models, and translated with the UI.
    ctx.demo.load(on_refresh, [lang], outs, show_progress="hidden", api_visibility="private")
    ctx.current_tab.select(on_refresh, [lang], outs, show_progress="hidden",
                           api_visibility="private")
    gr.Timer(5.0).tick(on_refresh, [lang], outs, show_progress="hidden", api_visibility="private")
    lang.change(on_refresh, [lang], outs, show_progress="hidden", api_visibility="private")
    lang.change(lambda lang: f"**{t('models.device', lang)}:** {manager.device.describe()}",
                [lang], [device], api_visibility="private")
    from webapp.tabs import my_jobs                 # "My jobs": the user's training jobs
    my_jobs.build(ctx)
