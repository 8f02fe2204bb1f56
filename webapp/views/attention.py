"""Pictures for the Attention lab, built from data (tokens + arrays), never from models:
plotly heatmaps with numeric axes (repeated tokens stay separate), the per-head overview grid,
the walkthrough figure, and bertviz pages that work offline.

bertviz (Apache-2.0) loads require.js, d3 and jQuery from a CDN. Here its own HTML and JS come
from the installed package; the require.js loader is replaced by a two-line shim and d3 5.7.0 /
jQuery 2.2.4 are inlined from assets/vendor/ (see its README.md), with a Content-Security-Policy
that forbids any network request. The page is shown in `<iframe sandbox="allow-scripts">`.
What bertviz renders is capped (it sends every layer x head x n x n weight as JSON).
"""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.core.files import ASSETS
from models.runners.attention import AttentionMap, AttentionResult

from webapp.i18n import t

VENDOR = ASSETS / "vendor"
BERTVIZ_CELLS = 150_000     # weights bertviz may receive (~0.8 MB of JSON): stays responsive
BERTVIZ_DECIMALS = 2        # bertviz maps weights to line opacity: 0.01 steps are invisible
HOVER_TOKENS = 64           # up to this many tokens, hover names both tokens (n² strings)
LABEL_CHARS = 14


# ---- escaping --------------------------------------------------------------------------------
def label(token: str) -> str:
    """A token as an axis label: shortened, HTML-escaped (plotly renders a few HTML tags in
    labels; escaped text is drawn literally)."""
    s = str(token)
    if len(s) > LABEL_CHARS:
        s = s[: LABEL_CHARS - 1] + "…"
    return html.escape(s, quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^])")


def md_token(token: str) -> str:
    """A token inside Markdown (with LaTeX on): Markdown characters backslash-escaped, then
    HTML-escaped, and $ written as an entity so it cannot open a formula."""
    s = _MD_SPECIAL.sub(r"\\\1", str(token))
    return html.escape(s, quote=False).replace("$", "&#36;")


# ---- heatmap ---------------------------------------------------------------------------------
def heatmap(amap: AttentionMap, layer: int, head: int, boundary: int | None = None,
            rows_from: int = 0, lang: str = "en") -> go.Figure:
    """One head as a heatmap: rows = query tokens, columns = key tokens."""
    m = amap.head(layer, head)[rows_from:]
    q_idx = list(range(rows_from, rows_from + m.shape[0]))
    k_idx = list(range(m.shape[1]))
    n = max(len(q_idx), len(k_idx))
    qt = [label(x) for x in amap.query_tokens[rows_from:]]
    kt = [label(x) for x in amap.key_tokens]
    hover = t("att.hover", lang)
    trace = dict(z=m.astype(np.float32), x=k_idx, y=q_idx, colorscale="Blues", zmin=0,
                 zmax=float(max(m.max(), 1e-6)), colorbar=dict(thickness=12))
    if n <= HOVER_TOKENS:
        cd = np.empty((len(q_idx), len(k_idx), 2), dtype=object)
        cd[:, :, 0] = np.array(qt, dtype=object)[:, None]
        cd[:, :, 1] = np.array(kt, dtype=object)[None, :]
        trace.update(customdata=cd, hovertemplate=hover + "<extra></extra>")
    else:
        trace.update(hovertemplate=t("att.hover_idx", lang) + "<extra></extra>")
    fig = go.Figure(go.Heatmap(**trace))
    step = max(1, n // 64)         # at most ~64 labels per axis; hover has the rest
    fig.update_xaxes(tickvals=k_idx[::step], ticktext=kt[::step], tickangle=-60, side="top",
                     title=t("att.keys", lang))
    fig.update_yaxes(tickvals=q_idx[::step], ticktext=qt[::step], autorange="reversed",
                     title=t("att.queries", lang))
    if boundary is not None and 0 < boundary < len(k_idx):
        fig.add_vline(x=boundary - 0.5, line=dict(color="#e4572e", width=2, dash="dot"))
        if rows_from == 0 and amap.kind == "self":
            fig.add_hline(y=boundary - 0.5, line=dict(color="#e4572e", width=2, dash="dot"))
    # at most ~680 px: the layer/head sliders above it stay on a 900 px high screen with it
    size = min(680, max(420, 28 + 14 * n))
    fig.update_layout(height=size, margin=dict(l=10, r=10, t=30, b=10),
                      title=dict(text=t("att.heat_title", lang, view=t(f"att.view.{amap.name}", lang),
                                        layer=layer, head=head), y=0.995, font=dict(size=13)))
    return fig


# ---- overview --------------------------------------------------------------------------------
def _color(v: float, lo: float, hi: float) -> str:
    """White -> mid blue (dark text stays readable on every cell)."""
    x = 0.0 if hi <= lo else (v - lo) / (hi - lo)
    r, g, b = (int(255 - x * (255 - 90)), int(255 - x * (255 - 150)), int(255 - x * (255 - 225)))
    return f"background-color: rgb({r},{g},{b}); color: #111"


def overview(summary: np.ndarray, lang: str = "en"):
    """[layers, heads] numbers as a coloured table (pandas Styler): one cell per head."""
    layers, heads = summary.shape
    df = pd.DataFrame(np.round(summary, 3), columns=[f"H{h}" for h in range(heads)])
    df.insert(0, t("att.layer_col", lang), [f"L{i}" for i in range(layers)])
    lo, hi = float(summary.min()), float(summary.max())
    cols = df.columns[1:]
    return df.style.map(lambda v: _color(float(v), lo, hi), subset=cols).format(
        "{:.3f}", subset=cols)


# ---- walkthrough figure ----------------------------------------------------------------------
def walkthrough_figure(w, lang: str = "en", max_rows: int = 48, max_cols: int = 96) -> go.Figure:
    """Top: X and this head's Q, K, V as heatmaps (clipped for display, shapes in titles).
    Bottom: the query token's row through scores -> scaled -> masked -> softmax, then o_i."""
    i = w.query_index
    mats = [w.step(k) for k in ("x", "q", "k", "v")]
    rows = [s for s in w.steps if s.key in ("scores", "scaled", "bias", "masked", "softmax")]
    out = w.step("output")
    titles = [f"{_step_name(s.key, lang)} {list(s.shape)}" for s in mats]
    titles += [f"{_step_name(s.key, lang)} · {t('att.row_of', lang, i=i)}" for s in rows]
    titles.append(f"{_step_name('output', lang)} {list(out.shape[1:])}")
    n_rows = 1 + len(rows) + 1
    fig = make_subplots(rows=n_rows, cols=4, subplot_titles=titles, vertical_spacing=0.06,
                        specs=[[{}, {}, {}, {}]] + [[{"colspan": 4}, None, None, None]] * (n_rows - 1))
    for c, s in enumerate(mats, start=1):
        z = s.values[:max_rows, :max_cols]
        fig.add_trace(go.Heatmap(z=z, colorscale="RdBu", zmid=0, showscale=False,
                                 hovertemplate="%{y},%{x}: %{z:.4f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", row=1, col=c)
    keys = list(range(len(w.key_tokens)))
    ticks = [label(x) for x in w.key_tokens]
    step = max(1, len(keys) // 48)
    for r, s in enumerate(rows, start=2):
        y = np.nan_to_num(s.values[i], neginf=np.nan)
        color = "#2a6fbb" if s.key == "softmax" else "#8aa9c9"
        fig.add_trace(go.Bar(x=keys, y=y, marker_color=color,
                             hovertemplate="%{x}: %{y:.4f}<extra></extra>"), r, 1)
        fig.update_xaxes(tickvals=keys[::step], ticktext=ticks[::step], row=r, col=1)
    o = out.values[i]
    fig.add_trace(go.Bar(x=list(range(len(o))), y=o, marker_color="#e4572e",
                         hovertemplate="dim %{x}: %{y:.4f}<extra></extra>"), n_rows, 1)
    fig.update_layout(height=260 + 190 * n_rows, showlegend=False,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _step_name(key: str, lang: str) -> str:
    return t(f"att.step.{key}", lang)


# ---- bertviz ---------------------------------------------------------------------------------
_SHIM = ("window.require = {config: function () {}};\n"
         "window.requirejs = function (deps, fn) { fn(window.jQuery, window.d3); };\n")
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:")


def _vendor(name: str) -> str:
    text = (VENDOR / name).read_text(encoding="utf-8")
    return re.sub(r"//# sourceMappingURL=\S+", "", text)


def _plan(n_cells_per_layer: int, n_layers: int, layer: int, budget: int) -> list[int]:
    """Which layers fit the budget: the chosen one, then its neighbours."""
    fit = max(1, budget // max(1, n_cells_per_layer))
    if fit >= n_layers:
        return list(range(n_layers))
    lo = max(0, min(layer - fit // 2, n_layers - fit))
    return list(range(lo, lo + fit))


def bertviz_page(result: AttentionResult, view: str = "head", layer: int = 0,
                 budget: int = BERTVIZ_CELLS, lang: str = "en") -> tuple[str, str]:
    """(standalone offline HTML document, message about what was left out)."""
    import torch
    from bertviz import head_view, model_view

    first = next(iter(result.maps.values()))
    layer = int(min(max(0, layer), first.layers - 1))
    heads = first.heads
    seq2seq = result.model_kind == "seq2seq"
    n_src = len(result.tokens)
    n_tgt = len(result.target_tokens or [])
    # tokens kept so one layer fits: sqrt(budget / heads) for self attention
    per_layer = heads * ((n_src ** 2 + n_tgt ** 2 + n_tgt * n_src) if seq2seq else n_src ** 2)
    cut = None
    if per_layer > budget:
        if seq2seq:
            cut = max(2, int((budget / (3 * heads)) ** 0.5))
        else:
            cut = max(2, int((budget / heads) ** 0.5))
        n_src, n_tgt = min(n_src, cut), min(n_tgt, cut)
        per_layer = heads * ((n_src ** 2 + n_tgt ** 2 + n_tgt * n_src) if seq2seq else n_src ** 2)
    layers = _plan(per_layer, first.layers, layer, budget)

    def tensors(amap: AttentionMap, nq: int, nk: int):
        out = [None] * amap.layers
        for i in layers:
            w = np.round(np.asarray(amap.weights[i, :, :nq, :nk], dtype=np.float64),
                         BERTVIZ_DECIMALS)
            out[i] = torch.from_numpy(w)[None]
        return out

    kwargs = dict(include_layers=layers, html_action="return")
    if view == "head":
        kwargs["layer"] = layer if layer in layers else layers[0]
    else:
        kwargs["display_mode"] = "light"
    if seq2seq:
        src, tgt = result.tokens[:n_src], (result.target_tokens or [])[:n_tgt]
        kwargs.update(encoder_attention=tensors(result.maps["encoder"], n_src, n_src),
                      decoder_attention=tensors(result.maps["decoder"], n_tgt, n_tgt),
                      cross_attention=tensors(result.maps["cross"], n_tgt, n_src),
                      encoder_tokens=list(src), decoder_tokens=list(tgt))
    else:
        kwargs.update(attention=tensors(first, n_src, n_src), tokens=list(result.tokens[:n_src]))
    page = (head_view if view == "head" else model_view)(**kwargs).data
    body, _, script = page.partition('<script type="text/javascript">')
    body = re.sub(r"<script[^>]*require\.js[^>]*></script>", "", body)
    script = script.rsplit("</script>", 1)[0]
    # bertviz's `replace("PYTHON_PARAMS", ...)` also fills the marker in its own comment
    # ("// HACK: PYTHON_PARAMS is a template marker..."), sending the data twice: drop it.
    script = re.sub(r"; // HACK: [^\n]*", ";", script, count=1)
    # A token such as "</script>" must not end the script early: "<\/" means "</" in JS.
    # Inside JS strings "\/", "\!" and "\s" are just "/", "!" and "s"; bertviz's code has none.
    script = script.replace("</", "<\\/").replace("<!--", "<\\!--")
    script = re.sub(r"<(script)", r"<\\\1", script, flags=re.IGNORECASE)
    parts = []
    if cut is not None and (cut < len(result.tokens) or cut < len(result.target_tokens or [])):
        parts.append(t("att.bv_cut_tokens", lang, n=cut, total=len(result.tokens)))
    if len(layers) < first.layers:
        parts.append(t("att.bv_cut_layers", lang, lo=layers[0], hi=layers[-1],
                       total=first.layers))
    message = " ".join(parts)
    note = f'<p class="cap">{html.escape(message)}</p>' if message else ""
    doc = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
           f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
           "<title>bertviz · LLM Explorer</title><style>body{font-family:Helvetica,Arial,"
           "sans-serif;margin:8px;background:#fff}.cap{color:#8a4b00;font-size:13px}"
           "#vis{padding-left:90px}#vis svg{overflow:visible}</style>"
           f"</head><body>{note}{body}"
           f"<script>{_vendor('d3-5.7.0.min.js')}</script>"
           f"<script>{_vendor('jquery-2.2.4.min.js')}</script>"
           f"<script>{_SHIM}</script><script>{script}</script></body></html>")
    return doc, message


def iframe(doc: str, height: int = 720) -> str:
    """Embed a document in a sandboxed iframe (scripts run, but cannot reach the app page)."""
    return (f'<iframe class="att-bertviz" sandbox="allow-scripts" style="width:100%;'
            f'height:{height}px;border:1px solid #ddd;border-radius:6px" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>')


def payload_bytes(value) -> int:
    """Bytes a component value takes on the wire (the JSON Gradio sends)."""
    return len(json.dumps(value, default=str).encode("utf-8"))
