"""Attention lab: softmax(QKᵀ/√d_k)V on real models — heatmap of one head, overview of all
heads, bertviz offline, and a formula walkthrough that recomputes a head from the model's own
weights and checks it against what the model returned.

The full [layers, heads, n, n] tensor stays on the server, float16, in one bounded store for
the whole app (models/runners/attention.py ViewStore: a few views per person, a byte cap,
counted against the memory budget); a session's gr.State holds only its handle, and the
browser receives one head at a time. The layer/head sliders sit right above the heatmap
(and the page scrolls them into view after a run), so both are on screen together; typing a
number redraws at once. Each action's error shows next to its button (wire_action). Other tabs
reach this one through ctx.attention (webapp/common.py AttentionLink).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from models.core.accounts import current_user
from models.runners.attention import (METRICS, ViewStore, check_layer_head, extract, head_csv,
                                      head_summary)
from models.runners.walkthrough import walkthrough
from models.core.errors import UserError

from webapp.views import attention as views
from webapp.tabs.attention_api import register_api, walk_markdown
from webapp.common import (HEAVY, AppContext, AttentionLink, action_message, friendly, model_picker,
                            wire_action)
from webapp.i18n import progress_words, render, t

TITLE_KEY = "att.title"
TAB_ID = "attention"
ANY_SHAPE = 95     # the layer and head sliders' maximum before a run (see build)
LATEX = [{"left": "$$", "right": "$$", "display": True},
         {"left": "$", "right": "$", "display": False}]
# After a run: bring the sliders and the heatmap into view together (the inputs above them
# take most of a laptop screen).
SCROLL_JS = """() => { const go = (n) => {
    const c = document.getElementById('att-controls'), h = document.getElementById('att-heatmap');
    if (!c || !h) return;
    if (!h.querySelector('.main-svg') && n > 0) { setTimeout(() => go(n - 1), 100); return; }
    if (h.getBoundingClientRect().top > window.innerHeight * 0.55) c.scrollIntoView({block: 'start'});
  }; setTimeout(() => go(50), 200); }"""


def _need(result):
    if result is None:
        raise UserError("att_no_result")
    return result


def owner_of(request) -> str:
    """Who a kept view belongs to: the classroom login, else the browser session."""
    user = current_user()
    if user is not None:
        return f"user:{user.name}"
    return f"session:{getattr(request, 'session_hash', None) or 'api'}"


def kept(store: ViewStore, handle, request=None):
    """The result a session's handle points to; None before the first run. A view the store
    let go (to make room for others) says so, and asks for a new run."""
    if not handle:
        return None
    result = store.get(handle, owner_of(request))
    if result is None:
        raise UserError("att_view_gone")
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
    lines = [t("att.info", lang, model=views.md_token(result.model_name),
               kind=t(f"kind.{result.model_kind}", lang), n=len(result.tokens),
               layers=first.layers, heads=first.heads)]
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
        lines.append("⚠️ " + views.md_token(render(result.notice, lang)))
    return "\n\n".join(lines)


# ---- handlers (module level: plain inputs and outputs; build() wires them) ----------------------
def draw(result, view_name, lyr, hd, new, lang):
    """The heatmap of one head of the kept result."""
    result = _need(result)
    amap = result.get(view_name)
    lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
    return views.heatmap(amap, lyr, hd, result.boundary, _rows_from(result, view_name, new), lang)


def grid_view(result, view_name, metric_name, lang):
    """The overview table: one number per head."""
    return views.overview(head_summary(_need(result).get(view_name), metric_name), lang)


def show_attention(manager, key, txt, tgt, view_name, lyr, hd, new, metric_name, lang,
                   progress=None):
    """Run the model once, keep every weight (float16) and draw the chosen head. Returns the
    values for RUN_OUTPUTS (see build)."""
    key = (key or "").strip()
    report = progress_words(progress, lang)
    with manager.use(key, progress=report) as lm, manager.guard():
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
            draw(result, view_name, lyr, hd, new, lang),
            grid_view(result, view_name, metric_name, lang),
            gr.update(choices=q_choices, value=default_q),
            gr.update(value=metric_name), "", None, gr.update(value=None, visible=False),
            "", "", None)


def change_view(result, view_name, lyr, hd, new, metric_name, lang):
    """Encoder / decoder / cross of a seq2seq model: redraw, re-summarize, new query list."""
    result = _need(result)
    amap = result.get(view_name)
    if metric_name == "previous" and amap.kind == "cross":
        metric_name = "entropy"
    lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
    q_choices = [(f"{i}: {tok}", i) for i, tok in enumerate(amap.query_tokens)]
    return (draw(result, view_name, lyr, hd, new, lang),
            grid_view(result, view_name, metric_name, lang),
            gr.update(value=metric_name), gr.update(choices=q_choices, value=0))


def open_head(result, view_name, new, lang, evt: gr.SelectData):
    """A click on the overview opens that head in the heatmap."""
    result = _need(result)
    row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0)
    amap = result.get(view_name)
    lyr, hd = int(row), max(0, int(col) - 1)
    lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
    return (gr.update(value=lyr), gr.update(value=hd),
            draw(result, view_name, lyr, hd, new, lang), gr.Tabs(selected="att-heat"))


def export_csv(result, view_name, lyr, hd, lang):
    """This head as a CSV file (query tokens as rows, key tokens as columns)."""
    amap = _need(result).get(view_name)
    lyr, hd = check_layer_head(lyr, hd, amap.layers, amap.heads)
    folder = Path(tempfile.mkdtemp(prefix="attention-"))
    path = folder / f"attention_{amap.name}_L{lyr}_H{hd}.csv"
    path.write_text(head_csv(amap, lyr, hd), encoding="utf-8")
    return gr.update(value=str(path), visible=True)


def draw_bertviz(result, kind, lyr, lang):
    """bertviz's head or model view, offline, in a sandboxed iframe, plus the HTML file."""
    result = _need(result)
    doc, message = views.bertviz_page(result, kind or "head", int(lyr or 0), lang=lang)
    folder = Path(tempfile.mkdtemp(prefix="bertviz-"))
    path = folder / f"bertviz_{kind}_{result.model_key.replace(':', '_').replace('/', '_')}.html"
    path.write_text(doc, encoding="utf-8")
    note = "⚠️ " + views.md_token(message) if message else t("att.bv_all", lang)
    return note, views.iframe(doc), gr.update(value=str(path), visible=True)


def explain(manager, key, txt, tgt, view_name, lyr, hd, q, lang, progress=None):
    """The formula walkthrough of one head for one query token, and its verification line."""
    key = (key or "").strip()
    report = progress_words(progress, lang)
    with manager.use(key, progress=report) as lm, manager.guard():
        w = walkthrough(lm, txt, tgt, view_name, lyr, hd, 0 if q is None else int(q))
    return (walk_markdown_verify(w, lang), walk_markdown(w, lang),
            views.walkthrough_figure(w, lang))


def build(ctx: AppContext) -> None:
    manager, loc, lang = ctx.manager, ctx.loc, ctx.lang
    loc.Markdown(value_key="att.intro")
    with loc.Accordion(label_key="att.about_title", open=False, elem_id="att-about"):
        loc.Markdown(value_key="att.about")
    state = gr.State(None)          # a handle into `store`, never the weights themselves
    store = ViewStore(manager)
    ctx.attention_views = store
    with gr.Row():
        with gr.Column(scale=3):
            text = loc.Textbox(label_key="att.text", lines=2, elem_id="att-text",
                               value_key="att.text_value")
            target = loc.Textbox(label_key="att.target", info_key="att.target_info", lines=1,
                                 elem_id="att-target")
        with gr.Column(scale=2):
            model = model_picker(ctx, "attention", label_key="att.model", elem_id="att-model",
                                 value="minilm")
            run = loc.Button(value_key="att.run", variant="primary", elem_id="att-run")
            run_msg = action_message("att-run-msg")
            info = gr.Markdown(elem_id="att-info")
    with gr.Row(elem_id="att-controls", equal_height=True):
        view = loc.Radio(label_key="att.view", choices=[(t("att.view.self", loc.lang), "self")],
                         value="self", elem_id="att-view", scale=3)
        # Until the first run the sliders allow any model's shape (Gradio refuses an API call's
        # value above a slider's maximum, and /attention_view may ask for SmolLM2's layer 20
        # before any run); each run sets them to its model's layers and heads.
        layer = loc.Slider(label_key="att.layer", minimum=0, maximum=ANY_SHAPE, step=1, value=0,
                           elem_id="att-layer", scale=2)
        head = loc.Slider(label_key="att.head", minimum=0, maximum=ANY_SHAPE, step=1, value=0,
                          elem_id="att-head", scale=2)
        only_new = loc.Checkbox(label_key="att.only_new", value=False, visible=False,
                                elem_id="att-only-new", scale=1)
    view_msg = action_message("att-view-msg")
    with gr.Tabs(elem_id="att-subtabs") as subtabs:
        with loc.Tab(label_key="att.tab.heat", id="att-heat"):
            heat = gr.Plot(elem_id="att-heatmap", show_label=False)
            with gr.Row():
                csv_btn = loc.Button(value_key="att.csv", size="sm", elem_id="att-csv-btn")
                csv_file = gr.File(label="CSV", elem_id="att-csv", visible=False)
            csv_msg = action_message("att-csv-msg")
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
            bv_msg = action_message("att-bv-msg")
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
            walk_msg = action_message("att-walk-msg")
            verify = gr.Markdown(elem_id="att-verify")
            walk_md = gr.Markdown(elem_id="att-walk-md", latex_delimiters=LATEX)
            walk_plot = gr.Plot(elem_id="att-walk-plot", show_label=False)

    # ---- wiring ---------------------------------------------------------------------------
    def show(key, txt, tgt, view_name, lyr, hd, new, metric_name, lang,
             request: gr.Request = None, progress=gr.Progress()):
        out = show_attention(manager, key, txt, tgt, view_name, lyr, hd, new, metric_name,
                             lang, progress)
        return (store.put(owner_of(request), out[0]),) + tuple(out[1:])

    # the redraws read the kept result through the session's handle
    def on_draw(handle, view_name, lyr, hd, new, lang, request: gr.Request = None):
        return draw(kept(store, handle, request), view_name, lyr, hd, new, lang)

    def on_change_view(handle, view_name, lyr, hd, new, metric_name, lang,
                       request: gr.Request = None):
        return change_view(kept(store, handle, request), view_name, lyr, hd, new, metric_name,
                           lang)

    def on_grid(handle, view_name, metric_name, lang, request: gr.Request = None):
        return grid_view(kept(store, handle, request), view_name, metric_name, lang)

    def on_open_head(handle, view_name, new, lang, evt: gr.SelectData,
                     request: gr.Request = None):
        return open_head(kept(store, handle, request), view_name, new, lang, evt)

    def on_csv(handle, view_name, lyr, hd, lang, request: gr.Request = None):
        return export_csv(kept(store, handle, request), view_name, lyr, hd, lang)

    def on_bertviz(handle, kind, lyr, lang, request: gr.Request = None):
        return draw_bertviz(kept(store, handle, request), kind, lyr, lang)

    run_inputs = [model, text, target, view, layer, head, only_new, metric, lang]
    run_outputs = [state, info, view, layer, head, only_new, heat, grid, query, metric,
                   bv_note, bv_html, bv_file, verify, walk_md, walk_plot]
    stale = [info, heat, grid, bv_note, bv_html, bv_file, verify, walk_md, walk_plot]
    # /attention_view: the same run as the button, kept for the session like the button's
    # (the classroom load run, bench/bench_classroom.py, drives it; /attention returns one head)
    for event in wire_action([run.click, text.submit], show, run_inputs, run_outputs,
                             message=run_msg, clear=stale, api_name="attention_view", **HEAVY):
        event.then(None, js=SCROLL_JS, api_visibility="private", show_progress="hidden")

    quiet = dict(show_progress="hidden", trigger_mode="always_last")
    draw_inputs = [state, view, layer, head, only_new, lang]
    # .input fires while dragging and on every typed digit (Enter needs no extra step)
    wire_action([layer.input, head.input, only_new.input], on_draw, draw_inputs, [heat],
                message=view_msg, clear=[], **quiet)
    wire_action(view.input, on_change_view, [state, view, layer, head, only_new, metric, lang],
                [heat, grid, metric, query], message=view_msg, clear=[])
    wire_action(metric.input, on_grid, [state, view, metric, lang], [grid], message=view_msg,
                clear=[])
    wire_action(grid.select, on_open_head, [state, view, only_new, lang],
                [layer, head, heat, subtabs], message=view_msg, clear=[])
    wire_action(csv_btn.click, on_csv, [state, view, layer, head, lang], [csv_file],
                message=csv_msg)
    wire_action(bv_draw.click, on_bertviz, [state, bv_kind, layer, lang],
                [bv_note, bv_html, bv_file], message=bv_msg)

    def walk(key, txt, tgt, view_name, lyr, hd, q, lang, progress=gr.Progress()):
        return explain(manager, key, txt, tgt, view_name, lyr, hd, q, lang, progress)

    wire_action(walk_btn.click, walk, [model, text, target, view, layer, head, query, lang],
                [verify, walk_md, walk_plot], message=walk_msg, **HEAVY)

    register_api(manager)

    def relabel(lang, handle, view_name, lyr, hd, new, request: gr.Request = None):
        """The language switch: lists, the info line and the drawn head follow it."""
        result = store.get(handle, owner_of(request)) if handle else None
        shown = (gr.update(choices=_view_choices(result, lang)), _info(result, lang),
                 draw(result, view_name, lyr, hd, new, lang)) if result else (gr.update(),) * 3
        return (gr.update(choices=[(t(f"att.metric.{m}", lang), m) for m in METRICS]),
                gr.update(choices=[(t("att.bv_head", lang), "head"),
                                   (t("att.bv_model", lang), "model")]),
                *shown)

    lang.change(friendly(relabel), [lang, state, view, layer, head, only_new],
                [metric, bv_kind, view, info, heat], api_visibility="private",
                show_progress="hidden")
    # Other tabs ("See attention for this output") chain `run` after filling model and text;
    # errors then show as a pop-up, since the button they pressed is on their tab.
    ctx.attention = AttentionLink(model, text, target, friendly(show), run_inputs, run_outputs)


def walk_markdown_verify(w, lang: str) -> str:
    ok = w.max_abs_diff < 1e-4
    return t("att.verify_ok" if ok else "att.verify_bad", lang, diff=f"{w.max_abs_diff:.2e}",
             layer=w.layer, head=w.head, dtype=w.dtype)
