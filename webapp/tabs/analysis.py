"""Applications -> Analyse meaning: entities, relations and sentiment of a text, found by a
specialist and by an instruct model asked for JSON, side by side.

`build(ctx)` lays out the sub-tab (mounted by webapp/tabs/applications.py) and wires one
action: *Analyse* runs the specialist (fast), shows it, then the instruct model. The API
endpoint `/analyze` (model, text, sentiment model, lang) runs one model and returns JSON. The
handlers only call models/runners/analysis*.py and format with webapp/views/analysis.py.
"""
from __future__ import annotations

import gradio as gr

from models.runners import analysis as an
from models.runners.analysis import AUTO_KEY, ChinesePipeline, SpacyPipelines

from webapp.common import (HEAVY, AppContext, action_message, friendly, model_label, model_picker,
                           wire_action)
from webapp.i18n import render, t
from webapp.views import analysis as views


def specialist_choices(manager, lang: str) -> list[tuple[str, str]]:
    """The packaged specialist of the text's language first (spaCy for English, Baidu LAC for
    Chinese), then each one by name."""
    specs = {s.key: s for s in manager.registry.for_task("analyze")}    # named as every picker
    return [(t("an.auto_specialist", lang), AUTO_KEY)] + [
        (model_label(specs[key], lang) if key in specs else name, key)
        for name, key in an.specialist_choices(manager)]


def sentiment_choices(manager, lang: str) -> list[tuple[str, str]]:
    return [(t("an.sentiment_none", lang), "")] + [
        (model_label(s, lang), s.key) for s in an.sentiment_models(manager)]


def default_sentiment(manager) -> str:
    """The newest classifier fine-tuned or added by the user, else none."""
    mine = [s.key for s in an.sentiment_models(manager) if s.source == "local"]
    return mine[-1] if mine else ""


def column_outputs(result, lang: str) -> tuple:
    """(status, entities HTML, relations HTML, graph, sentiment) for one way."""
    return (views.status_md(result, lang), views.entities_html(result.text, result.entities, lang),
            views.relations_html(result.relations, lang),
            views.relation_graph(result.relations, lang), views.sentiment_md(result.sentiment, lang))


def analyze_api(manager, pipes: SpacyPipelines, model: str, text: str, sentiment_model: str,
                lang: str = "en", chinese: ChinesePipeline | None = None) -> dict:
    """/analyze: one model's analysis as JSON (entities with offsets, relations, sentiment).
    No model: the packaged specialist of the text's language."""
    result = an.analyze(manager, pipes, (model or "").strip() or AUTO_KEY, text,
                        (sentiment_model or "").strip() or None, chinese)
    out = result.as_json()
    out["notices"] = [{**n, "message": render(n, lang)} for n in out["notices"]]
    return out


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    pipes = SpacyPipelines()                       # one per app, shared by its users
    chinese = ChinesePipeline()
    loc.Markdown(value_key="an.intro")
    with gr.Row():
        with gr.Column(scale=3):
            text = loc.Textbox(label_key="an.text", value_key="an.example", lines=5,
                               max_lines=20, elem_id="an-text")
            loc.Markdown(value_key="an.example_note", elem_id="an-example-note")
            with gr.Row():
                specialist = loc.Dropdown(label_key="an.specialist", value=AUTO_KEY,
                                          choices=specialist_choices(manager, loc.lang),
                                          allow_custom_value=True, elem_id="an-specialist")
                lm_model = model_picker(ctx, "chat", label_key="an.lm", value="smollm2",
                                        elem_id="an-lm")
                sentiment = loc.Dropdown(label_key="an.sentiment_model",
                                         value=default_sentiment(manager),
                                         choices=sentiment_choices(manager, loc.lang),
                                         allow_custom_value=True, elem_id="an-sentiment")
            run = loc.Button(value_key="an.run", variant="primary", elem_id="an-run")
            message = action_message(elem_id="an-msg")
    with gr.Row(equal_height=False):
        cols = []
        for prefix, title in (("an-sp", "an.col_sp"), ("an-lm", "an.col_lm")):
            with gr.Column(elem_id=f"{prefix}-col"):
                loc.Markdown(value_key=title)
                status = gr.Markdown(elem_id=f"{prefix}-status")
                if prefix == "an-lm":
                    lm_message = action_message(elem_id="an-lm-msg")
                loc.Markdown(value_key="an.entities")
                ents = gr.HTML(elem_id=f"{prefix}-entities")
                loc.Markdown(value_key="an.relations")
                rels = gr.HTML(elem_id=f"{prefix}-relations")
                graph = gr.Plot(elem_id=f"{prefix}-graph", show_label=False)
                senti = gr.Markdown(elem_id=f"{prefix}-sentiment")
                cols.append([status, ents, rels, graph, senti])
    with loc.Accordion(label_key="an.raw", open=False, elem_id="an-raw-box"):
        raw = gr.Code(language=None, interactive=False, elem_id="an-raw")
    with loc.Accordion(label_key="an.how", open=False, elem_id="an-how"):
        loc.Markdown(value_key="an.how_text")
        loc.Markdown(value_key="an.measured")
    if not an.sentiment_models(manager):
        loc.Markdown(value_key="an.sentiment_missing", elem_id="an-sentiment-missing")

    # The specialist answers in a moment, the instruct model in seconds to minutes: two events,
    # so that the specialist never waits in the device queue behind someone's LM run.
    def analyse(spec_key, text, sent_key, lang):
        an.prepare_text(text)                      # empty text: the message, before any model
        blank = (None,) * 5
        if not spec_key:
            return (*blank, *blank, None)
        first = an.analyze(manager, pipes, spec_key, text, (sent_key or "").strip() or None,
                           chinese)
        return (*column_outputs(first, lang), *blank, None)

    def analyse_lm(lm_key, text, sent_key, lang, progress=gr.Progress()):
        if not lm_key or not (text or "").strip():   # nothing asked, or said already above
            return (None,) * 6
        progress(0.1, desc=t("an.lm", lang))
        result = an.analyze(manager, pipes, lm_key, text, (sent_key or "").strip() or None)
        return (*column_outputs(result, lang), views.raw_text(result))

    events = wire_action(run.click, analyse, [specialist, text, sentiment, lang],
                         [*cols[0], *cols[1], raw], message=message,
                         show_progress_on=[cols[0][0]], concurrency_id="analysis-specialist",
                         concurrency_limit=2)
    wire_action(events[0].then, analyse_lm, [lm_model, text, sentiment, lang], [*cols[1], raw],
                message=lm_message, show_progress_on=[cols[1][0]], **HEAVY)

    # /analyze for API clients: one model, JSON
    api_model = gr.Textbox(visible=False)
    api_sentiment = gr.Textbox(visible=False)
    api_out = gr.JSON(visible=False)
    api_button = gr.Button(visible=False)

    def analyze(model, text, sentiment_model, lang):
        return analyze_api(manager, pipes, model, text, sentiment_model, lang, chinese)
    api_button.click(friendly(analyze), [api_model, text, api_sentiment, lang], [api_out],
                     api_name="analyze", **HEAVY)

    # the pickers follow new models (a tagger or classifier fine-tuned since the page opened)
    def refresh(spec_value, sent_value, lg):
        spec_keys = specialist_choices(manager, lg)
        sents = sentiment_choices(manager, lg)
        return (gr.update(choices=spec_keys),
                gr.update(choices=sents, value=sent_value or default_sentiment(manager)))
    triggers = [ctx.lang.change] + ([ctx.current_tab.select] if ctx.current_tab else [])
    for trigger in triggers:
        trigger(refresh, [specialist, sentiment, lang], [specialist, sentiment],
                show_progress="hidden", api_visibility="private", queue=False)
