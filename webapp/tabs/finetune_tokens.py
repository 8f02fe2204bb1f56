"""Fine-tune tab, "Label words" sub-tab: upload words with entity tags (CoNLL / IOB or JSONL with
character spans) or use the sample, fine-tune an encoder into a token classifier as a
background job, watch the loss and the entity F1, read the per-type table and the sentences
it got wrong, download the model. The saved model is registered with the task "analyze", so
it appears in Analyse meaning.

Like the sentence classifier (webapp/tabs/finetune.py) the job id is kept in the browser, so a
reload reattaches; the handlers live in `TokenHandlers` (plain values in and out) and are
published as /tokens_start, /tokens_status, /tokens_stop and /tokens_zip.
"""
from __future__ import annotations

import html

import gradio as gr

from models.core.errors import UserError
from models.core.jobs import FINISHED, same_start
from models.training.finetune.store import zip_model
from models.training.tokens.data import FORMATS, SAMPLES, SAMPLES_DIR, load
from models.training.tokens.job import start_job, status_dict
from models.training.tokens.loop import TokenConfig
from webapp.common import (AppContext, action_message, follow_job, friendly, message_text,
                            model_picker, wire_action)
from webapp.i18n import localize_status, t
from webapp.tabs.finetune import LEARNING_RATES, _number, _rate
from webapp.views import finetune as ft_views
from webapp.views import finetune_tokens as views

class TokenHandlers:
    """What the sub-tab's buttons run; every handler takes `lang` last and raises UserError for
    what the user can fix."""

    def __init__(self, manager, jobs):
        self.manager, self.jobs = manager, jobs

    def on_upload(self, path, lang):
        """A new file: notes (sentences, types, notices), highlighted preview, entity chart."""
        if not path:
            return "", "", None
        data = load(path)
        return views.data_md(data, lang), views.preview_html(data, lang), \
            views.counts_figure(data.counts, lang)

    def relabel(self, path, lang):
        try:
            return self.on_upload(path, lang)
        except UserError:
            return gr.update(), gr.update(), gr.update()

    def tokens_start(self, path, base_key, n_epochs, rate, batch_size, length, val, seed_value,
                     model_name, lang) -> str:
        """Queue a token fine-tuning job on the file at `path`; returns its id at once."""
        if not path:
            raise UserError("tok_no_data")
        cfg = TokenConfig(base_model=base_key or TokenConfig.base_model,
                          epochs=_number(n_epochs, "epochs", int),
                          learning_rate=_number(rate, "learning_rate"),
                          batch_size=_number(batch_size, "batch_size", int),
                          max_length=_number(length, "max_length", int),
                          val_fraction=_number(val, "val_fraction") / 100,
                          seed=_number(seed_value if seed_value is not None else 0, "seed", int)
                          ).check()
        data = load(path, seed=cfg.seed)
        with same_start(path, cfg, model_name):                     # one job per click
            return start_job(self.manager, self.jobs, cfg, data, model_name or "")

    def tokens_stop(self, job_id, lang) -> str:
        job_id = (job_id or "").strip()
        if not job_id:
            raise UserError("tok_no_job")
        job = self.jobs.snapshot(job_id)
        if job.status in FINISHED:
            return t("tok.already_finished", lang)
        self.jobs.cancel(job_id)
        return t("tok.stop_sent", lang)

    def tokens_status(self, job_id: str, lang: str = "en") -> dict:
        """Progress and metrics of a token fine-tuning job: status, progress (0..1), eta_seconds,
        queue_position, steps [{step, epoch, loss}], epochs [{epoch, val_loss, precision,
        recall, f1, ...}], notices, result (saved model key, labels, report) when finished."""
        return localize_status(status_dict(self.jobs.snapshot((job_id or "").strip())), lang)

    def tokens_zip(self, job_id, lang) -> str:
        """A zip of the model a finished job saved."""
        job_id = (job_id or "").strip()
        result = status_dict(self.jobs.snapshot(job_id))["result"] if job_id else None
        if not result:
            raise UserError("tok_no_model")
        return str(zip_model(result["folder"]))

    def render(self, job_id, lang):
        """Status, notes, loss curve, epoch table, train box visibility, then the results
        (summary, per-type table, wrong sentences, results box visibility), then the timer."""
        job_id = (job_id or "").strip()
        hidden = gr.update(visible=False)
        if not job_id:
            return (ft_views.status_html(None, lang), "", gr.skip(), gr.skip(), hidden,
                    t("tok.no_results", lang), gr.skip(), gr.skip(), hidden,
                    gr.Timer(active=False))
        try:
            st = status_dict(self.jobs.snapshot(job_id))
        except UserError as exc:
            return (f'<div class="ft-status">⚠ {html.escape(message_text(exc, lang))}</div>', "",
                    gr.skip(), gr.skip(), hidden, t("tok.no_results", lang), gr.skip(),
                    gr.skip(), hidden, gr.Timer(active=False))
        result = st["result"]
        if result:
            results = (views.summary_md(result, lang), views.per_type_rows(result["report"]),
                       views.wrong_html(result["report"], result["labels"], lang),
                       gr.update(visible=True))
        else:
            results = (t("tok.no_results", lang), gr.skip(), gr.skip(), hidden)
        curve = bool(st["steps"])
        return ((ft_views.status_html(st, lang), ft_views.notices_md(st["notices"], lang),
                 ft_views.loss_figure(st, lang) if curve else gr.skip(), views.epochs_rows(st),
                 gr.update(visible=curve)) + results
                + (gr.Timer(active=st["status"] not in FINISHED),))


def build(ctx: AppContext) -> None:
    """The sub-tab's layout and wiring (mounted by webapp/tabs/finetune.py)."""
    loc, lang = ctx.loc, ctx.lang
    gr.set_static_paths([SAMPLES_DIR])
    h = TokenHandlers(ctx.manager, ctx.jobs)
    defaults = TokenConfig()
    loc.Markdown(value_key="tok.intro")

    loc.Markdown(value_key="tok.h_data")
    with gr.Row():
        upload = loc.File(label_key="tok.upload", file_types=list(FORMATS), type="filepath",
                          elem_id="tok-upload", scale=3)
        with gr.Column(scale=1):
            sample_btn = loc.Button(value_key="tok.use_sample", variant="primary",
                                    elem_id="tok-sample")
            sample_zh_btn = loc.Button(value_key="tok.use_sample_zh", size="sm",
                                       elem_id="tok-sample-zh")
    loc.Markdown(value_key="tok.sample_note", elem_id="tok-sample-note")
    data_msg = action_message(elem_id="tok-data-msg")
    data_notes = gr.Markdown(elem_id="tok-data-notes")
    with gr.Row(elem_id="tok-data-box"):
        preview = gr.HTML(elem_id="tok-preview")
        counts_plot = gr.Plot(elem_id="tok-counts", show_label=False)

    loc.Markdown(value_key="tok.h_setup")
    with gr.Row():
        base = model_picker(ctx, "finetune", label_key="tok.base", elem_id="tok-base",
                            value=defaults.base_model, scale=2)
        name = loc.Textbox(label_key="tok.name", placeholder_key="tok.name_ph",
                           elem_id="tok-name", scale=2)
    with gr.Row():
        epochs = loc.Slider(label_key="tok.epochs", minimum=1, maximum=30, step=1,
                            value=defaults.epochs, elem_id="tok-epochs")
        lr = loc.Dropdown(label_key="tok.lr", choices=LEARNING_RATES,
                          value=_rate(defaults.learning_rate), allow_custom_value=True,
                          elem_id="tok-lr")
        batch = loc.Dropdown(label_key="tok.batch", choices=[4, 8, 16, 32, 64],
                             value=defaults.batch_size, allow_custom_value=True,
                             elem_id="tok-batch")
        max_len = loc.Slider(label_key="tok.max_len", minimum=16, maximum=512, step=16,
                             value=defaults.max_length, elem_id="tok-maxlen")
        val_pct = loc.Slider(label_key="tok.val", minimum=5, maximum=50, step=5,
                             value=int(defaults.val_fraction * 100), elem_id="tok-val")
        seed = loc.Number(label_key="tok.seed", value=defaults.seed, precision=0,
                          elem_id="tok-seed")
    with loc.Accordion(label_key="tok.code", open=False, elem_id="tok-code-box"):
        gr.Code(views.TRAINING_CODE, language="python", interactive=False, elem_id="tok-code")

    loc.Markdown(value_key="tok.h_train")
    with gr.Row():
        start_btn = loc.Button(value_key="tok.start", variant="primary", elem_id="tok-start")
        stop_btn = loc.Button(value_key="tok.stop", variant="stop", elem_id="tok-stop")
        resume_btn = loc.Button(value_key="myjobs.resume", variant="primary", visible=False,
                                elem_id="tok-resume")    # an interrupted job (follow_job)
    start_msg = action_message(elem_id="tok-start-msg")
    stop_note = gr.Markdown(elem_id="tok-stop-note")
    with gr.Row():
        job_box = loc.Textbox(label_key="tok.job_box", placeholder_key="tok.job_ph", scale=4,
                              elem_id="tok-job-id")
        attach_btn = loc.Button(value_key="tok.attach", scale=1, elem_id="tok-attach")
    status = gr.HTML(ft_views.status_html(None, loc.lang), elem_id="tok-status")
    train_notes = gr.Markdown(elem_id="tok-train-notes")
    with gr.Row(visible=False, elem_id="tok-train-box") as train_box:
        loss_plot = gr.Plot(elem_id="tok-loss", show_label=False)
        epoch_table = loc.Dataframe(label_key="tok.epoch_table", interactive=False,
                                    headers=t("tok.epoch_cols", loc.lang).split("|"),
                                    elem_id="tok-epochs-table")

    loc.Markdown(value_key="tok.h_results")
    summary = gr.Markdown(t("tok.no_results", loc.lang), elem_id="tok-summary")
    with gr.Column(visible=False, elem_id="tok-results-box") as results_box:
        type_table = loc.Dataframe(label_key="tok.per_type", interactive=False,
                                   headers=t("tok.type_cols", loc.lang).split("|"),
                                   elem_id="tok-per-type")
        loc.Markdown(value_key="tok.wrong")
        wrong = gr.HTML(elem_id="tok-wrong")
    loc.Markdown(value_key="tok.h_keep")
    with gr.Row():
        zip_btn = loc.Button(value_key="tok.zip", elem_id="tok-zip", scale=1)
        zip_file = loc.File(label_key="tok.zip_file", interactive=False, elem_id="tok-zip-file",
                            scale=3, height=90, visible=False)
    zip_msg = action_message(elem_id="tok-zip-msg")
    poll = gr.Timer(2.0, active=False)

    sample_btn.click(lambda: str(SAMPLES["ner_en"]), None, [upload], api_visibility="private")
    sample_zh_btn.click(lambda: str(SAMPLES["ner_zh"]), None, [upload], api_visibility="private")
    data_outs = [data_notes, preview, counts_plot]
    wire_action(upload.change, h.on_upload, [upload, lang], data_outs, message=data_msg)
    render_outs = [status, train_notes, loss_plot, epoch_table, train_box, summary, type_table,
                   wrong, results_box, poll]
    started = wire_action(start_btn.click, h.tokens_start,
                          [upload, base, epochs, lr, batch, max_len, val_pct, seed, name, lang],
                          [job_box], message=start_msg, api_name="tokens_start")
    follow_job(ctx, "tokens", job_box, h.render, render_outs, started=[started[0].then],
               attach=attach_btn.click,
               resume=resume_btn)
    wire_action(stop_btn.click, h.tokens_stop, [job_box, lang], [stop_note], message=start_msg,
                api_name="tokens_stop")
    zipped = wire_action(zip_btn.click, h.tokens_zip, [job_box, lang], [zip_file],
                         message=zip_msg, api_name="tokens_zip")
    zipped[0].then(lambda path: gr.update(visible=bool(path)), [zip_file], [zip_file],
                   api_visibility="private")
    gr.api(friendly(h.tokens_status), api_name="tokens_status")
    lang.change(h.relabel, [upload, lang], data_outs, api_visibility="private")
    lang.change(lambda lg: tuple(gr.update(headers=t(k, lg).split("|"))
                                 for k in ("tok.epoch_cols", "tok.type_cols")),
                [lang], [epoch_table, type_table], api_visibility="private")
