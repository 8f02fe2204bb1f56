"""Applications tab: summarize, translate and answer questions (three sub-tabs), on instruct
LMs, seq2seq specialists (T5, BART, Marian) and extractive QA models.

Handlers only read inputs, call models/apps*.py and format with applications_views. Each
main action is wired with `wire_action`: its error shows right under its button, and starting
it clears the previous result. The prompt format of each task is the one measured best on
assets/eval/ (models/runners/applications/prompts.py, bench/bench_prompts.py). The generative events share one
`Batcher`: up to `max_batch` users run at once in the "apps"
concurrency group and their requests are padded into one `generate` call (one batch on the
device at a time); anyone beyond that waits in Gradio's queue and sees their position.
"""
from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import gradio as gr

from models.runners.applications import run as apps
from models.runners.applications import advice as apps_advice
from models.runners.applications import qa as apps_qa
from models.runners import metrics
from models.runners.batching import Batcher
from models.runners.generation import GenerationSettings, check_text

from webapp.tabs import analysis
from webapp.views import applications as views
from webapp.common import (HEAVY, AppContext, action_message, generation_settings, model_picker,
                            wire_action)
from webapp.i18n import progress_words, render, t

TITLE_KEY = "tab.applications"
TAB_ID = "applications"
LENGTH_KEYS = ("short", "medium", "long")
LANG_KEYS = ("en", "zh", "de", "fr", "es", "ro")


def _lang_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"apps.lang.{c}", lang), c) for c in LANG_KEYS]


def _settings(greedy, temperature, top_k) -> GenerationSettings:
    return generation_settings(GenerationSettings(), greedy=greedy, temperature=temperature,
                               top_k=top_k)


def _outputs(loc, prefix: str, output_key: str, task: str) -> SimpleNamespace:
    """The output half shared by the sub-tabs: text, stats, prompt sent, insight, attention."""
    out = SimpleNamespace()
    out.text = loc.Textbox(label_key=output_key, lines=4, interactive=False,
                           elem_id=f"{prefix}-output")
    out.stats = gr.Markdown(elem_id=f"{prefix}-stats")
    with loc.Accordion(label_key="apps.insight", open=False, elem_id=f"{prefix}-insight-box"):
        loc.Markdown(value_key="apps.insight_help")
        out.insight = gr.HTML(elem_id=f"{prefix}-insight")
    with loc.Accordion(label_key="apps.sent", open=False, elem_id=f"{prefix}-sent-box"):
        loc.Markdown(value_key=f"apps.how.{task}", elem_id=f"{prefix}-how")
        out.sent = gr.Code(language=None, interactive=False, elem_id=f"{prefix}-sent")
    out.attention = loc.Button(value_key="apps.attention", size="sm", visible=False,
                               elem_id=f"{prefix}-attention")
    return out


def _quality(loc, prefix: str) -> SimpleNamespace:
    q = SimpleNamespace()
    with loc.Accordion(label_key="apps.quality", open=False, elem_id=f"{prefix}-quality"):
        q.reference = loc.Textbox(label_key="apps.reference", placeholder_key="apps.reference_ph",
                                  lines=3, elem_id=f"{prefix}-reference")
        q.button = loc.Button(value_key="apps.score", size="sm", elem_id=f"{prefix}-score")
        q.message = action_message(elem_id=f"{prefix}-score-msg")
        q.result = gr.Markdown(elem_id=f"{prefix}-scores")
    return q


# ---- handlers (module level: plain inputs and outputs; build() binds manager and batcher) ----
def _use(manager, key: str, progress, lang: str = "en"):
    if not manager.is_loaded(key):
        progress(0, desc=t("models.loading", lang, name=manager.registry.get(key).name))
    # the model is held; the batcher takes the device per batch
    return manager.use(key, progress=progress_words(progress, lang), device=False)


def _stream(batcher, lm, prep, settings, lang):
    """Run a prepared request; yield (update, (text, stats, prompt, insight)) as tokens arrive."""
    head = views.notices_md(prep.notices, lang)
    for upd in apps.run(batcher, lm, prep, settings):
        html = views.insight_html(upd.insight, lang) if upd.done else ""
        yield upd, (upd.text, head + views.stats_md(upd, lm.spec.name, lang), prep.prompt_text, html)


def advise(registry, task, key, a, b, lang) -> str:
    """Which model would do `task` better (apps_advice.advice), shown next to each picker."""
    try:
        text = render(apps_advice.advice(registry, task, key, a, b), lang)
        return f"> {text}" if text else ""
    except Exception:  # an unknown key: the run button reports it properly
        return ""


def qa_lang(question) -> str:
    return "zh" if apps.is_chinese(question or "") else "en"


def summarize(manager, batcher, model, text, length, greedy, temperature, top_k, lang,
              progress=gr.Progress()):
    text = check_text(text, "text")
    settings = _settings(greedy, temperature, top_k)
    with _use(manager, model, progress, lang) as lm, manager.guard():
        prep = apps.prepare_summarize(lm, text, length)
        for _upd, row in _stream(batcher, lm, prep, settings, lang):
            yield row


def translate(manager, batcher, model, text, source, target, greedy, temperature, top_k, lang,
              progress=gr.Progress()):
    text = check_text(text, "text")
    settings = _settings(greedy, temperature, top_k)
    with _use(manager, model, progress, lang) as lm, manager.guard():
        prep = apps.prepare_translate(lm, text, source, target)
        for _upd, row in _stream(batcher, lm, prep, settings, lang):
            yield row


def answer(manager, batcher, model, question, context, greedy, temperature, top_k, lang,
           progress=gr.Progress()):
    question = check_text(question, "question")
    settings = _settings(greedy, temperature, top_k)
    with _use(manager, model, progress, lang) as lm, manager.guard():
        if lm.spec.head == "qa":
            apps.check_task(lm.spec, "answer")
            with batcher.device_lock:          # takes turns with batched generation
                span = apps_qa.answer(lm, question, context)
            yield (span.answer, views.span_md(span, lm.spec.name, lang), "",
                   f"<p>{t('apps.insight_none', lang)}</p>",
                   views.highlight_html(context.strip(), (span.start, span.end)))
            return
        prep = apps.prepare_answer(lm, question, context)
        context = (context or "").strip()
        where = views.highlight_html(context, None)
        for upd, row in _stream(batcher, lm, prep, settings, lang):
            if upd.done:
                span = apps.find_span(upd.text, context, question)
                where = views.highlight_html(context, span)
                if context and span is None:
                    row = (row[0], row[1] + "\n\n" + t("apps.qa.not_found", lang), *row[2:])
            yield (*row, where)


def summary_quality(summary, reference, lang):
    return views.scores_md(metrics.rouge(summary, reference), lang)


def translation_quality(translation, reference, target, lang):
    return views.scores_md(metrics.bleu_chrf(translation, reference, target), lang)


def relabel(lang):
    """The language lists and the length choices in `lang`."""
    return (gr.update(choices=_lang_choices(lang)), gr.update(choices=_lang_choices(lang)),
            gr.update(choices=[(t(f"apps.len.{k}", lang), k) for k in LENGTH_KEYS],
                      label=t("apps.sum.length", lang)))


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    batcher = Batcher(scheduler=manager.scheduler)   # one per app: shared by all its users
    queue = {"concurrency_id": "apps", "concurrency_limit": batcher.max_batch}
    loc.Markdown(value_key="apps.intro")
    with loc.Accordion(label_key="apps.settings", open=False, elem_id="apps-settings"):
        with gr.Row():
            greedy = loc.Checkbox(label_key="apps.greedy", value=True, elem_id="apps-greedy")
            temperature = loc.Slider(label_key="apps.temperature", minimum=0.05, maximum=2.0,
                                     step=0.05, value=GenerationSettings.temperature)
            top_k = loc.Slider(label_key="apps.top_k", minimum=0, maximum=200, step=1,
                               value=GenerationSettings.top_k)
    sampling = [greedy, temperature, top_k]

    with gr.Tabs(elem_id="apps-tabs"):
        # ---- summarize ----------------------------------------------------------------------
        with loc.Tab(label_key="apps.sub.summarize", id="apps-summarize"):
            with gr.Row():
                with gr.Column(scale=3):
                    s_model = model_picker(ctx, "summarize", label_key="apps.model",
                                           value="smollm2", elem_id="sum-model")
                    s_text = loc.Textbox(label_key="apps.sum.text", value_key="apps.sum.example",
                                         lines=6, elem_id="sum-text")
                    s_len = gr.Radio([(t(f"apps.len.{k}", loc.lang), k) for k in LENGTH_KEYS],
                                     value="short", label=t("apps.sum.length", loc.lang),
                                     elem_id="sum-length")
                    s_run = loc.Button(value_key="apps.sum.run", variant="primary", elem_id="sum-run")
                    sum_msg = action_message(elem_id="sum-msg")
                s_advice = gr.Markdown(advise(manager.registry, "summarize", "smollm2", None, None, loc.lang),
                                       elem_id="sum-advice")
            s_out = _outputs(loc, "sum", "apps.sum.output", "summarize")
            s_q = _quality(loc, "sum")

        # ---- translate ----------------------------------------------------------------------
        with loc.Tab(label_key="apps.sub.translate", id="apps-translate"):
            with gr.Row():
                with gr.Column(scale=3):
                    tr_model = model_picker(ctx, "translate", label_key="apps.model",
                                            value="smollm2", elem_id="tr-model")
                    with gr.Row():
                        tr_src = loc.Dropdown(label_key="apps.tr.source", value="zh",
                                              choices=_lang_choices(loc.lang), elem_id="tr-source")
                        tr_tgt = loc.Dropdown(label_key="apps.tr.target", value="en",
                                              choices=_lang_choices(loc.lang), elem_id="tr-target")
                    tr_text = loc.Textbox(label_key="apps.tr.text", value_key="apps.tr.example",
                                          lines=4, elem_id="tr-text")
                    tr_run = loc.Button(value_key="apps.tr.run", variant="primary", elem_id="tr-run")
                    tr_msg = action_message(elem_id="tr-msg")
                tr_advice = gr.Markdown(advise(manager.registry, "translate", "smollm2", tr_src.value,
                                               tr_tgt.value, loc.lang), elem_id="tr-advice")
            tr_out = _outputs(loc, "tr", "apps.tr.output", "translate")
            tr_q = _quality(loc, "tr")

        # ---- answer -------------------------------------------------------------------------
        with loc.Tab(label_key="apps.sub.answer", id="apps-answer"):
            with gr.Row():
                with gr.Column(scale=3):
                    qa_model = model_picker(ctx, "answer", label_key="apps.model",
                                            value="smollm2", elem_id="qa-model")
                    qa_question = loc.Textbox(label_key="apps.qa.question", lines=1,
                                              value_key="apps.qa.question_example",
                                              elem_id="qa-question")
                    qa_context = loc.Textbox(label_key="apps.qa.context", lines=5,
                                             value_key="apps.qa.context_example",
                                             elem_id="qa-context")
                    qa_run = loc.Button(value_key="apps.qa.run", variant="primary", elem_id="qa-run")
                    qa_msg = action_message(elem_id="qa-msg")
                qa_advice = gr.Markdown(advise(manager.registry, "answer", "smollm2",
                                               qa_lang(qa_question.value), None, loc.lang), elem_id="qa-advice")
            qa_out = _outputs(loc, "qa", "apps.qa.output", "answer")
            with loc.Accordion(label_key="apps.qa.where", open=True):
                qa_where = gr.HTML(elem_id="qa-where")

        # ---- analyse meaning (webapp/tabs/analysis.py) -----------------------------------------
        with loc.Tab(label_key="apps.sub.analyze", id="apps-analyze"):
            analysis.build(ctx)

    outs = [s_out.text, s_out.stats, s_out.sent, s_out.insight]
    wire_action(s_run.click, partial(summarize, manager, batcher), [s_model, s_text, s_len, *sampling, lang], outs,
                message=sum_msg, api_name="summarize", **queue)
    tr_outs = [tr_out.text, tr_out.stats, tr_out.sent, tr_out.insight]
    wire_action(tr_run.click, partial(translate, manager, batcher), [tr_model, tr_text, tr_src, tr_tgt, *sampling, lang],
                tr_outs, message=tr_msg, api_name="translate", **queue)
    qa_outs = [qa_out.text, qa_out.stats, qa_out.sent, qa_out.insight, qa_where]
    wire_action(qa_run.click, partial(answer, manager, batcher), [qa_model, qa_question, qa_context, *sampling, lang],
                qa_outs, message=qa_msg, api_name="answer", **queue)

    # ---- quality figures ------------------------------------------------------------------------
    wire_action(s_q.button.click, summary_quality, [s_out.text, s_q.reference, lang],
                [s_q.result], message=s_q.message, api_name="summary_quality")
    wire_action(tr_q.button.click, translation_quality,
                [tr_out.text, tr_q.reference, tr_tgt, lang], [tr_q.result], message=tr_q.message,
                api_name="translation_quality")

    # ---- advice follows the pickers ----------------------------------------------------------------
    watch = [(s_advice, [s_model, lang], lambda key, lg: advise(manager.registry, "summarize", key, None, None, lg)),
             (tr_advice, [tr_model, tr_src, tr_tgt, lang],
              lambda key, a, b, lg: advise(manager.registry, "translate", key, a, b, lg)),
             (qa_advice, [qa_model, qa_question, lang],
              lambda key, q, lg: advise(manager.registry, "answer", key, qa_lang(q), None, lg))]
    for target, inputs, fn in watch:
        for comp in inputs:
            comp.change(fn, inputs, [target], api_visibility="private", show_progress="hidden")

    lang.change(relabel, [lang], [tr_src, tr_tgt, s_len],
                api_visibility="private")

    # ---- "See attention for this output" ---------------------------------------------------------
    def wire_attention(ctx: AppContext) -> None:
        att = ctx.attention
        if att is None:
            return                                    # no attention tab: buttons stay hidden
        fn, inputs, outputs = att.run, att.inputs, att.outputs

        def send(key, text, output):
            return key, text, output, gr.Tabs(selected="attention")

        def send_qa(key, question, context, output):
            return key, f"{question}\n{context}".strip(), output, gr.Tabs(selected="attention")

        targets = [att.model, att.text, att.target, ctx.tabs]
        for out, model, text in ((s_out, s_model, s_text), (tr_out, tr_model, tr_text)):
            out.attention.visible = True
            out.attention.click(send, [model, text, out.text], targets,
                                api_visibility="private").then(
                fn, inputs, outputs, api_visibility="private", **HEAVY)
        qa_out.attention.visible = True
        qa_out.attention.click(send_qa, [qa_model, qa_question, qa_context, qa_out.text], targets,
                               api_visibility="private").then(
            fn, inputs, outputs, api_visibility="private", **HEAVY)

    ctx.after_build.append(wire_attention)
