"""Pre-training tab: three sub-tabs that make the ideas of pre-training visible.
  Embedding space          MiniLM sentence vectors: cosine heatmap, 2-D map, nearest sentences
  What the model predicts  SmolLM2's surprisal for every token, perplexity, top-10 next tokens
  Train a tiny model       BPE tokenizer + small GPT from scratch as a background job
Handlers are thin: models/runners/embeddings.py, models/runners/surprisal.py and models/training/pretrain/loop.py do the work,
webapp/views/pretrain.py draws. Each main action reports its errors next to its button
(wire_action). The tiny model's job id is kept in the browser (localStorage), so a reload
follows the job again by itself, as the Fine-tune tab does."""
from __future__ import annotations

import html
import time

import gradio as gr

from models.runners import embeddings as emb
from models.training.pretrain import loop as pt
from models.core.errors import UserError
from models.core.jobs import FINISHED, INTERRUPTED
from models.runners.surprisal import token_surprisal

from webapp.views import pretrain as plots
from webapp.common import (HEAVY, AppContext, action_message, follow_job, friendly, model_picker,
                            read_number, wire_action)
from webapp.i18n import job_error_text, progress_words, render, t

TITLE_KEY = "pre.tab"
TAB_ID = "pretrain"


def build(ctx: AppContext) -> None:
    ctx.loc.Markdown(value_key="pre.intro")
    with gr.Tabs(elem_id="pre-subtabs"):
        with ctx.loc.Tab(label_key="pre.sub_embed", id="pre-embed", elem_id="pre-tab-embed"):
            _build_embed(ctx)
        with ctx.loc.Tab(label_key="pre.sub_predict", id="pre-predict", elem_id="pre-tab-predict"):
            _build_predict(ctx)
        with ctx.loc.Tab(label_key="pre.sub_train", id="pre-train", elem_id="pre-tab-train"):
            _build_train(ctx)


# ---- Embedding space -----------------------------------------------------------------------
def _build_embed(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="pre.embed_intro")
    with gr.Row():
        with gr.Column(scale=3):
            text = loc.Textbox(label_key="pre.sentences", lines=8, elem_id="pre-sentences",
                               value_key="pre.sentences_value")
            with gr.Row():
                ex_en = loc.Button(value_key="pre.example_en", size="sm", elem_id="pre-ex-en")
                ex_zh = loc.Button(value_key="pre.example_zh", size="sm", elem_id="pre-ex-zh")
        with gr.Column(scale=2):
            model = model_picker(ctx, "embed", label_key="pre.embed_model",
                                 elem_id="pre-embed-model", value="minilm")
            upload = loc.File(label_key="pre.upload_list", file_types=[".txt", ".tsv", ".csv"],
                              type="filepath", elem_id="pre-upload-list", height=130)
            method = loc.Radio(label_key="pre.method", choices=[("PCA", "pca"), ("t-SNE", "tsne")],
                               value="pca", elem_id="pre-method")
            query = loc.Textbox(label_key="pre.query", placeholder_key="pre.query_ph",
                                elem_id="pre-query")
            run = loc.Button(value_key="pre.embed_run", variant="primary", elem_id="pre-embed-run")
            message = action_message("pre-embed-msg")
    notice = gr.Markdown(elem_id="pre-embed-notice")
    with gr.Row():
        heat = gr.Plot(elem_id="pre-heatmap", show_label=False)
        scatter = gr.Plot(elem_id="pre-map", show_label=False)
    nb_title = gr.Markdown(elem_id="pre-nb-title")
    neighbours = gr.HTML(elem_id="pre-neighbours")
    api_json = gr.JSON(visible=False)

    def embed(key, sentences, file, how, q, lang, progress=gr.Progress()):
        return embed_sentences(manager, key, sentences, file, how, q, lang, progress)

    ins = [model, text, upload, method, query, lang]
    outs = [heat, scatter, notice, nb_title, neighbours, api_json]
    wire_action(run.click, embed, ins, outs, message=message, api_name="embed", **HEAVY)
    ex_en.click(lambda: (emb.example_text("en"), None), None, [text, upload], api_visibility="private")
    ex_zh.click(lambda: (emb.example_text("zh"), None), None, [text, upload], api_visibility="private")


def embed_sentences(manager, key, sentences, file, how, q, lang, progress=None):
    """/embed: sentence vectors, their similarities, a 2-D map and the nearest sentences."""
    started = time.perf_counter()
    report = progress_words(progress, lang)
    if file:
        sentences = emb.read_sentence_file(file)
    items = emb.parse_sentences(sentences)
    with manager.use((key or "").strip(), progress=report) as lm, manager.guard():
        res = emb.analyse(lm, items, how)
        q = (q or "").strip()
        if q:
            qvec = emb.embed(lm, [q[: emb.MAX_CHARS]])[0][0]
            nbs, title = emb.nearest(res, qvec), t("pre.nb_query", lang, query=html.escape(q))
        else:
            nbs = emb.nearest(res, res.vectors[0], exclude=0)
            title = t("pre.nb_first", lang, query=html.escape(res.sentences[0]))
        name = lm.spec.name
    notes = [html.escape(render(n, lang)) for n in res.notices]
    if res.unk_share > 0.2:
        notes.append(html.escape(t("pre.unk_notice", lang, share=res.unk_share, model=name)))
    notes.append(t("pre.embed_stats", lang, n=len(res.sentences), dim=res.vectors.shape[1],
                   secs=time.perf_counter() - started))
    if how == "pca":
        axes = [t("pre.pca_axes", lang, i=i + 1, share=s) for i, s in enumerate(res.explained)]
        axes += [""] * (2 - len(axes))
    else:
        axes = [t("pre.tsne_axes", lang, i=i) for i in (1, 2)]
    data = {"sentences": res.sentences, "labels": res.labels,
            "similarity": res.similarity.round(4).tolist(), "coords": res.coords.round(4).tolist(),
            "method": how, "neighbours": [n.__dict__ for n in nbs], "unk_share": res.unk_share}
    return (plots.similarity_heatmap(res.sentences, res.labels, res.similarity, lang),
            plots.sentence_map(res.sentences, res.labels, res.coords, axes, lang),
            "\n\n".join(notes), title, plots.neighbours_html(nbs, lang), data)


# ---- What the model predicts ---------------------------------------------------------------
def _build_predict(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="pre.predict_intro")
    with gr.Row():
        with gr.Column(scale=3):
            text = loc.Textbox(label_key="pre.text", lines=4, elem_id="pre-text",
                               value_key="pre.text_value")
        with gr.Column(scale=1):
            model = model_picker(ctx, "surprisal", label_key="pre.lm_model",
                                 elem_id="pre-lm-model", value="smollm2")
            run = loc.Button(value_key="pre.score", variant="primary", elem_id="pre-score")
            message = action_message("pre-score-msg")
    summary = gr.Markdown(elem_id="pre-ppl")
    tokens = gr.HTML(elem_id="pre-tokens")
    bars = gr.Plot(elem_id="pre-surprisal-plot", show_label=False)
    position = loc.Slider(label_key="pre.position", minimum=0, maximum=1, step=1, value=0,
                          elem_id="pre-position")
    with gr.Row():
        topk = gr.Plot(elem_id="pre-topk", show_label=False)
        actual = gr.Markdown(elem_id="pre-actual")
    state = gr.State(None)
    api_json = gr.JSON(visible=False)

    def score(key, txt, lang, progress=gr.Progress()):
        return score_tokens(manager, key, txt, lang, progress)

    outs = [summary, tokens, bars, position, topk, actual, state, api_json]
    wire_action(run.click, score, [model, text, lang], outs, message=message,
                clear=[summary, tokens, bars, topk, actual, api_json],
                api_name="token_surprisal", **HEAVY)
    position.input(top_view, [state, position, lang], [topk, actual], api_visibility="private",
                   show_progress="hidden", trigger_mode="always_last")


def top_view(res, pos, lang):
    """The ten tokens the model expected after position `pos`, and what actually came."""
    if res is None:
        return None, ""
    pos = max(0, min(int(pos or 0), len(res.tokens) - 1))
    if pos + 1 < len(res.tokens):
        p = res.probs[pos + 1]
        note = t("pre.actual", lang, token=html.escape(res.label(pos + 1)), p=p,
                 rank=res.rank[pos + 1])
    else:
        note = t("pre.actual_end", lang)
    return plots.topk_bars(res, pos, lang), note


def score_tokens(manager, key, txt, lang, progress=None):
    """/token_surprisal: −ln p of every token, the perplexity, the top-10 after each token."""
    report = progress_words(progress, lang)
    with manager.use((key or "").strip(), progress=report) as lm, manager.guard():
        res = token_surprisal(lm, txt)
    head = t("pre.ppl", lang, ppl=res.perplexity, mean=res.mean_surprisal,
             bits=res.mean_surprisal / 0.6931471805599453, n=len(res.scored),
             model=html.escape(res.model_name))
    if res.notice:
        head = f"⚠️ {html.escape(render(res.notice, lang))}\n\n{head}"
    from webapp.views.engine import surprisal_note   # --engine-url: say who computed it
    where = surprisal_note(manager, lang)
    if where:
        head = f"{head}\n\n⚙️ {html.escape(where, quote=False)}"
    pos = max(0, len(res.tokens) // 2 - 1)
    fig, note = top_view(res, pos, lang)
    data = {"tokens": res.tokens, "token_ids": res.token_ids, "surprisal": res.surprisal,
            "probs": res.probs, "rank": res.rank, "perplexity": res.perplexity,
            "top": [[[c.token, c.prob] for c in row] for row in res.top],
            "engine": "local"}
    return (head, plots.tokens_html(res, lang), plots.surprisal_bars(res, lang),
            gr.update(maximum=max(1, len(res.tokens) - 1), value=pos), fig, note, res, data)


# ---- Train a tiny model ----------------------------------------------------------------------
DEFAULT_CORPUS = {"en": "english", "zh": "chinese"}   # a first-time user trains in their language


def relabel_corpus(lang: str, current: str):
    """The corpus list in `lang`; the default corpus follows the language while untouched."""
    if current in DEFAULT_CORPUS.values() and current != DEFAULT_CORPUS.get(lang, current):
        current = DEFAULT_CORPUS.get(lang, current)
    return gr.update(label=t("pre.corpus", lang), choices=corpus_choices(lang), value=current)


def corpus_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"pre.corpus.{name}", lang) if t(f"pre.corpus.{name}", lang) != f"pre.corpus.{name}"
             else name, name) for name in pt.bundled_corpora()]


def pretrain_config(*values) -> pt.PretrainConfig:
    """The settings boxes -> a checked PretrainConfig (UserError for a bad value)."""
    nm, ly, wd, hd, cx, vc, bt, rate, st, ev, pr, sd = values

    def number(v, cast):
        try:
            value = read_number(v)
            return None if value is None else cast(value)
        except (ValueError, OverflowError):
            return None                                   # check() names the field
    return pt.PretrainConfig(name=str(nm or ""), n_layer=number(ly, int), n_embd=number(wd, int),
                             n_head=number(hd, int), block_size=number(cx, int),
                             vocab_size=number(vc, int), batch_size=number(bt, int),
                             learning_rate=number(rate, float), steps=number(st, int),
                             sample_every=number(ev, int), sample_prompt=str(pr or ""),
                             seed=number(sd, int)).check()


def start_pretraining(manager, jobs, corpus_name, corpus_file, *settings) -> str:
    """/pretrain_start: read the corpus, check the settings, queue the job; returns its id."""
    cfg = pretrain_config(*settings)
    if corpus_file:
        text = pt.read_corpus(corpus_file)
    else:
        found = pt.bundled_corpora().get(corpus_name or "")
        if found is None:
            raise UserError("pre_corpus_empty")
        text = pt.read_corpus(found, source=corpus_name)
    job_id = jobs.submit("pretrain", f"pre-train {cfg.name}", pt.job_function(cfg, text, manager),
                         dedupe_key=repr((corpus_name, corpus_file, cfg)))    # one job per click
    jobs.keep_settings(job_id, pt.job_settings(cfg, text))      # resumable after a restart
    return job_id


def resume_pretraining(manager, jobs, *settings) -> str:
    """/pretrain_resume: continue a saved run of the same name up to the given steps."""
    cfg = pretrain_config(*settings)
    cache_dir = manager.registry.cache_dir
    if not pt.has_saved_run(cache_dir, cfg.name):
        raise UserError("pre_nothing_to_resume", name=cfg.name)
    job_id = jobs.submit("pretrain", f"resume {cfg.name}",
                         pt.job_function(cfg, None, manager, resume=True),
                         dedupe_key=repr(("resume", cfg)))
    jobs.keep_settings(job_id, pt.job_settings(cfg, None, resume=True))
    return job_id


def stop_pretraining(jobs, jid, lang) -> str:
    """/pretrain_stop: the job stops at its next step and saves."""
    jid = (jid or "").strip()
    if not jid:
        return t("pre.no_job", lang)
    job = jobs.snapshot(jid)                          # unknown id -> clear message
    if job.status in FINISHED:
        return t("pre.already_finished", lang)
    jobs.cancel(jid)
    return t("pre.stop_sent", lang)


def status_line(job, lang) -> str:
    """The job's state in the user's language (never the raw English status line)."""
    info = next((e for e in job.events if e.get("info")), None)
    losses = [e for e in job.events if "loss" in e]
    lines = []
    if info:
        lines.append(t("pre.status_info", lang, vocab=info["vocab"], params=info["params"],
                       tokens=info["corpus_tokens"]))
    for e in job.events:
        if e.get("type") == "notice":
            lines.append("⚠️ " + html.escape(render(e, lang)))
    res = job.result
    if job.status == "queued":
        lines.insert(0, t("pre.status_queued", lang, pos=job.queue_position))
    elif job.stopping:                        # Stop pressed: no progress line until it ends
        lines.insert(0, t("job.stopping", lang))
    elif job.status == INTERRUPTED:           # its server stopped: Resume in "My jobs"
        lines.insert(0, t("job.interrupted", lang))
    elif job.status == "running":
        phase = job.message if job.message in pt.PHASES else None
        step = losses[-1]["step"] if losses else 0
        if phase in (None, "training") and info and step:
            msg = t("pre.phase.step", lang, step=step, steps=info.get("total_steps", "?"))
        else:
            msg = t(f"pre.phase.{phase or 'training'}", lang)
        tps = next((e["tokens_per_s"] for e in reversed(losses) if "tokens_per_s" in e), 0.0)
        lines.insert(0, t("pre.status_running", lang, msg=html.escape(msg),
                          pct=100 * job.progress, tps=tps))
    elif job.status == "failed":
        lines.insert(0, t("pre.status_failed", lang, error=html.escape(
            job_error_text(job.error, job.error_code, job.error_params, lang))))
    elif res is not None and res.stopped:
        lines.insert(0, t("pre.status_stopped", lang, steps=res.steps_done, key=res.key))
    elif res is not None:
        lines.insert(0, t("pre.status_done", lang, steps=res.steps_done, first=res.first_loss,
                          final=res.final_loss, key=res.key))
    else:
        lines.insert(0, t("pre.status_cancelled", lang))
    return "\n\n".join(lines)


def status_data(job, lang: str = "en") -> dict:
    """/pretrain_status's JSON: status, progress, loss curve, samples, result; the error in
    `lang`."""
    res = job.result
    return {"job_id": job.id, "status": job.status, "progress": job.progress,
            "message": job.message,
            "error": job_error_text(job.error, job.error_code, job.error_params, lang)
            if job.error else None,
            "loss": [[e["step"], e["loss"]] for e in job.events if "loss" in e],
            "samples": [[e["step"], e["sample"]] for e in job.events if "sample" in e],
            # "path" would make gradio_client try to download the folder: call it saved_to
            "result": None if res is None else {("saved_to" if k == "path" else k): v
                                                for k, v in res.__dict__.items()
                                                if k != "samples"}}


def job_view(jobs, jid, lang, quiet: bool = False):
    """(status, loss plot, samples, JSON, timer) for the job `jid`. With `quiet`, an unknown
    id (a job from before a server restart, remembered by the browser) is said in the status
    line instead of raised."""
    jid = (jid or "").strip()
    if not jid:
        return "", None, "", None, gr.Timer(active=False)
    try:
        job = jobs.snapshot(jid)
    except UserError as exc:
        if not quiet:
            raise
        return ("⚠️ " + html.escape(render(exc, lang)), None, "", None,
                gr.Timer(active=False))
    sample_list = [(e["step"], e["sample"]) for e in job.events if "sample" in e]
    return (status_line(job, lang), plots.loss_curve(job.events, lang),
            plots.samples_html(sample_list, lang), status_data(job, lang),
            gr.Timer(active=job.status not in FINISHED))


def _build_train(ctx: AppContext) -> None:
    manager, jobs, loc, lang = ctx.manager, ctx.jobs, ctx.loc, ctx.lang
    loc.Markdown(value_key="pre.train_intro")
    d = pt.PretrainConfig()
    corpora = list(pt.bundled_corpora())
    with gr.Row():
        # allow_custom_value: an API caller's unknown name gets our message, not Gradio's
        corpus = gr.Dropdown(label=t("pre.corpus", loc.lang), choices=corpus_choices(loc.lang),
                             elem_id="pre-corpus", allow_custom_value=True,
                             value=DEFAULT_CORPUS.get(loc.lang, "english")
                             if DEFAULT_CORPUS.get(loc.lang) in corpora else (corpora or [None])[0])
        upload = loc.File(label_key="pre.upload_corpus", file_types=[".txt"], type="filepath",
                          elem_id="pre-upload-corpus", height=130)
    with loc.Accordion(label_key="pre.settings", open=False, elem_id="pre-settings"):
        with gr.Row():
            name = loc.Textbox(label_key="pre.name", value=d.name, elem_id="pre-name")
            layers = loc.Number(label_key="pre.layers", value=d.n_layer, precision=0)
            width = loc.Number(label_key="pre.width", value=d.n_embd, precision=0)
            heads = loc.Number(label_key="pre.heads", value=d.n_head, precision=0)
            context = loc.Number(label_key="pre.context", value=d.block_size, precision=0,
                                 elem_id="pre-context")
        with gr.Row():
            vocab = loc.Number(label_key="pre.vocab", value=d.vocab_size, precision=0)
            batch = loc.Number(label_key="pre.batch", value=d.batch_size, precision=0)
            lr = loc.Number(label_key="pre.lr", value=d.learning_rate)
            steps = loc.Number(label_key="pre.steps", value=d.steps, precision=0,
                               elem_id="pre-steps")
            every = loc.Number(label_key="pre.sample_every", value=d.sample_every, precision=0,
                               elem_id="pre-every")
        with gr.Row():
            prompt = loc.Textbox(label_key="pre.prompt", value=d.sample_prompt, elem_id="pre-prompt")
            seed = loc.Number(label_key="pre.seed", value=d.seed, precision=0)
    with gr.Row():
        start = loc.Button(value_key="pre.start", variant="primary", elem_id="pre-start")
        stop = loc.Button(value_key="pre.stop", variant="stop", elem_id="pre-stop")
        resume = loc.Button(value_key="pre.resume", elem_id="pre-resume")
        resume_job = loc.Button(value_key="job.resume_this", variant="primary", visible=False,
                                elem_id="pre-resume-job")    # an interrupted job (follow_job)
    message = action_message("pre-train-msg")
    job_id = loc.Textbox(label_key="pre.job", elem_id="pre-job-id", max_lines=1)
    status = gr.Markdown(elem_id="pre-status")
    with gr.Row():
        curve = gr.Plot(elem_id="pre-loss", show_label=False)
        samples = gr.HTML(elem_id="pre-samples")
    api_json = gr.JSON(visible=False)
    timer = gr.Timer(1.5, active=False)

    def pretrain_start(corpus_name, corpus_file, name, layers, width, heads, context, vocab,
                       batch, learning_rate, steps, sample_every, sample_prompt, seed, lang):
        return start_pretraining(manager, jobs, corpus_name, corpus_file, name, layers, width,
                                 heads, context, vocab, batch, learning_rate, steps,
                                 sample_every, sample_prompt, seed)

    def pretrain_resume(name, layers, width, heads, context, vocab, batch, learning_rate, steps,
                        sample_every, sample_prompt, seed, lang):
        return resume_pretraining(manager, jobs, name, layers, width, heads, context, vocab,
                                  batch, learning_rate, steps, sample_every, sample_prompt, seed)

    def pretrain_stop(jid, lang):
        return stop_pretraining(jobs, jid, lang)

    @friendly
    def pretrain_status(jid, lang):
        return job_view(jobs, jid, lang)

    def follow(jid, lang):
        """Timer ticks, reattach and language switch: never a pop-up, the status line says it."""
        return job_view(jobs, jid, lang, quiet=True)

    settings = [name, layers, width, heads, context, vocab, batch, lr, steps, every, prompt, seed]
    outs = [status, curve, samples, api_json, timer]
    quiet = dict(api_visibility="private", show_progress="hidden")
    started = []
    for button, fn, ins, api in ((start, pretrain_start, [corpus, upload] + settings, "pretrain_start"),
                                 (resume, pretrain_resume, settings, "pretrain_resume")):
        started.append(wire_action(button.click, fn, ins + [lang], [job_id], message=message,
                                   api_name=api)[0].then)
    wire_action(stop.click, pretrain_stop, [job_id, lang], [status], message=message,
                clear=[], api_name="pretrain_stop", show_progress="hidden")
    # Enter in the job-id box follows a job started elsewhere (another browser or computer).
    job_id.submit(pretrain_status, [job_id, lang], outs, api_name="pretrain_status",
                  show_progress="hidden")
    follow_job(ctx, "pretrain", job_id, follow, outs, started=started, attach=job_id.submit,
               resume=resume_job)
    lang.change(relabel_corpus, [lang, corpus], [corpus], **quiet)
