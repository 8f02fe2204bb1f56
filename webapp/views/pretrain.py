"""Plotly figures and HTML for the Pre-training and Cost of scale tabs. Each function takes
plain data (results from models/), never a model. Token and sentence text is HTML-escaped
everywhere (plotly reads a subset of HTML in labels, gr.HTML renders it), and token axes are
numeric with tickvals/ticktext so repeated tokens do not merge."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from models.runners.token_text import PARTIAL

from webapp.i18n import t

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#65a30d", "#4b5563", "#b45309"]


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _short(text: str, n: int = 28) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=40, r=20, t=50, b=40),
                      template="plotly_white", hoverlabel=dict(align="left"))
    return fig


# ---- embeddings ------------------------------------------------------------------------------
def similarity_heatmap(sentences, labels, similarity, lang: str) -> go.Figure:
    n = len(sentences)
    names = [_esc(_short(s, 24)) for s in sentences]
    hover = [[f"{_esc(_short(sentences[i], 80))}<br>{_esc(_short(sentences[j], 80))}"
              f"<br>cos = {similarity[i][j]:.3f}" for j in range(n)] for i in range(n)]
    fig = go.Figure(go.Heatmap(z=similarity, x=list(range(n)), y=list(range(n)),
                               zmin=min(0.0, float(similarity.min())), zmax=1.0,
                               colorscale="Blues", hovertext=hover, hoverinfo="text",
                               colorbar=dict(title="cos")))
    ticks = dict(tickmode="array", tickvals=list(range(n)), ticktext=names)
    fig.update_xaxes(**ticks, tickangle=-45)
    fig.update_yaxes(**ticks, autorange="reversed")
    return _layout(fig, t("pre.heatmap", lang), height=max(420, 120 + 22 * min(n, 40)))


def sentence_map(sentences, labels, coords, axis_titles, lang: str) -> go.Figure:
    fig = go.Figure()
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label or "·", []).append(i)
    for g, (label, idx) in enumerate(groups.items()):
        fig.add_trace(go.Scatter(
            x=[float(coords[i][0]) for i in idx], y=[float(coords[i][1]) for i in idx],
            mode="markers+text", name=_esc(label), text=[_esc(_short(sentences[i], 22)) for i in idx],
            # alternate above/below: labels of close points overlap less
            textposition=["top center" if k % 2 == 0 else "bottom center" for k in range(len(idx))],
            hovertext=[_esc(sentences[i]) for i in idx],
            hoverinfo="text", marker=dict(size=11, color=PALETTE[g % len(PALETTE)])))
    fig.update_xaxes(title=axis_titles[0], zeroline=False)
    fig.update_yaxes(title=axis_titles[1], zeroline=False)
    fig.update_layout(showlegend=len(groups) > 1)
    return _layout(fig, t("pre.map", lang), height=480)


def neighbours_html(neighbours, lang: str) -> str:
    """Ranked nearest sentences as an escaped HTML table with a bar for the cosine."""
    cols = t("pre.nb_cols", lang).split("|")
    head = "".join(f"<th style='text-align:left;padding:4px 8px'>{_esc(c)}</th>" for c in cols)
    rows = "".join(
        f"<tr><td style='padding:4px 8px'>{n.rank}</td><td style='padding:4px 8px'>{_esc(n.sentence)}</td>"
        f"<td style='padding:4px 8px'>{_esc(n.label)}</td><td style='padding:4px 8px;min-width:140px'>"
        f"<div style='display:flex;align-items:center;gap:6px'><div style='height:10px;border-radius:3px;"
        f"background:#2563eb;width:{max(0.0, n.score) * 100:.0f}px'></div>{n.score:.3f}</div></td></tr>"
        for n in neighbours)
    return (f"<table class='pre-neighbours' style='width:100%;border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


# ---- surprisal -------------------------------------------------------------------------------
def _heat(s: float | None, top: float = 10.0) -> str:
    if s is None:
        return "background:#e5e7eb"
    a = max(0.0, min(1.0, s / top))
    return f"background:rgba(220,38,38,{0.08 + 0.85 * a:.2f});color:{'#fff' if a > 0.55 else '#111'}"


def tokens_html(result, lang: str) -> str:
    """Each token as a span coloured by surprisal, with its numbers in the hover title."""
    parts = []
    for i, (tok, s, p, r) in enumerate(zip(result.tokens, result.surprisal, result.probs, result.rank)):
        if s is None:
            title = f"#{i} {t('pre.no_prediction', lang)}"
        else:
            title = f"#{i} · p = {p:.4f} · −ln p = {s:.2f} · rank {r}"
        if tok == PARTIAL:        # the first bytes of a character: a thin bar in its colour
            title += " · " + t("pre.partial_token", lang)
            parts.append(f'<span class="pre-tok pre-part" style="{_heat(s)};display:inline-block;'
                         f'width:.35em;height:1.1em;vertical-align:middle" title="{_esc(title)}">'
                         f'</span>')
            continue
        parts.append(f'<span class="pre-tok" style="{_heat(s)}" title="{_esc(title)}">'
                     f'{_esc(tok)}</span>')
    legend = _esc(t("pre.legend", lang))
    return (f'<div class="pre-tokens" style="line-height:2.1;font-family:monospace;'
            f'white-space:pre-wrap">{"".join(parts)}</div>'
            f'<div style="font-size:.85em;opacity:.75;margin-top:6px">{legend}</div>')


def surprisal_bars(result, lang: str) -> go.Figure:
    n = len(result.tokens)
    ys = [s if s is not None else 0 for s in result.surprisal]
    hover = [f"#{i} {_esc(tok)}<br>" + ("—" if s is None else f"−ln p = {s:.2f}<br>p = {p:.4f}")
             for i, (tok, s, p) in enumerate(zip(result.tokens, result.surprisal, result.probs))]
    fig = go.Figure(go.Bar(x=list(range(n)), y=ys, hovertext=hover, hoverinfo="text",
                           marker_color=["#dc2626" if (s or 0) > 5 else "#f59e0b" if (s or 0) > 2
                                         else "#16a34a" for s in result.surprisal]))
    step = max(1, n // 60)
    fig.update_xaxes(tickmode="array", tickvals=list(range(0, n, step)),
                     ticktext=[_esc(_short(result.tokens[i], 10)) for i in range(0, n, step)],
                     tickangle=-60)
    fig.update_yaxes(title=t("pre.surprisal_axis", lang))
    return _layout(fig, t("pre.surprisal_axis", lang), height=340)


def topk_bars(result, position: int, lang: str) -> go.Figure:
    cands = result.top[position]
    actual = result.token_ids[position + 1] if position + 1 < len(result.token_ids) else None
    k = len(cands)
    fig = go.Figure(go.Bar(
        x=[c.prob for c in cands], y=list(range(k)), orientation="h",
        hovertext=[f"{_esc(c.token)} · p = {c.prob:.4f}" for c in cands], hoverinfo="text",
        marker_color=["#16a34a" if c.token_id == actual else "#2563eb" for c in cands]))
    fig.update_yaxes(tickmode="array", tickvals=list(range(k)),
                     ticktext=[_esc(repr(c.token)[1:-1]) for c in cands], autorange="reversed")
    fig.update_xaxes(title=t("pre.prob_axis", lang), range=[0, 1])
    title = t("pre.topk_title", lang, token=_esc(_short(result.label(position), 20)))
    return _layout(fig, title, height=380)


# ---- tiny pre-training -----------------------------------------------------------------------
def loss_curve(events, lang: str) -> go.Figure:
    pts = [e for e in events if "loss" in e and "step" in e]
    fig = go.Figure(go.Scatter(x=[e["step"] for e in pts], y=[e["loss"] for e in pts],
                               mode="lines+markers", marker=dict(size=4),
                               hovertemplate="step %{x}<br>loss %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=t("pre.step", lang), rangemode="tozero")
    fig.update_yaxes(title=t("pre.loss", lang), rangemode="tozero")
    return _layout(fig, t("pre.loss_plot", lang), height=360)


def samples_html(samples, lang: str) -> str:
    head_step, head_text = t("pre.sample_col", lang).split("|")
    rows = "".join(f"<tr><td style='padding:4px 10px;vertical-align:top'>{int(step)}</td>"
                   f"<td style='padding:4px 10px;white-space:pre-wrap;font-family:monospace'>"
                   f"{_esc(text)}</td></tr>" for step, text in reversed(samples))
    return (f"<table class='pre-samples' style='width:100%;border-collapse:collapse'>"
            f"<tr><th style='text-align:left;padding:4px 10px'>{_esc(head_step)}</th>"
            f"<th style='text-align:left;padding:4px 10px'>{_esc(head_text)}</th></tr>{rows}</table>")


# ---- cost of scale ---------------------------------------------------------------------------
def memory_bars(est, lang: str) -> go.Figure:
    cats = [t("scale.inference", lang), t("scale.train", lang)]
    parts = [("scale.weights", est.inference_weights, est.train_weights),
             ("scale.kv_cache", est.inference_kv_cache, 0.0),
             ("scale.gradients", 0.0, est.train_gradients),
             ("scale.adam", 0.0, est.train_adam),
             ("scale.activations", 0.0, est.train_activations)]
    fig = go.Figure()
    for i, (key, inf, train) in enumerate(parts):
        fig.add_trace(go.Bar(name=t(key, lang), x=cats, y=[inf / 1e9, train / 1e9],
                             marker_color=PALETTE[i],
                             hovertemplate="%{x}: %{y:.3g} GB<extra>" + _esc(t(key, lang)) + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="GB")
    return _layout(fig, t("scale.memory_plot", lang), height=380)


def growth_lines(rows, current, lang: str) -> go.Figure:
    """rows: Estimates at several widths; current: the user's Estimate (marked). Parameters,
    compute and memory all grow alike, so one line with every figure in its hover."""
    xs = [r.arch.d_model for r in rows]
    hover = [f"d_model = {r.arch.d_model}<br>{r.params.total:,} parameters<br>{r.flops:.3g} FLOPs"
             f"<br>{r.train_total / 1e9:,.3g} GB to train" for r in rows]
    fig = go.Figure(go.Scatter(x=xs, y=[r.params.total for r in rows], mode="lines+markers",
                               name=t("scale.params_axis", lang), hovertext=hover, hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[current.arch.d_model], y=[current.params.total], mode="markers",
                             name=t("scale.you", lang), marker=dict(size=14, symbol="star",
                                                                   color="#dc2626")))
    fig.update_xaxes(type="log", title=t("scale.width_axis", lang))
    fig.update_yaxes(type="log", title=t("scale.params_axis", lang))
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return _layout(fig, t("scale.growth_plot", lang), height=420)


def presets_scatter(points, current, lang: str) -> go.Figure:
    """points: [(name, params, flops)]; current: (params, flops)."""
    fig = go.Figure(go.Scatter(
        x=[p[1] for p in points], y=[p[2] for p in points], mode="markers+text",
        text=[_esc(p[0]) for p in points], textposition="top center", name="",
        hovertemplate="%{text}<br>%{x:.3s} parameters<br>%{y:.3g} FLOPs<extra></extra>",
        marker=dict(size=10, color="#2563eb")))
    fig.add_trace(go.Scatter(x=[current[0]], y=[current[1]], mode="markers",
                             name=t("scale.you", lang), marker=dict(size=15, symbol="star",
                                                                   color="#dc2626")))
    fig.update_xaxes(type="log", title=t("scale.params_axis", lang))
    fig.update_yaxes(type="log", title=t("scale.flops_axis", lang))
    fig.update_layout(showlegend=False)
    return _layout(fig, t("scale.presets_plot", lang), height=420)
