"""Cost of scale tab: architecture -> parameters, memory, compute and time (models/scale.py),
with presets (GPT-3, GPT-2, BERT-base, the packaged and loaded models) and plots of how the
cost grows with size."""
from __future__ import annotations

import html
import json

import gradio as gr

from models import scale as sc
from models.errors import UserError

from . import pretrain_plots as plots
from .common import AppContext, friendly
from .i18n import t

TITLE_KEY = "scale.tab"
TAB_ID = "scale"
LOADED = "loaded:"


def duration(seconds: float, lang: str) -> str:
    for unit, f in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= f:
            return f"{seconds / f:.3g} {t('scale.unit_' + unit, lang)}"
    return f"{seconds:.3g} {t('scale.unit_seconds', lang)}"


def size_text(n: float) -> str:
    for unit, f in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= f:
            return f"{n / f:.3g} {unit}"
    return f"{n:.0f} B"


def preset_choices(manager, lang: str) -> list[tuple[str, str]]:
    out = [(p.name, p.key) for p in sc.PRESETS]
    for key in manager.loaded_keys():
        out.append((t("scale.loaded", lang, name=manager.registry.get(key).name), LOADED + key))
    return out


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="scale.intro")
    g = sc.preset("gpt3")
    s = sc.TrainingSetup()
    with gr.Row():
        preset = loc.Dropdown(label_key="scale.preset", choices=preset_choices(manager, loc.lang),
                              value="gpt3", elem_id="scale-preset", scale=2)
        run = loc.Button(value_key="scale.run", variant="primary", elem_id="scale-run", scale=1)
    with gr.Row():
        with loc.Group():
            loc.Markdown(value_key="scale.arch")
            with gr.Row():
                family = loc.Radio(label_key="scale.family", choices=list(sc.FAMILIES),
                                   value=g.arch.family, elem_id="scale-family")
                tied = loc.Checkbox(label_key="scale.tied", value=g.arch.tied)
            with gr.Row():
                layers = loc.Number(label_key="scale.layers", value=g.arch.n_layers,
                                    elem_id="scale-layers")
                width = loc.Number(label_key="scale.width", value=g.arch.d_model, elem_id="scale-width")
                heads = loc.Number(label_key="scale.heads", value=g.arch.n_heads)
                kv = loc.Number(label_key="scale.kv_heads", value=g.arch.n_kv_heads)
            with gr.Row():
                ff = loc.Number(label_key="scale.ff", value=g.arch.d_ff)
                vocab = loc.Number(label_key="scale.vocab", value=g.arch.vocab)
                context = loc.Number(label_key="scale.context", value=g.arch.context)
        with loc.Group():
            loc.Markdown(value_key="scale.training")
            with gr.Row():
                tokens = loc.Number(label_key="scale.tokens", value=g.tokens / 1e9,
                                    elem_id="scale-tokens")
                gpu = loc.Dropdown(label_key="scale.gpu", choices=list(sc.GPUS), value="NVIDIA A100")
                gpus = loc.Number(label_key="scale.gpus", value=s.gpus, elem_id="scale-gpus")
            with gr.Row():
                tflops = gr.Number(label="TFLOP/s", value=s.gpu_tflops)
                util = loc.Slider(label_key="scale.util", minimum=1, maximum=100, step=1,
                                  value=int(s.utilisation * 100))
                dtype = loc.Radio(label_key="scale.dtype", choices=["bf16", "fp32"], value=s.dtype)
                batch = loc.Number(label_key="scale.batch", value=s.batch)
    result = gr.Markdown(elem_id="scale-result")
    check = gr.Markdown(elem_id="scale-check")
    with gr.Row():
        mem_plot = gr.Plot(elem_id="scale-memory", show_label=False)
        growth_plot = gr.Plot(elem_id="scale-growth", show_label=False)
    presets_plot = gr.Plot(elem_id="scale-presets", show_label=False)
    loc.Markdown(value_key="scale.fine_print")
    api_json = gr.JSON(visible=False)

    def arch_of(fam, ly, wd, hd, kvh, f, vc, cx, tie) -> sc.Architecture:
        def whole(name, v):
            if v is None or v != v or abs(v) > 1e18:
                raise UserError("scale_out_of_range", f"{name} must be a number; got {v!r}.",
                                field=name, lo="1", hi="-", value=repr(v))
            return int(round(v))
        return sc.Architecture(fam, whole("n layers", ly), whole("d model", wd),
                               whole("n heads", hd), whole("vocab", vc), whole("context", cx),
                               whole("d ff", f or 0), whole("n kv heads", kvh or 0), bool(tie))

    @friendly
    def estimate(key, fam, ly, wd, hd, kvh, f, vc, cx, tie, tok_b, n_gpu, tf, u, dt, bt, lang):
        arch = arch_of(fam, ly, wd, hd, kvh, f, vc, cx, tie)
        if tok_b is None or n_gpu is None or tf is None or bt is None:
            raise UserError("scale_out_of_range", "Fill in every field of the training run.",
                            field="-", lo="-", hi="-", value="empty")
        setup = sc.TrainingSetup(float(tok_b) * 1e9, n_gpu, float(u) / 100, float(tf), dt, bt)
        if float(n_gpu) != int(n_gpu) or float(bt) != int(bt):
            raise UserError("scale_out_of_range", "The number of GPUs and of sequences must be "
                            "whole numbers.", field="GPUs", lo="1", hi="-", value=repr(n_gpu))
        est = sc.estimate(arch, setup)
        p = est.params
        fmt = sc.format_count
        gb = size_text
        md = t("scale.result", lang, params=fmt(p.total), params_exact=p.total, emb=fmt(p.embeddings),
               attn=fmt(p.attention), mlp=fmt(p.mlp), norms=fmt(p.norms), head=fmt(p.head),
               non_emb=fmt(p.non_embedding), dtype=dt, inf=gb(est.inference_total),
               inf_w=gb(est.inference_weights), kv=gb(est.inference_kv_cache), context=arch.context,
               train=gb(est.train_total), tw=gb(est.train_weights), tg=gb(est.train_gradients),
               ta=gb(est.train_adam), tact=gb(est.train_activations), flops=est.flops,
               tokens=fmt(setup.tokens), gpus=int(setup.gpus), gpu_tflops=setup.gpu_tflops,
               util=setup.utilisation, time=duration(est.seconds, lang),
               gpu_days=est.seconds * setup.gpus / 86400)
        note = _check_line(key, arch, lang)
        points = []
        for pr in sc.PRESETS:
            e = sc.estimate(pr.arch, sc.TrainingSetup(tokens=pr.tokens))
            points.append((pr.name, e.params.total, e.flops))
        data = est.as_dict()
        return (md, note, plots.memory_bars(est, lang),
                plots.growth_lines(sc.growth(arch, setup), est, lang),
                plots.presets_scatter(points, (p.total, est.flops), lang), data)

    def _check_line(key, arch, lang) -> str:
        """For a loaded model (or a packaged preset that is loaded), formula vs real count."""
        model_key = key[len(LOADED):] if key and key.startswith(LOADED) else key
        if not model_key or not manager.is_loaded(model_key):
            note = next((p.note for p in sc.PRESETS if p.key == key), "")
            return t("scale.note", lang, note=html.escape(note)) if note else ""
        lm = manager.load(model_key)          # already loaded: just a lookup
        try:
            model_arch = sc.from_config(lm.model.config)
        except UserError:
            return ""
        if model_arch != arch:
            return ""
        formula, real = sc.count_params(arch).total, sc.real_param_count(lm.model)
        return t("scale.check", lang, formula=formula, real=real,
                 mark="✓" if formula == real else "✗")

    @friendly
    def fill(key, lang):
        if key and key.startswith(LOADED):
            # read config.json from disk: never loads a model (it may have been evicted)
            spec = manager.registry.get(key[len(LOADED):])
            folder = manager.registry.files_dir(spec)
            config = json.loads((folder / "config.json").read_text("utf-8")) if folder else {}
            arch, toks = sc.from_config(config), 1e9
        else:
            pr = sc.preset(key)
            arch, toks = pr.arch, pr.tokens
        return (arch.family, arch.n_layers, arch.d_model, arch.n_heads, arch.n_kv_heads,
                arch.d_ff, arch.vocab, arch.context, arch.tied, toks / 1e9)

    def gpu_peak(name, dt):
        bf16, fp32 = sc.GPUS.get(name, (312.0, 19.5))
        return bf16 if dt == "bf16" else fp32

    ins = [preset, family, layers, width, heads, kv, ff, vocab, context, tied, tokens, gpus,
           tflops, util, dtype, batch, lang]
    outs = [result, check, mem_plot, growth_plot, presets_plot, api_json]
    run.click(estimate, ins, outs, api_name="compute_estimate")
    # The preset's figures are ready the moment the tab opens: no click needed to see plots.
    ctx.current_tab.select(estimate, ins, outs, api_visibility="private", show_progress="hidden")
    preset.input(fill, [preset, lang], [family, layers, width, heads, kv, ff, vocab, context, tied,
                                         tokens], api_visibility="private").then(
        estimate, ins, outs, api_visibility="private")
    preset.focus(lambda lang: gr.update(choices=preset_choices(manager, lang)), [lang], [preset],
                 api_visibility="private")
    gpu.input(gpu_peak, [gpu, dtype], [tflops], api_visibility="private")
    dtype.input(gpu_peak, [gpu, dtype], [tflops], api_visibility="private")
