"""Cost of scale tab: architecture -> parameters, memory, compute and time (models/runners/scale.py),
with presets (GPT-3, GPT-2, BERT-base, the packaged and loaded models) and plots of how the
cost grows with size."""
from __future__ import annotations

import html
import json

import gradio as gr

from models.runners import scale as sc
from models.core.errors import UserError
from models.core.files import model_params

from webapp.views import pretrain as plots
from webapp.common import AppContext, action_message, read_number, wire_action
from webapp.i18n import t

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


def preset_name(p: sc.Preset, lang: str) -> str:
    key = f"scale.preset.{p.key}"
    text = t(key, lang)
    return p.name if text == key else text


def preset_choices(manager, lang: str) -> list[tuple[str, str]]:
    out = [(preset_name(p, lang), p.key) for p in sc.PRESETS]
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
                gpu = loc.Dropdown(label_key="scale.gpu", choices=list(sc.GPUS), value="NVIDIA A100",
                                   elem_id="scale-gpu")
                gpus = loc.Number(label_key="scale.gpus", value=s.gpus, elem_id="scale-gpus")
            with gr.Row():
                tflops = gr.Number(label="TFLOP/s", value=s.gpu_tflops, elem_id="scale-tflops")
                util = loc.Slider(label_key="scale.util", minimum=1, maximum=100, step=1,
                                  value=int(s.utilisation * 100))
                dtype = loc.Radio(label_key="scale.dtype", choices=["bf16", "fp32"], value=s.dtype,
                                  elem_id="scale-dtype")
                batch = loc.Number(label_key="scale.batch", value=s.batch)
    message = action_message("scale-msg")
    result = gr.Markdown(elem_id="scale-result")
    check = gr.Markdown(elem_id="scale-check")
    with gr.Row():
        mem_plot = gr.Plot(elem_id="scale-memory", show_label=False)
        growth_plot = gr.Plot(elem_id="scale-growth", show_label=False)
    presets_plot = gr.Plot(elem_id="scale-presets", show_label=False)
    loc.Markdown(value_key="scale.fine_print")
    api_json = gr.JSON(visible=False)

    def estimate(key, fam, ly, wd, hd, kvh, f, vc, cx, tie, tok_b, n_gpu, tf, u, dt, bt, lang):
        return estimate_view(manager, key, fam, ly, wd, hd, kvh, f, vc, cx, tie, tok_b, n_gpu,
                             tf, u, dt, bt, lang)

    def fill(key, lang):
        return fill_preset(manager, key, lang)

    ins = [preset, family, layers, width, heads, kv, ff, vocab, context, tied, tokens, gpus,
           tflops, util, dtype, batch, lang]
    outs = [result, check, mem_plot, growth_plot, presets_plot, api_json]
    wire_action(run.click, estimate, ins, outs, message=message, api_name="compute_estimate")
    # The preset's figures are ready the moment the tab opens: no click needed to see plots.
    wire_action(ctx.current_tab.select, estimate, ins, outs, message=message,
                show_progress="hidden")
    arch_boxes = [family, layers, width, heads, kv, ff, vocab, context, tied, tokens]
    filled = wire_action(preset.input, fill, [preset, lang], arch_boxes, message=message,
                         clear=[])
    wire_action(filled[0].then, estimate, ins, outs, message=message)
    preset.focus(lambda lang: gr.update(choices=preset_choices(manager, lang)), [lang], [preset],
                 api_visibility="private")
    # A new GPU or precision changes the peak TFLOP/s and so the time: recompute at once.
    for picker in (gpu, dtype):
        peak = picker.input(gpu_peak, [gpu, dtype], [tflops], api_visibility="private")
        wire_action(peak.then, estimate, ins, outs, message=message)
    lang.change(lambda lg, cur: gr.update(choices=preset_choices(manager, lg), value=cur),
                [lang, preset], [preset], api_visibility="private")


# ---- handlers (module level: plain inputs and outputs) ------------------------------------------
def _number(name: str, v) -> float:
    """A box that must hold a number (its "field.<name>" string names it); text that is
    not a number reads as NaN, which the range check refuses."""
    try:
        f = read_number(v)
    except ValueError:
        f = float("nan")
    if f is None:
        raise UserError("scale_empty_field", field=name)
    return f


def _whole(name: str, v) -> int:
    """A box that must hold a whole number."""
    f = _number(name, v)
    if f != f or abs(f) > 1e18:
        raise sc.out_of_range(name, v, *sc.LIMITS[name])
    if f != int(f):
        raise UserError("scale_not_whole", field=name, value=repr(v))
    return int(f)


def arch_of(fam, ly, wd, hd, kvh, f, vc, cx, tie) -> sc.Architecture:
    return sc.Architecture(fam, _whole("n_layers", ly), _whole("d_model", wd),
                           _whole("n_heads", hd), _whole("vocab", vc), _whole("context", cx),
                           _whole("d_ff", f or 0), _whole("n_kv_heads", kvh or 0), bool(tie))


def gpu_peak(name, dt):
    """The peak TFLOP/s of a GPU for the chosen precision (its data sheet)."""
    bf16, fp32 = sc.GPUS.get(name, (312.0, 19.5))
    return bf16 if dt == "bf16" else fp32


def estimate_view(manager, key, fam, ly, wd, hd, kvh, f, vc, cx, tie, tok_b, n_gpu, tf, u, dt,
                  bt, lang):
    """/compute_estimate: the table, the check line, three plots and the JSON."""
    arch = arch_of(fam, ly, wd, hd, kvh, f, vc, cx, tie)
    tokens, tflops, util = (_number(name, v) for name, v in
                            (("tokens", tok_b), ("gpu_tflops", tf), ("utilisation", u)))
    setup = sc.TrainingSetup(tokens * 1e9, _whole("gpus", n_gpu), util / 100, tflops, dt,
                             _whole("batch", bt))
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
    note = check_line(manager, key, arch, lang)
    points = []
    for pr in sc.PRESETS:
        e = sc.estimate(pr.arch, sc.TrainingSetup(tokens=pr.tokens))
        points.append((preset_name(pr, lang), e.params.total, e.flops))
    data = est.as_dict()
    return (md, note, plots.memory_bars(est, lang),
            plots.growth_lines(sc.growth(arch, setup), est, lang),
            plots.presets_scatter(points, (p.total, est.flops), lang), data)


def check_line(manager, key, arch, lang) -> str:
    """For a loaded model (or a packaged preset that is loaded), formula vs real count."""
    model_key = key[len(LOADED):] if key and key.startswith(LOADED) else key
    if not model_key or not manager.is_loaded(model_key):
        pr = next((p for p in sc.PRESETS if p.key == key), None)
        if pr is None or not pr.note:
            return ""
        note = t(f"scale.note.{pr.key}", lang)
        return t("scale.note", lang, note=html.escape(pr.note if note == f"scale.note.{pr.key}"
                                                       else note))
    lm = manager.load(model_key)          # already loaded: just a lookup
    try:
        model_arch = sc.from_config(lm.model.config)
    except UserError:
        return ""
    if model_arch != arch:
        return ""
    formula, real = sc.count_params(arch).total, model_params(lm.model)
    return t("scale.check", lang, formula=formula, real=real,
             mark="✓" if formula == real else "✗")


def fill_preset(manager, key, lang):
    """The architecture boxes for a preset, or for a loaded model (read from its config.json on
    disk: never loads a model, it may have been evicted since the list was made)."""
    if key and key.startswith(LOADED):
        spec = manager.registry.get(key[len(LOADED):])
        folder = manager.registry.files_dir(spec)
        config = json.loads((folder / "config.json").read_text("utf-8")) if folder else {}
        arch, toks = sc.from_config(config), 1e9
    else:
        pr = sc.preset(key)
        arch, toks = pr.arch, pr.tokens
    return (arch.family, arch.n_layers, arch.d_model, arch.n_heads, arch.n_kv_heads,
            arch.d_ff, arch.vocab, arch.context, arch.tied, toks / 1e9)
