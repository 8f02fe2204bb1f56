"""Fine-tune → "Teach the language model": prompt/answer pairs (or the bundled sample) teach a
causal LM a behaviour with a LoRA adapter, as a background job: the LoRA settings explained with
the trainable parameter count, which tokens count in the loss, the live loss, the held-out
prompts answered by the base and the tuned model side by side every N steps, a box to ask both,
and the result kept (adapter or merged, registered for the other tabs, zip download).

The job id is kept in the browser (localStorage), so a reload reattaches to a running job;
pasting an id does the same. Handlers live in `Handlers` (plain inputs and outputs, testable
without a browser); `build` lays out the sub-tab and wires them with `wire_action`. The library
side is models/training/sft/; figures and HTML come from webapp/views/sft.py.
"""
from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from models.core.errors import UserError
from models.core.files import read_json
from models.core.jobs import FINISHED, same_start
from models.training.sft.data import (FORMATS, SAMPLE_HELDOUT, SAMPLE_TRAIN, read_conversations,
                                      read_heldout)
from models.training.sft.job import ask_both, start_job, status_dict
from models.training.sft.loop import ALL_TARGETS, SFTConfig, count_lora, mask_view
from models.training.sft.store import zip_model

from webapp.common import (HEAVY, AppContext, action_message, follow_job, friendly, model_choices,
                            model_picker, setting_number, wire_action)
from webapp.i18n import localize_status, render, t
from webapp.tabs.finetune import _rate, _tokenizer
from webapp.views import sft as views

LEARNING_RATES = ["1e-4", "2e-4", "5e-4", "1e-3", "2e-3", "5e-3"]
HELDOUT_SHOWN = 8             # held-out prompts pre-filled from the sample (each eval answers them)


def _number(value, name: str, cast=float):
    return setting_number(value, name, "sft_not_number", cast)




def sample_heldout_text(limit: int = HELDOUT_SHOWN) -> str:
    return "\n".join(read_heldout(path=SAMPLE_HELDOUT)[:limit])


class Handlers:
    """What the sub-tab's buttons run: plain values in, plain values (or gr.update) out; a
    UserError for anything the user can fix. Every handler takes `lang` last."""

    def __init__(self, manager, jobs):
        self.manager, self.jobs = manager, jobs

    def _base_folder(self, base_key, prepare: bool = False):
        """(spec, files folder or None). `prepare`: convert a packaged GGUF model first (once,
        ~30 s), so its tokenizer can show which tokens count before training starts."""
        registry = self.manager.registry
        spec = registry.get(base_key or SFTConfig.base_model)
        if prepare and spec.gguf_file and registry.files_dir(spec) is None:
            self.manager.load(spec.key)
        return spec, registry.files_dir(spec)

    # ---- data ----
    def on_upload(self, path, base_key, lang):
        """(notes, preview rows, which-tokens-count HTML) for a file."""
        if not path:
            return "", None, ""
        data = read_conversations(path)
        spec, folder = self._base_folder(base_key, prepare=True)
        mask = ""
        if folder is not None and spec.head == "causal-lm":
            mask = views.mask_html(mask_view(_tokenizer(str(folder)), data.examples[0]), lang)
        return (views.data_md(data, lang),
                gr.update(value=views.preview_rows(data),
                          headers=t("sft.preview_cols", lang).split("|")), mask)

    def relabel(self, path, base_key, lang):
        try:
            return self.on_upload(path, base_key, lang)
        except UserError:
            return gr.update(), gr.update(), gr.update()

    def params(self, base_key, rank, targets, lang):
        """The trainable vs all parameter count for these settings (from config.json)."""
        try:
            _spec, folder = self._base_folder(base_key)
            cfg = SFTConfig(rank=int(rank or 1), target_modules=tuple(targets or ()))
        except (UserError, TypeError, ValueError):
            return views.params_md(None, lang)
        config = read_json(Path(folder) / "config.json") if folder else {}
        return views.params_md(count_lora(config, cfg) if config else None, lang)

    # ---- training ----
    def start(self, path, heldout, base_key, name, rank, alpha, dropout, targets, rate, steps,
              batch_size, max_length, every, keep, lang) -> str:
        if not path:
            raise UserError("sft_no_data")
        cfg = SFTConfig(base_model=base_key or SFTConfig.base_model,
                        rank=_number(rank, "rank", int), alpha=_number(alpha, "alpha", int),
                        dropout=_number(dropout, "dropout"),
                        target_modules=tuple(targets or ()),
                        learning_rate=_number(rate, "learning_rate"),
                        steps=_number(steps, "steps", int),
                        batch_size=_number(batch_size, "batch_size", int),
                        max_length=_number(max_length, "max_length", int),
                        eval_every=_number(every, "eval_every", int),
                        merge=(keep == "merge")).check()
        data = read_conversations(path, seed=cfg.seed)
        prompts = read_heldout(heldout)
        sample = Path(str(path)).name == SAMPLE_TRAIN.name
        with same_start(path, heldout, cfg, name):                     # one job per click
            return start_job(self.manager, self.jobs, cfg, data, prompts, name or "",
                             check_format=sample)

    def stop(self, job_id, lang) -> str:
        job_id = (job_id or "").strip()
        if not job_id:
            raise UserError("sft_no_job")
        job = self.jobs.snapshot(job_id)
        if job.status in FINISHED:
            return t("sft.already_finished", lang)
        self.jobs.cancel(job_id)
        return t("sft.stop_sent", lang)

    def sft_status(self, job_id: str, lang: str = "en") -> dict:
        """Progress of a teaching job: status, progress (0..1), eta_seconds, queue_position,
        trainable / total_params, steps [{step, loss}], evals [{step, prompts, base, tuned,
        base_follows, tuned_follows}], notices, result (saved model key, ...) when finished."""
        return localize_status(status_dict(self.jobs.snapshot(job_id)), lang)

    # ---- using the result ----
    def try_both(self, key, prompt, lang):
        if not key:
            raise UserError("sft_pick_model")
        return ask_both(self.manager, key, prompt)

    def make_zip(self, key, lang):
        if not key:
            raise UserError("sft_pick_model")
        spec = self.manager.registry.get(key)
        folder = self.manager.registry.files_dir(spec)
        if folder is None:
            raise UserError("sft_no_model", folder=spec.name)
        return str(zip_model(folder))

    # ---- what the training section shows ----
    def render(self, job_id, lang):
        """status, notes, loss plot, side-by-side heading, side-by-side rows, train box
        visibility, result text, tuned picker, results box visibility, poll timer."""
        job_id = (job_id or "").strip()
        hidden = gr.update(visible=False)
        if not job_id:
            return (views.status_html(None, lang), "", gr.skip(), "", gr.skip(), hidden,
                    t("sft.no_results", lang), gr.skip(), hidden, gr.Timer(active=False))
        try:
            st = status_dict(self.jobs.snapshot(job_id))
        except UserError as exc:
            return (f'<div class="ft-status">⚠ {html.escape(render(exc, lang))}</div>', "",
                    gr.skip(), "", gr.skip(), hidden, t("sft.no_results", lang), gr.skip(),
                    hidden, gr.Timer(active=False))
        head, rows = views.side_by_side(st, lang)
        result = st["result"]
        picker = (gr.update(choices=model_choices(self.manager, "generate", lang),
                            value=result["key"]) if result else gr.skip())
        return (views.status_html(st, lang), views.notices_md(st["notices"], lang),
                views.loss_figure(st, lang) if st["steps"] else gr.skip(), head,
                gr.update(value=rows, headers=t("sft.side_cols", lang).split("|")) if rows
                else gr.skip(), gr.update(visible=bool(st["steps"] or rows)),
                views.result_md(result, lang), picker, gr.update(visible=bool(result)),
                gr.Timer(active=st["status"] not in FINISHED))


def build(ctx: AppContext) -> None:
    """The sub-tab's layout and wiring (mounted by webapp/tabs/finetune.py)."""
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    gr.set_static_paths([SAMPLE_TRAIN.parent])
    h = Handlers(manager, ctx.jobs)
    d = SFTConfig()
    loc.Markdown(value_key="sft.intro")

    # ---- 1. data ----
    loc.Markdown(value_key="sft.h_data")
    with gr.Row():
        upload = loc.File(label_key="sft.upload", file_types=list(FORMATS), type="filepath",
                          elem_id="sft-upload", scale=3)
        sample_btn = loc.Button(value_key="sft.use_sample", variant="primary",
                                elem_id="sft-sample", scale=1)
    loc.Markdown(value_key="sft.sample_note", elem_id="sft-sample-note")
    data_msg = action_message(elem_id="sft-data-msg")
    data_notes = gr.Markdown(elem_id="sft-data-notes")
    preview = loc.Dataframe(label_key="sft.preview", interactive=False, wrap=True, max_height=260,
                            headers=t("sft.preview_cols", loc.lang).split("|"), elem_id="sft-preview")
    mask = gr.HTML(elem_id="sft-mask")
    heldout = loc.Textbox(label_key="sft.heldout", lines=5, max_lines=12, elem_id="sft-heldout")

    # ---- 2. LoRA settings ----
    loc.Markdown(value_key="sft.h_setup")
    with gr.Row():
        base = model_picker(ctx, "generate", label_key="sft.base", elem_id="sft-base",
                            value=d.base_model, scale=2)
        name = loc.Textbox(label_key="sft.name", placeholder_key="sft.name_ph", elem_id="sft-name",
                           scale=2)
    loc.Markdown(value_key="sft.lora_explain", elem_id="sft-lora-explain")
    with gr.Row():
        rank = loc.Slider(label_key="sft.rank", minimum=1, maximum=64, step=1, value=d.rank,
                          elem_id="sft-rank")
        alpha = loc.Slider(label_key="sft.alpha", minimum=1, maximum=128, step=1, value=d.alpha,
                           elem_id="sft-alpha")
        dropout = loc.Slider(label_key="sft.dropout", minimum=0.0, maximum=0.5, step=0.05,
                             value=d.dropout, elem_id="sft-dropout")
    targets = loc.CheckboxGroup(label_key="sft.targets", choices=list(ALL_TARGETS),
                                value=list(d.target_modules), elem_id="sft-targets")
    params = gr.Markdown(h.params(d.base_model, d.rank, d.target_modules, loc.lang),
                         elem_id="sft-params")
    with gr.Row():
        lr = loc.Dropdown(label_key="sft.lr", choices=LEARNING_RATES, value=_rate(d.learning_rate),
                          allow_custom_value=True, elem_id="sft-lr")
        steps = loc.Slider(label_key="sft.steps", minimum=5, maximum=500, step=5, value=d.steps,
                           elem_id="sft-steps")
        batch = loc.Dropdown(label_key="sft.batch", choices=[1, 2, 4, 8, 16, 32],
                             value=d.batch_size, allow_custom_value=True, elem_id="sft-batch")
    with gr.Row():
        max_len = loc.Slider(label_key="sft.max_len", minimum=32, maximum=1024, step=32,
                             value=d.max_length, elem_id="sft-maxlen")
        every = loc.Slider(label_key="sft.every", minimum=5, maximum=200, step=5,
                           value=d.eval_every, elem_id="sft-every")
        keep = loc.Radio(label_key="sft.keep", value="adapter", elem_id="sft-keep",
                         choices=[(t("sft.keep.adapter", loc.lang), "adapter"),
                                  (t("sft.keep.merge", loc.lang), "merge")])

    # ---- 3. training ----
    loc.Markdown(value_key="sft.h_train")
    with gr.Row():
        start_btn = loc.Button(value_key="sft.start", variant="primary", elem_id="sft-start")
        stop_btn = loc.Button(value_key="sft.stop", variant="stop", elem_id="sft-stop")
        resume_btn = loc.Button(value_key="myjobs.resume", variant="primary", visible=False,
                                elem_id="sft-resume")    # an interrupted job (follow_job)
    start_msg = action_message(elem_id="sft-start-msg")
    stop_note = gr.Markdown(elem_id="sft-stop-note")
    with gr.Row():
        job_box = loc.Textbox(label_key="sft.job_box", placeholder_key="sft.job_ph", scale=4,
                              elem_id="sft-job-id")
        attach_btn = loc.Button(value_key="sft.attach", scale=1, elem_id="sft-attach")
    status = gr.HTML(views.status_html(None, loc.lang), elem_id="sft-status")
    train_notes = gr.Markdown(elem_id="sft-train-notes")
    with gr.Column(visible=False, elem_id="sft-train-box") as train_box:
        loss_plot = gr.Plot(elem_id="sft-loss", show_label=False)
        side_head = gr.Markdown(elem_id="sft-side-head")
        side = gr.Dataframe(interactive=False, wrap=True, max_height=420,
                            headers=t("sft.side_cols", loc.lang).split("|"), elem_id="sft-side")

    # ---- 4. try it and keep it ----
    loc.Markdown(value_key="sft.h_keep")
    result_md = gr.Markdown(t("sft.no_results", loc.lang), elem_id="sft-result")
    with gr.Column(visible=False, elem_id="sft-results-box") as results_box:
        with gr.Row():
            tuned = model_picker(ctx, "generate", label_key="sft.tuned", value=None,
                                 elem_id="sft-tuned", scale=2)
            probe = loc.Textbox(label_key="sft.try_prompt", value_key="sft.try_default", scale=3,
                                elem_id="sft-probe")
            try_btn = loc.Button(value_key="sft.try", variant="primary", scale=1, elem_id="sft-try")
        try_msg = action_message(elem_id="sft-try-msg")
        with gr.Row():
            base_out = loc.Textbox(label_key="sft.base_answer", interactive=False,
                                   elem_id="sft-base-answer")
            tuned_out = loc.Textbox(label_key="sft.tuned_answer", interactive=False,
                                    elem_id="sft-tuned-answer")
        with gr.Row():
            zip_btn = loc.Button(value_key="sft.zip", elem_id="sft-zip", scale=1)
            zip_file = loc.File(label_key="sft.zip_file", interactive=False, elem_id="sft-zip-file",
                                scale=3, height=90, visible=False)
        zip_msg = action_message(elem_id="sft-zip-msg")

    poll = gr.Timer(2.0, active=False)

    # ---- wiring ----
    sample_btn.click(lambda: (str(SAMPLE_TRAIN), sample_heldout_text()), None, [upload, heldout],
                     api_visibility="private")
    data_outs = [data_notes, preview, mask]
    uploaded = wire_action(upload.change, h.on_upload, [upload, base, lang], data_outs,
                           message=data_msg)
    uploaded[0].then(h.params, [base, rank, targets, lang], [params], api_visibility="private",
                     show_progress="hidden")
    gr.on([rank.change, targets.change, base.change], h.params, [base, rank, targets, lang],
          [params], api_visibility="private", show_progress="hidden")
    render_outs = [status, train_notes, loss_plot, side_head, side, train_box, result_md, tuned,
                   results_box, poll]
    started = wire_action(start_btn.click, h.start,
                          [upload, heldout, base, name, rank, alpha, dropout, targets, lr, steps,
                           batch, max_len, every, keep, lang], [job_box], message=start_msg,
                          api_name="sft_start")
    follow_job(ctx, "sft", job_box, h.render, render_outs, started=[started[0].then],
               attach=attach_btn.click,
               resume=resume_btn)
    wire_action(stop_btn.click, h.stop, [job_box, lang], [stop_note], message=start_msg,
                api_name="sft_stop")
    wire_action(try_btn.click, h.try_both, [tuned, probe, lang], [base_out, tuned_out],
                message=try_msg, api_name="sft_try", **HEAVY)
    zipped = wire_action(zip_btn.click, h.make_zip, [tuned, lang], [zip_file], message=zip_msg,
                         api_name="sft_zip")
    zipped[0].then(lambda path: gr.update(visible=bool(path)), [zip_file], [zip_file],
                   api_visibility="private")
    gr.api(friendly(h.sft_status), api_name="sft_status")
    lang.change(h.relabel, [upload, base, lang], data_outs, api_visibility="private")
    lang.change(h.params, [base, rank, targets, lang], [params], api_visibility="private")
    lang.change(lambda lg: gr.update(choices=[(t("sft.keep.adapter", lg), "adapter"),
                                              (t("sft.keep.merge", lg), "merge")]),
                [lang], [keep], api_visibility="private")
