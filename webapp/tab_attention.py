"""Attention lab: softmax(QKᵀ/√d_k)V on real models — heatmap of one head, overview of all
heads, bertviz offline, and a formula walkthrough that recomputes a head from the model's own
weights and checks it against what the model returned.

The full [layers, heads, n, n] tensor stays on the server (per-session gr.State, float16);
the browser receives one head at a time. Other tabs reach this one through
ctx.shared["attention"] (see build()).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from models.attention import METRICS, check_layer_head, extract, head_csv, head_summary
from models.attention_walkthrough import walkthrough
from models.errors import UserError

from . import attention_views as views
from .attention_api import register_api, walk_markdown
from .common import HEAVY, AppContext, friendly, model_picker
from .i18n import t

TITLE_KEY = "att.title"
TAB_ID = "attention"
LATEX = [{"left": "$$", "right": "$$", "display": True},
         {"left": "$", "right": "$", "display": False}]


def _need(result):
    if result is None:
        raise UserError("att_no_result", "Press “Show attention” first: there is nothing to "
                        "draw yet.")
    return result


def _view_choices(result, lang):
    return [(t(f"att.view.{name}", lang), name) for name in result.maps]


def _rows_from(result, view, only_new):
    amap = result.get(view)
    if only_new and result.model_kind == "decoder" and result.boundary and amap.kind == "self":
        return result.boundary
    return 0


def _info(result, lang) -> str:
    first = next(iter(result.maps.values()))
    lines = [t("att.info", lang, model=views.md_token(result.model_name), kind=result.model_kind,
               n=len(result.tokens), layers=first.layers, heads=first.heads)]
    if result.target_tokens is not None:
        lines.append(t("att.info_target", lang, m=len(result.target_tokens)))
    if result.kv_heads:
        lines.append(t("att.gqa_note", lang, kv=result.kv_heads, heads=first.heads,
                       group=first.heads // result.kv_heads))
    if result.boundary is not None:
        key = "att.info_boundary" if result.model_kind == "decoder" else "att.info_pair"
        lines.append(t(key, lang, b=result.boundary))
    if result.meta.get("model_type") == "t5":
        lines.append(t("att.t5_note", lang))
    if result.notice:
        lines.append("⚠️ " + views.md_token(result.notice))
    return "\n\n".join(lines)


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="att.intro")
    with loc.Accordion(label_key="att.about_title", open=False, elem_id="att-about"):
        loc.Markdown(value_key="att.about")
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=3):
            model = model_picker(ctx, "attention", label_key="att.model", elem_id="att-model",
                                 value="minilm")
            text = loc.Textbox(label_key="att.text", lines=3, elem_id="att-text",
                               value=t("att.text_value", loc.lang))
            target = loc.Textbox(label_key="att.target", info_key="att.target_info", lines=2,
                                 elem_id="att-target")
            run = loc.Button(value_key="att.run", variant="primary", elem_id="att-run")
        with gr.Column(scale=2):
            info = gr.Markdown(elem_id="att-info")
            view = loc.Radio(label_key="att.view", choices=[(t("att.view.self", loc.lang), "self")],
                             value="self", elem_id="att-view")
            layer = loc.Slider(label_key="att.layer", minimum=0, maximum=5, step=1, value=0,
                               elem_id="att-layer")
            head = loc.Slider(label_key="att.head", minimum=0, maximum=11, step=1, value=0,
                              elem_id="att-head")
            only_new = loc.Checkbox(label_key="att.only_new", value=False, visible=False,
                                    elem_id="att-only-new")
    with gr.Tabs(elem_id="att-subtabs") as subtabs:
        with loc.Tab(label_key="att.tab.heat", id="att-heat"):
            heat = gr.Plot(elem_id="att-heatmap", show_label=False)
            with gr.Row():
                csv_btn = loc.Button(value_key="att.csv", size="sm", elem_id="att-csv-btn")
                csv_file = gr.File(label="CSV", elem_id="att-csv", visible=False)
        with loc.Tab(label_key="att.tab.overview", id="att-overview-tab"):
            loc.Markdown(value_key="att.overview_help")
            metric = loc.Dropdown(label_key="att.metric", elem_id="att-metric", value="entropy",
                                  choices=[(t(f"att.metric.{m}", loc.lang), m) for m in METRICS])
            grid = gr.Dataframe(elem_id="att-overview", interactive=False, wrap=False,
                                max_height=520)
        with loc.Tab(label_key="att.tab.bertviz", id="att-bertviz-tab"):
            loc.Markdown(value_key="att.bv_help")
            with gr.Row():
                bv_kind = loc.Radio(label_key="att.bv_view", value="head", elem_id="att-bv-kind",
                                    choices=[(t("att.bv_head", loc.lang), "head"),
                                             (t("att.bv_model", loc.lang), "model")])
                bv_draw = loc.Button(value_key="att.bv_draw", elem_id="att-bv-draw")
            bv_note = gr.Markdown(elem_id="att-bv-note")
            bv_html = gr.HTML(elem_id="att-bv-frame")
            bv_file = loc.File(label_key="att.bv_download", elem_id="att-bv-file", visible=False)
        with loc.Tab(label_key="att.tab.walk", id="att-walk-tab"):
            loc.Markdown(value_key="att.walk_help")
            with gr.Row():
                query = loc.Dropdown(label_key="att.walk_query", choices=[], value=None,
                                     elem_id="att-query", scale=3)
                walk_btn = loc.Button(value_key="att.walk_run", variant="primary",
                                      elem_id="att-walk-run", scale=1)
            verify = gr.Markdown(elem_id="att-verify")
            walk_md = gr.Markdown(elem_id="att-walk-md", latex_delimiters=LATEX)
            walk_plot = gr.Plot(elem_id="att-walk-plot", show_label=False)

    # ---- handlers -----------------------------------------------------------------------
    def _draw(result, view_name, lyr, hd, new, lang):
        result = _need(result)
        amap = result.get(view_name)
        lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
        return views.heatmap(amap, lyr, hd, result.boundary, _rows_from(result, view_name, new),
                             lang)

    def _grid(result, view_name, metric_name, lang):
        return views.overview(head_summary(_need(result).get(view_name), metric_name), lang)

    @friendly
    def show(key, txt, tgt, view_name, lyr, hd, new, metric_name, lang, progress=gr.Progress()):
        key = (key or "").strip()
        spec = manager.registry.get(key)
        if not manager.is_loaded(key):
            progress(0, desc=f"loading {spec.name}")
        with manager.use(key, progress=lambda f, m: progress(f, desc=m)) as lm, manager.guard():
            result = extract(lm, txt, tgt).compact()
        names = list(result.maps)
        view_name = view_name if view_name in names else names[0]
        amap = result.get(view_name)
        lyr = int(min(max(0, lyr or 0), amap.layers - 1))
        hd = int(min(max(0, hd or 0), amap.heads - 1))
        decoder_pair = result.model_kind == "decoder" and result.boundary is not None
        new = bool(new) and decoder_pair
        q_choices = [(f"{i}: {tok}", i) for i, tok in enumerate(amap.query_tokens)]
        default_q = (result.boundary if decoder_pair else min(1, len(q_choices) - 1))
        if metric_name == "previous" and amap.kind == "cross":
            metric_name = "entropy"
        return (result, _info(result, lang),
                gr.update(choices=_view_choices(result, lang), value=view_name),
                gr.update(maximum=amap.layers - 1, value=lyr),
                gr.update(maximum=amap.heads - 1, value=hd),
                gr.update(visible=decoder_pair, value=new),
                _draw(result, view_name, lyr, hd, new, lang),
                _grid(result, view_name, metric_name, lang),
                gr.update(choices=q_choices, value=default_q),
                gr.update(value=metric_name), "", None, gr.update(value=None, visible=False),
                "", "", None)

    run_inputs = [model, text, target, view, layer, head, only_new, metric, lang]
    run_outputs = [state, info, view, layer, head, only_new, heat, grid, query, metric,
                   bv_note, bv_html, bv_file, verify, walk_md, walk_plot]
    run.click(show, run_inputs, run_outputs, api_name="attention_view",
              api_visibility="private", **HEAVY)
    text.submit(show, run_inputs, run_outputs, api_visibility="private", **HEAVY)

    @friendly
    def redraw(result, view_name, lyr, hd, new, lang):
        return _draw(result, view_name, lyr, hd, new, lang)

    @friendly
    def change_view(result, view_name, lyr, hd, new, metric_name, lang):
        result = _need(result)
        amap = result.get(view_name)
        if metric_name == "previous" and amap.kind == "cross":
            metric_name = "entropy"
        q_choices = [(f"{i}: {tok}", i) for i, tok in enumerate(amap.query_tokens)]
        return (_draw(result, view_name, lyr, hd, new, lang), _grid(result, view_name, metric_name,
                                                                   lang),
                gr.update(value=metric_name), gr.update(choices=q_choices, value=0))

    draw_inputs = [state, view, layer, head, only_new, lang]
    for comp in (layer, head):
        comp.release(redraw, draw_inputs, [heat], api_visibility="private",
                     show_progress="hidden")
    only_new.input(redraw, draw_inputs, [heat], api_visibility="private")
    view.input(change_view, [state, view, layer, head, only_new, metric, lang],
               [heat, grid, metric, query], api_visibility="private")
    metric.input(friendly(lambda r, v, m, lang: _grid(r, v, m, lang)),
                 [state, view, metric, lang], [grid], api_visibility="private")

    @friendly
    def open_head(result, view_name, new, lang, evt: gr.SelectData):
        result = _need(result)
        row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0)
        amap = result.get(view_name)
        lyr, hd = int(row), max(0, int(col) - 1)
        lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
        return (gr.update(value=lyr), gr.update(value=hd),
                _draw(result, view_name, lyr, hd, new, lang), gr.Tabs(selected="att-heat"))

    grid.select(open_head, [state, view, only_new, lang], [layer, head, heat, subtabs],
                api_visibility="private")

    @friendly
    def export_csv(result, view_name, lyr, hd, lang):
        amap = _need(result).get(view_name)
        lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
        folder = Path(tempfile.mkdtemp(prefix="attention-"))
        path = folder / f"attention_{amap.name}_L{lyr}_H{hd}.csv"
        path.write_text(head_csv(amap, lyr, hd), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    csv_btn.click(export_csv, [state, view, layer, head, lang], [csv_file],
                  api_visibility="private")

    @friendly
    def draw_bertviz(result, kind, lyr, lang):
        result = _need(result)
        doc, message = views.bertviz_page(result, kind or "head", int(lyr or 0), lang=lang)
        folder = Path(tempfile.mkdtemp(prefix="bertviz-"))
        path = folder / f"bertviz_{kind}_{result.model_key.replace(':', '_').replace('/', '_')}.html"
        path.write_text(doc, encoding="utf-8")
        note = "⚠️ " + views.md_token(message) if message else t("att.bv_all", lang)
        return note, views.iframe(doc), gr.update(value=str(path), visible=True)

    bv_draw.click(draw_bertviz, [state, bv_kind, layer, lang], [bv_note, bv_html, bv_file],
                  api_visibility="private")

    @friendly
    def explain(key, txt, tgt, view_name, lyr, hd, q, lang, progress=gr.Progress()):
        key = (key or "").strip()
        with manager.use(key, progress=lambda f, m: progress(f, desc=m)) as lm, manager.guard():
            w = walkthrough(lm, txt, tgt, view_name, lyr, hd, 0 if q is None else int(q))
        return (walk_markdown_verify(w, lang), walk_markdown(w, lang),
                views.walkthrough_figure(w, lang))

    walk_btn.click(explain, [model, text, target, view, layer, head, query, lang],
                   [verify, walk_md, walk_plot], api_name="attention_walkthrough_view",
                   api_visibility="private", **HEAVY)

    register_api(manager)
    def relabel(lg, result):
        views_upd = gr.update(choices=_view_choices(result, lg)) if result else gr.update()
        return (gr.update(choices=[(t(f"att.metric.{m}", lg), m) for m in METRICS]),
                gr.update(choices=[(t("att.bv_head", lg), "head"), (t("att.bv_model", lg), "model")]),
                views_upd)

    lang.change(relabel, [lang, state], [metric, bv_kind, view], api_visibility="private")
    ctx.shared["attention"] = {"model": model, "text": text, "target": target,
                               "run": (show, run_inputs, run_outputs)}


def walk_markdown_verify(w, lang: str) -> str:
    ok = w.max_abs_diff < 1e-4
    return t("att.verify_ok" if ok else "att.verify_bad", lang, diff=f"{w.max_abs_diff:.2e}",
             layer=w.layer, head=w.head, dtype=w.dtype)

