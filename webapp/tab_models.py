"""Models tab: the device, every registered model with its source and state, a memory gauge,
load / unload, and adding a model by local folder or Hub id."""
from __future__ import annotations

import html

import gradio as gr

from models.device import format_bytes
from models.manager import ModelManager

from .common import HEAVY, AppContext, friendly
from .i18n import t

TITLE_KEY = "tab.models"
TAB_ID = "models"


def status_json(manager: ModelManager) -> dict:
    st = manager.status()
    return {"device": st.device, "budget_bytes": st.budget_bytes, "used_bytes": st.used_bytes,
            "models": [{"key": r.key, "name": r.name, "source": r.source, "kind": r.kind,
                        "params": r.params, "size_bytes": r.size_bytes, "state": r.state,
                        "progress": r.progress, "license": r.license, "in_use": r.in_use}
                       for r in st.rows]}


def status_table(manager: ModelManager, lang: str) -> dict:
    rows = []
    for r in manager.status().rows:
        state = r.progress or t("state." + r.state, lang)
        params = f"{r.params / 1e6:.1f} M" if r.params else "?"
        rows.append([r.name, r.key, t("source." + r.source, lang), t("kind." + r.kind, lang), params,
                     format_bytes(r.size_bytes), state, r.license])
    return gr.update(value=rows, headers=t("models.cols", lang).split("|"))


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


def build(ctx: AppContext) -> None:
    manager, loc = ctx.manager, ctx.loc
    loc.Markdown(value_key="models.intro")
    device = gr.Markdown(f"**{t('models.device', loc.lang)}:** {manager.device.describe()}",
                         elem_id="device-info")
    gauge = gr.HTML(gauge_html(manager, loc.lang), elem_id="mem-gauge")
    table = loc.Dataframe(label_key="models.table", interactive=False, wrap=True,
                          elem_id="models-table", value=status_table(manager, loc.lang)["value"],
                          headers=t("models.cols", loc.lang).split("|"))
    with gr.Row():
        pick = loc.Dropdown(label_key="models.pick", scale=3, elem_id="models-pick",
                            choices=[(s.name, s.key) for s in manager.registry.all()],
                            value="smollm2", allow_custom_value=True)
        load_btn = loc.Button(value_key="models.load", variant="primary", scale=1,
                              elem_id="models-load")
        unload_btn = loc.Button(value_key="models.unload", scale=1, elem_id="models-unload")
        refresh_btn = loc.Button(value_key="models.refresh", scale=1, elem_id="models-refresh")
    message = gr.Markdown(elem_id="models-message")
    with gr.Row():
        add_box = loc.Textbox(label_key="models.add", placeholder_key="models.add_ph", scale=4,
                              elem_id="models-add-box")
        add_btn = loc.Button(value_key="models.add_btn", scale=1, elem_id="models-add")
    api_json = gr.JSON(visible=False)
    lang = ctx.lang

    def refresh(lang):
        return status_json(manager), status_table(manager, lang), gauge_html(manager, lang)

    @friendly
    def load(key, lang, progress=gr.Progress()):
        spec = manager.registry.get(key)
        if manager.is_loaded(key):
            msg = t("models.already", lang, name=spec.name)
        else:
            lm = manager.load(key, progress=lambda f, m: progress(f, desc=m))
            msg = t("models.loaded", lang, name=spec.name, size=format_bytes(lm.nbytes),
                    secs=lm.load_seconds)
        return (msg,) + refresh(lang)

    @friendly
    def unload(key, lang):
        spec = manager.registry.get(key)
        done = manager.unload(key)
        msg = t("models.unloaded" if done else "models.not_loaded", lang, name=spec.name)
        return (msg,) + refresh(lang)

    @friendly
    def add(text, lang):
        text = (text or "").strip()
        looks_like_path = text.startswith(("/", ".", "~")) or "\\" in text
        spec = (manager.register_local(text) if looks_like_path else manager.register_hub(text))
        msg = t("models.added", lang, name=spec.name, key=spec.key, kind=spec.kind,
                tasks=", ".join(sorted(spec.tasks)))
        choices = [(s.name, s.key) for s in manager.registry.all()]
        return (msg, gr.update(choices=choices, value=spec.key)) + refresh(lang)

    outs = [api_json, table, gauge]
    # Progress (and an error badge, if any) shows on the message line only, not on every output.
    refresh_btn.click(refresh, [lang], outs, api_name="models_status", show_progress="hidden")
    load_btn.click(load, [pick, lang], [message] + outs, api_name="load_model",
                   show_progress_on=[message], **HEAVY)
    unload_btn.click(unload, [pick, lang], [message] + outs, api_name="unload_model",
                     show_progress="hidden")
    add_btn.click(add, [add_box, lang], [message, pick] + outs, api_name="add_model",
                  show_progress="hidden")
    # Keep the table honest while other tabs load models, and translate it with the UI.
    gr.Timer(5.0).tick(refresh, [lang], outs, show_progress="hidden", api_visibility="private")
    lang.change(refresh, [lang], outs, show_progress="hidden", api_visibility="private")
    lang.change(lambda lang: f"**{t('models.device', lang)}:** {manager.device.describe()}",
                [lang], [device], api_visibility="private")
