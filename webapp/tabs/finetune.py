"""Fine-tune tab: upload labelled sentences, fine-tune an encoder into a classifier as a
background job, watch the loss fall, read the confusion matrix, compare before and after,
and keep the model (saved, registered for the other tabs, downloadable as a zip).

The job id is kept in the browser (localStorage), so a reload reattaches to a running job;
pasting the id on another computer does the same. The handlers live in `Handlers` (plain
inputs and outputs, testable without a browser); `build` lays out the tab and wires them
through `wire_action`, so each action's error shows next to its button and starting an
action clears what it showed before. Figures and text come from finetune_views.py.
"""
from __future__ import annotations

import html
from functools import lru_cache

import gradio as gr

from models.core.errors import UserError
from models.training.finetune.loop import FinetuneConfig, profile_data
from models.training.finetune.data import FORMATS, SAMPLES, SAMPLES_DIR, load, read_table
from models.runners.classification import BeforeModels, classify
from models.training.finetune.job import start_job, status_dict
from models.training.finetune.store import zip_model
from models.core.jobs import FINISHED, same_start

from webapp.views import finetune as views
from webapp.common import (HEAVY, AppContext, action_message, follow_job, friendly, model_choices,
                            model_picker, setting_number, wire_action)
from webapp.i18n import localize_status, render, t

TITLE_KEY = "ft.tab"
TAB_ID = "finetune"
LEARNING_RATES = ["1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4", "1e-3"]
SAMPLE, SAMPLE_ZH = "sentiment_en", "sentiment_zh"

def _number(value, name: str, cast=float):
    return setting_number(value, name, "ft_not_number", cast)


def _rate(value: float) -> str:
    """2e-4, as the learning-rate list writes it."""
    return f"{value:.0e}".replace("e-0", "e-")


@lru_cache(maxsize=4)
def _tokenizer(folder: str):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(folder)


class Handlers:
    """What the tab's buttons run: plain values in, plain values (or gr.update) out; a
    UserError for anything the user can fix. Every handler takes `lang` last."""

    def __init__(self, manager, jobs):
        self.manager, self.jobs = manager, jobs
        self.before_models = BeforeModels(manager)

    # ---- data ----
    def _profile(self, data, base_key):
        """The data as the base model's tokenizer sees it (None if the base has no files)."""
        registry = self.manager.registry
        spec = registry.get(base_key or FinetuneConfig.base_model)
        folder = registry.files_dir(spec)
        if folder is None or "finetune" not in spec.tasks:
            return None, spec.name
        return profile_data(data, _tokenizer(str(folder))), spec.name

    def describe(self, path, text_c, label_c, base_key, lang):
        """(data notes, class chart, max length) for a file and the chosen columns and base."""
        data = load(path, text_c or None, label_c or None)
        profile, base_name = self._profile(data, base_key)
        length = profile.max_length if profile else gr.update()
        return (views.data_md(data, profile, base_name, lang), views.counts_figure(data.counts, lang),
                length)

    def on_upload(self, path, base_key, lang):
        """A new file: its columns (guessed), notes, a preview of the first rows, the class chart
        and a max length that fits its texts."""
        if not path:
            return (gr.update(choices=[], value=None), gr.update(choices=[], value=None), "",
                    None, None, gr.update())
        table = read_table(path)
        data = load(path)
        cols = list(map(str, table.frame.columns))
        notes, counts, length = self.describe(path, data.text_column, data.label_column,
                                              base_key, lang)
        return (gr.update(choices=cols, value=data.text_column),
                gr.update(choices=cols, value=data.label_column), notes,
                gr.update(value=table.frame.head(20).astype(str), headers=cols), counts, length)

    def on_columns(self, path, text_c, label_c, base_key, lang):
        if not path or not text_c or not label_c:
            return gr.update(), gr.update(), gr.update()
        return self.describe(path, text_c, label_c, base_key, lang)

    def relabel_data(self, path, text_c, label_c, base_key, lang):
        """The data notes and chart in a new language (the max length the user set stays)."""
        try:
            notes, counts, _length = self.on_columns(path, text_c, label_c, base_key, lang)
        except UserError:
            return gr.update(), gr.update()
        return notes, counts

    # ---- training ----
    def start_training(self, path, text_c, label_c, base_key, n_epochs, rate, batch_size, length,
                       val, seed_value, only_head, model_name, lang) -> str:
        if not path:
            raise UserError("ft_no_data")
        cfg = FinetuneConfig(base_model=base_key or FinetuneConfig.base_model,
                             epochs=_number(n_epochs, "epochs", int),
                             learning_rate=_number(rate, "learning_rate"),
                             batch_size=_number(batch_size, "batch_size", int),
                             max_length=_number(length, "max_length", int),
                             val_fraction=_number(val, "val_fraction") / 100,
                             seed=_number(seed_value if seed_value is not None else 0, "seed", int),
                             head_only=bool(only_head)).check()
        data = load(path, text_c or None, label_c or None, seed=cfg.seed)
        with same_start(path, text_c, label_c, cfg, model_name):    # one job per click
            return start_job(self.manager, self.jobs, cfg, data, model_name or "")

    def stop_training(self, job_id, lang) -> str:
        job_id = (job_id or "").strip()
        if not job_id:
            raise UserError("ft_no_job")
        job = self.jobs.snapshot(job_id)              # UserError for an unknown id
        if job.status in FINISHED:
            return t("ft.already_finished", lang)
        self.jobs.cancel(job_id)
        return t("ft.stop_sent", lang)

    def finetune_status(self, job_id: str, lang: str = "en") -> dict:
        """Progress and metrics of a fine-tuning job: status, progress (0..1), eta_seconds,
        queue_position, steps [{step, epoch, loss}], epochs [{epoch, val_loss, accuracy,
        macro_f1, ...}], notices, result (saved model key, report) when finished."""
        return localize_status(status_dict(self.jobs.snapshot(job_id)), lang)

    # ---- using the result ----
    def compare(self, key, text, lang):
        if not key:
            raise UserError("ft_pick_model")
        after = classify(self.manager, key, text)
        note = t("ft.truncated", lang) if after.truncated else ""
        try:
            before = self.before_models.classify(key, text).as_dict()
        except UserError as exc:
            if exc.code != "ft_no_before":
                raise
            before, note = None, (note + " " + t("ft.no_before", lang)).strip()
        return before, after.as_dict(), note

    def make_zip(self, key, lang):
        if not key:
            raise UserError("ft_pick_model")
        spec = self.manager.registry.get(key)
        return str(zip_model(self.manager.registry.files_dir(spec) or spec.name))

    def classify_api(self, text: str, model_key: str, lang: str = "en") -> dict:
        """Class probabilities {label: probability} of a classifier model (a fine-tuned one)."""
        return classify(self.manager, model_key, text).as_dict()

    # ---- what the training and results sections show ----
    def render(self, job_id, lang):
        """Status, notes, loss curve, epoch table (and whether to show them), then the results
        (summary, confusion matrix, per-class table, mistakes, model picker, whether to show
        them), then the poll timer. Nothing is drawn before there is something to draw."""
        job_id = (job_id or "").strip()
        hidden = gr.update(visible=False)
        nothing = (gr.skip(),) * 5 + (hidden,)
        if not job_id:
            return ((views.status_html(None, lang), "", gr.skip(), gr.skip(), hidden)
                    + (t("ft.no_results", lang),) + nothing[1:] + (gr.Timer(active=False),))
        try:
            st = status_dict(self.jobs.snapshot(job_id))
        except UserError as exc:
            return ((f'<div class="ft-status">⚠ {html.escape(render(exc, lang))}</div>', "",
                     gr.skip(), gr.skip(), hidden) + (t("ft.no_results", lang),) + nothing[1:]
                    + (gr.Timer(active=False),))
        result = st["result"]
        report = result["report"] if result else None
        if result:
            results = (views.summary_md(result, lang), views.confusion_figure(report, lang),
                       views.per_class_rows(report), views.mistakes_rows(report),
                       gr.update(choices=model_choices(self.manager, "classify", lang),
                                 value=result["key"]), gr.update(visible=True))
        else:
            results = (t("ft.no_results", lang),) + nothing[1:]
        notes = views.notices_md(st["notices"], lang)
        curve = bool(st["steps"])
        return ((views.status_html(st, lang), notes, views.loss_figure(st, lang) if curve else gr.skip(),
                 views.epochs_rows(st), gr.update(visible=curve)) + results
                + (gr.Timer(active=st["status"] not in FINISHED),))


def build(ctx: AppContext) -> None:
    """The Fine-tune tab: one sub-tab per kind of fine-tuning (each a module with its own build)."""
    with gr.Tabs(elem_id="ft-tabs"):
        with ctx.loc.Tab(label_key="ft.sub.classify", id="ft-classify", elem_id="ft-sub-classify"):
            build_classifier(ctx)
        from webapp.tabs import finetune_tokens     # here: it imports this module's helpers
        with ctx.loc.Tab(label_key="tok.tab", id="ft-tokens", elem_id="ft-sub-tokens"):
            finetune_tokens.build(ctx)
        from webapp.tabs import sft                 # teach the language model itself (LoRA)
        with ctx.loc.Tab(label_key="sft.tab", id="ft-sft", elem_id="ft-sub-sft"):
            sft.build(ctx)


def build_classifier(ctx: AppContext) -> None:
    """Sentence classification: a BERT-style encoder + a new head, trained on the user's data."""
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    gr.set_static_paths([SAMPLES_DIR])          # the bundled samples can be put in the upload box
    h = Handlers(manager, ctx.jobs)
    defaults = FinetuneConfig()
    loc.Markdown(value_key="ft.intro")

    # ---- 1. data ----
    loc.Markdown(value_key="ft.h_data")
    with gr.Row():
        upload = loc.File(label_key="ft.upload", file_types=list(FORMATS), type="filepath",
                          elem_id="ft-upload", scale=3)
        with gr.Column(scale=1):
            sample_btn = loc.Button(value_key="ft.use_sample", variant="primary", elem_id="ft-sample")
            sample_zh_btn = loc.Button(value_key="ft.use_sample_zh", size="sm", elem_id="ft-sample-zh")
    loc.Markdown(value_key="ft.sample_note", elem_id="ft-sample-note")
    data_msg = action_message(elem_id="ft-data-msg")
    with gr.Row():
        text_col = loc.Dropdown(label_key="ft.text_col", choices=[], allow_custom_value=True, elem_id="ft-text-col")
        label_col = loc.Dropdown(label_key="ft.label_col", choices=[], allow_custom_value=True, elem_id="ft-label-col")
    data_notes = gr.Markdown(elem_id="ft-data-notes")
    with gr.Row(visible=False, elem_id="ft-data-box") as data_box:
        preview = loc.Dataframe(label_key="ft.preview", interactive=False, wrap=True,
                                max_height=320, elem_id="ft-preview", scale=3)
        counts_plot = gr.Plot(elem_id="ft-counts", scale=2, show_label=False)

    # ---- 2. setup ----
    loc.Markdown(value_key="ft.h_setup")
    with gr.Row():
        base = model_picker(ctx, "finetune", label_key="ft.base", elem_id="ft-base",
                            value=defaults.base_model, scale=2)
        name = loc.Textbox(label_key="ft.name", placeholder_key="ft.name_ph", elem_id="ft-name",
                           scale=2)
    with gr.Row():
        epochs = loc.Slider(label_key="ft.epochs", minimum=1, maximum=20, step=1,
                            value=defaults.epochs, elem_id="ft-epochs")
        lr = loc.Dropdown(label_key="ft.lr", choices=LEARNING_RATES, value=_rate(defaults.learning_rate),
                          allow_custom_value=True, elem_id="ft-lr")
        batch = loc.Dropdown(label_key="ft.batch", choices=[4, 8, 16, 32, 64],
                             value=defaults.batch_size, allow_custom_value=True, elem_id="ft-batch")
        max_len = loc.Slider(label_key="ft.max_len", minimum=16, maximum=512, step=16,
                             value=defaults.max_length, elem_id="ft-maxlen")
    with gr.Row():
        val_pct = loc.Slider(label_key="ft.val", minimum=5, maximum=50, step=5,
                             value=int(defaults.val_fraction * 100), elem_id="ft-val")
        seed = loc.Number(label_key="ft.seed", value=defaults.seed, precision=0, elem_id="ft-seed")
        head_only = loc.Checkbox(label_key="ft.head_only", value=defaults.head_only,
                                 elem_id="ft-head-only")
    with loc.Accordion(label_key="ft.code", open=False, elem_id="ft-code-box"):
        loc.Markdown(value_key="ft.code_note")
        gr.Code(views.TRAINING_CODE, language="python", interactive=False, elem_id="ft-code")

    # ---- 3. training ----
    loc.Markdown(value_key="ft.h_train")
    with gr.Row():
        start_btn = loc.Button(value_key="ft.start", variant="primary", elem_id="ft-start")
        stop_btn = loc.Button(value_key="ft.stop", variant="stop", elem_id="ft-stop")
        resume_btn = loc.Button(value_key="myjobs.resume", variant="primary", visible=False,
                                elem_id="ft-resume")    # an interrupted job (follow_job)
    start_msg = action_message(elem_id="ft-start-msg")
    stop_note = gr.Markdown(elem_id="ft-stop-note")
    with gr.Row():
        job_box = loc.Textbox(label_key="ft.job_box", placeholder_key="ft.job_ph", scale=4,
                              elem_id="ft-job-id")
        attach_btn = loc.Button(value_key="ft.attach", scale=1, elem_id="ft-attach")
    status = gr.HTML(views.status_html(None, loc.lang), elem_id="ft-status")
    train_notes = gr.Markdown(elem_id="ft-train-notes")
    with gr.Row(visible=False, elem_id="ft-train-box") as train_box:
        loss_plot = gr.Plot(elem_id="ft-loss", show_label=False)
        epoch_table = loc.Dataframe(label_key="ft.epoch_table", interactive=False,
                                    headers=t("ft.epoch_cols", loc.lang).split("|"),
                                    elem_id="ft-epochs-table")

    # ---- 4. results and 5. keep it ----
    loc.Markdown(value_key="ft.h_results")
    summary = gr.Markdown(t("ft.no_results", loc.lang), elem_id="ft-summary")
    with gr.Column(visible=False, elem_id="ft-results-box") as results_box:
        with gr.Row():
            cm_plot = gr.Plot(elem_id="ft-confusion", show_label=False)
            class_table = loc.Dataframe(label_key="ft.per_class", interactive=False,
                                        headers=t("ft.class_cols", loc.lang).split("|"),
                                        elem_id="ft-per-class")
        mistakes = loc.Dataframe(label_key="ft.mistakes", interactive=False, wrap=True,
                                 max_height=300, headers=t("ft.mistake_cols", loc.lang).split("|"),
                                 elem_id="ft-mistakes")
    loc.Markdown(value_key="ft.h_compare")
    with gr.Row():
        tuned = model_picker(ctx, "classify", label_key="ft.tuned", value=None, elem_id="ft-tuned",
                             scale=2)
        probe = loc.Textbox(label_key="ft.probe", value_key="ft.probe_value", scale=3,
                            elem_id="ft-probe")
        compare_btn = loc.Button(value_key="ft.compare", variant="primary", scale=1,
                                 elem_id="ft-compare")
    compare_msg = action_message(elem_id="ft-compare-msg")
    with gr.Row(visible=False, elem_id="ft-compare-box") as compare_box:
        before_out = loc.Label(label_key="ft.before", elem_id="ft-before")
        after_out = loc.Label(label_key="ft.after", elem_id="ft-after")
    compare_note = gr.Markdown(elem_id="ft-compare-note")
    loc.Markdown(value_key="ft.h_keep")
    with gr.Row():
        zip_btn = loc.Button(value_key="ft.zip", elem_id="ft-zip", scale=1)
        zip_file = loc.File(label_key="ft.zip_file", interactive=False, elem_id="ft-zip-file", scale=3,
                            height=90, visible=False)
    zip_msg = action_message(elem_id="ft-zip-msg")

    poll = gr.Timer(2.0, active=False)

    def show_data(text_c):
        return gr.update(visible=bool(text_c))

    # ---- wiring ----
    sample_btn.click(lambda: str(SAMPLES[SAMPLE]), None, [upload], api_visibility="private")
    sample_zh_btn.click(lambda: str(SAMPLES[SAMPLE_ZH]), None, [upload], api_visibility="private")
    data_outs = [text_col, label_col, data_notes, preview, counts_plot, max_len]
    loaded = wire_action(upload.change, h.on_upload, [upload, base, lang], data_outs,
                         message=data_msg, clear=data_outs[:5])
    loaded[0].then(show_data, [text_col], [data_box], api_visibility="private")
    wire_action([text_col.input, label_col.input, base.input], h.on_columns,
                                [upload, text_col, label_col, base, lang],
                                [data_notes, counts_plot, max_len], message=data_msg,
                                clear=[data_notes])
    render_outs = [status, train_notes, loss_plot, epoch_table, train_box, summary, cm_plot,
                   class_table, mistakes, tuned, results_box, poll]
    started = wire_action(start_btn.click, h.start_training,
                          [upload, text_col, label_col, base, epochs, lr, batch, max_len, val_pct,
                           seed, head_only, name, lang], [job_box], message=start_msg,
                          api_name="finetune_start")
    follow_job(ctx, "finetune", job_box, h.render, render_outs, started=[started[0].then],
               attach=attach_btn.click,
               resume=resume_btn)
    wire_action(stop_btn.click, h.stop_training, [job_box, lang], [stop_note], message=start_msg,
                api_name="finetune_stop")
    compared = wire_action(compare_btn.click, h.compare, [tuned, probe, lang],
                           [before_out, after_out, compare_note], message=compare_msg,
                           api_name="finetune_compare", **HEAVY)
    compared[0].then(lambda after: gr.update(visible=bool(after)), [after_out], [compare_box],
                     api_visibility="private")
    zipped = wire_action(zip_btn.click, h.make_zip, [tuned, lang], [zip_file], message=zip_msg,
                         api_name="finetune_zip")
    zipped[0].then(lambda path: gr.update(visible=bool(path)), [zip_file], [zip_file],
                   api_visibility="private")
    gr.api(friendly(h.finetune_status), api_name="finetune_status")
    gr.api(friendly(h.classify_api), api_name="classify", **HEAVY)
    lang.change(h.relabel_data, [upload, text_col, label_col, base, lang],
                [data_notes, counts_plot], api_visibility="private")
    lang.change(lambda lg: tuple(gr.update(headers=t(k, lg).split("|")) for k in
                                 ("ft.epoch_cols", "ft.class_cols", "ft.mistake_cols")),
                [lang], [epoch_table, class_table, mistakes], api_visibility="private")
