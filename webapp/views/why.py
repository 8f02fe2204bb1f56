"""Figures, tables and HTML of the "Why this token?" tab, from the runners' results (never
from models). Every token is rendered as text: HTML-escaped in HTML and in plotly labels
(plotly draws a few HTML tags in labels; escaped text is drawn literally), and as plain cell
text in tables.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.runners.attribution import Attribution
from models.runners.logit_lens import LogitLens
from models.runners.rollout import Rollout

from webapp.views.attention import label, md_token
from webapp.i18n import render, t

CELL_CHARS = 8            # token text inside a lens cell


def pct(p: float) -> str:
    return f"{100 * p:.1f} %" if p >= 0.001 else f"{100 * p:.2g} %"


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def notice_md(notice, lang: str) -> str:
    return "⚠️ " + md_token(render(notice, lang)) if notice else ""


def _short(token: str, n: int = CELL_CHARS) -> str:
    s = str(token)
    return label(s if len(s) <= n else s[: n - 1] + "…")


# ---- logit lens -----------------------------------------------------------------------------
def layer_names(lens: LogitLens, lang: str) -> list[str]:
    return [t("why.lens_emb", lang)] + [t("why.lens_layer_n", lang, i=i)
                                        for i in range(1, lens.rows)]


def lens_verify(lens: LogitLens, lang: str) -> str:
    key = "why.lens_verify_ok" if lens.verified else "why.lens_verify_bad"
    return t(key, lang, diff=f"{lens.max_abs_diff:.2e}", dtype=lens.dtype)


def lens_summary(lens: LogitLens, lang: str, column: int = -1) -> str:
    final = lens.final[column]
    if lens.where == "classifier":
        lines = [t("why.lens_classifier", lang, model=md_token(lens.model_name),
                   final=md_token(final.token), p=pct(final.prob))]
    else:
        at = lens.emergence(column)
        layers = lens.rows - 1
        key = "why.lens_summary" if at is not None and at < layers else "why.lens_summary_late"
        lines = [t(key, lang, token=md_token(lens.tokens[column]), final=md_token(final.token),
                   p=pct(final.prob), layer=at, layers=layers)]
        if lens.where == "decoder":
            lines.append(t("why.lens_decoder_note", lang, model=md_token(lens.model_name)))
    if lens.notice:
        lines.append(notice_md(lens.notice, lang))
    return "\n\n".join(lines)


def lens_grid(lens: LogitLens, lang: str) -> go.Figure:
    """Heatmap: rows = layers, columns = positions; the cell's text is the top guess, its
    colour the guess's probability; hover lists the top 5."""
    rows, cols = lens.rows, lens.columns
    z = np.array([[lens.top[r][c][0].prob for c in range(cols)] for r in range(rows)])
    text = [[_short(lens.top[r][c][0].token) for c in range(cols)] for r in range(rows)]
    hover = [["<br>".join(f"{label(g.token)}  {pct(g.prob)}" for g in lens.top[r][c])
              for c in range(cols)] for r in range(rows)]
    names = layer_names(lens, lang)
    xt = [label(tok) for tok in lens.tokens]
    # x stays numeric (repeated tokens must not merge); hover names layer, token and top 5
    custom = np.dstack([np.array(hover, dtype=object),
                        np.array([[names[r]] * cols for r in range(rows)], dtype=object),
                        np.array([xt] * rows, dtype=object)])
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(cols)), y=list(range(rows)), text=text, texttemplate="%{text}",
        textfont=dict(size=10), customdata=custom, colorscale="YlGnBu", zmin=0, zmax=1,
        colorbar=dict(thickness=12, title=dict(text="p")),
        hovertemplate=t("why.lens_hover", lang) + "<extra></extra>"))
    fig.update_xaxes(tickvals=list(range(cols)), ticktext=xt, tickangle=-50, side="top",
                     title=t("why.lens_positions", lang))
    fig.update_yaxes(tickvals=list(range(rows)), ticktext=names, autorange="reversed",
                     title=t("why.lens_layers", lang))
    fig.update_layout(height=min(900, 120 + 22 * rows), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def lens_curve(lens: LogitLens, column: int, lang: str) -> go.Figure:
    """Probability and rank of the model's final choice at every layer, for one column."""
    column = int(column) if column is not None else lens.columns - 1
    names = layer_names(lens, lang)
    x = list(range(lens.rows))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=lens.final_prob[:, column], mode="lines+markers",
                             name=t("why.lens_prob", lang)), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=lens.final_rank[:, column], mode="lines",
                             line=dict(dash="dot"), name=t("why.lens_rank", lang)),
                  secondary_y=True)
    fig.update_yaxes(title_text=t("why.lens_prob", lang), range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text=t("why.lens_rank", lang), type="log", autorange="reversed",
                     secondary_y=True)
    step = max(1, -(-len(x) // 12))
    fig.update_xaxes(tickvals=x[::step], ticktext=names[::step])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.2),
                      title=dict(text=t("why.lens_curve_title", lang,
                                        token=label(lens.final[column].token),
                                        after=label(lens.tokens[column])), font=dict(size=13)))
    return fig


def column_choices(lens: LogitLens) -> list[tuple[str, int]]:
    return [(f"{i}: {tok}", i) for i, tok in enumerate(lens.tokens)]


# ---- attribution ----------------------------------------------------------------------------
def _colour(score: float, scale: float) -> str:
    """Red for positive, blue for negative, white for 0; dark text stays readable."""
    x = 0.0 if scale <= 0 else max(-1.0, min(1.0, score / scale))
    if x >= 0:
        r, g, b = 255, int(255 - 150 * x), int(255 - 150 * x)
    else:
        r, g, b = int(255 + 150 * x), int(255 + 110 * x), 255
    return f"rgb({r},{g},{b})"


def tokens_html(tokens, scores, fixed, lang: str, elem_class: str = "why-tokens") -> str:
    """Each token in a span coloured by its score; the number on hover (title) and in
    data-score, for people and for tests."""
    scale = max((abs(s) for s, f in zip(scores, fixed) if not f), default=0.0)
    spans = []
    for i, (tok, s, f) in enumerate(zip(tokens, scores, fixed)):
        if f:
            spans.append(f'<span class="why-tok why-fixed" data-i="{i}" data-score="0" '
                         f'title="{esc(t("why.attr_fixed", lang))}">{esc(tok)}</span>')
        else:
            spans.append(f'<span class="why-tok" data-i="{i}" data-score="{s:.6g}" '
                         f'style="background:{_colour(s, scale)}" '
                         f'title="{esc(t("why.attr_hover", lang, score=s))}">{esc(tok)}</span>')
    return (f'<div class="{elem_class}" style="line-height:2.1;font-size:1.05rem;'
            f'white-space:pre-wrap">{"".join(spans)}</div>'
            f'<div class="why-legend" style="opacity:.75;font-size:.85rem">'
            f'{esc(t("why.attr_legend", lang))}</div>')


def top_token(a: Attribution) -> tuple[str, float] | None:
    scored = [(s, tok) for tok, s, f in zip(a.tokens, a.scores, a.fixed) if not f]
    if not scored:
        return None
    s, tok = max(scored)
    return tok, s


def attribution_summary(a: Attribution, lang: str) -> str:
    lines = []
    if a.method == "grad_x_input":
        score = (f"logit({md_token(a.target)}) − logit({md_token(a.contrast)})" if a.contrast
                 else f"ln p({md_token(a.target)})")
        lines.append(t("why.attr_summary_gxi", lang, score=score, value=a.value))
    elif a.contrast:
        lines.append(t("why.attr_summary_contrast", lang, target=md_token(a.target),
                       contrast=md_token(a.contrast), value=a.value, base=a.baseline_value))
    else:
        lines.append(t("why.attr_summary", lang, target=md_token(a.target), value=a.value,
                       p=pct(float(np.exp(a.value))), base=a.baseline_value))
    top = top_token(a)
    if top:
        lines.append(t("why.attr_top", lang, token=md_token(top[0]), score=top[1]))
    if a.completeness_error is not None:
        total = float(sum(a.scores))
        lines.append(t("why.attr_complete", lang, err=a.completeness_error, steps=a.steps,
                       secs=a.seconds, total=total, diff=a.value - a.baseline_value) + " " +
                     t("why.attr_complete_ok" if a.completeness_error < 0.05
                       else "why.attr_complete_bad", lang))
    if a.notice:
        lines.append(notice_md(a.notice, lang))
    return "\n\n".join(lines)


def candidates_frame(a: Attribution, lang: str) -> pd.DataFrame:
    cols = t("why.cand_cols", lang).split("|")
    return pd.DataFrame([[i + 1, g.token, pct(g.prob)] for i, g in enumerate(a.candidates)],
                        columns=cols)


def steps_estimate(steps: int, per_step: float | None, model: str | None, lang: str,
                   default_per_step: float) -> str:
    steps = int(steps or 0)
    if per_step:
        return t("why.steps_est", lang, steps=steps, secs=steps * per_step, per=per_step,
                 model=md_token(model or ""))
    return t("why.steps_est_none", lang, steps=steps, secs=steps * default_per_step,
             per=default_per_step)


# ---- rollout --------------------------------------------------------------------------------
def rollout_figure(r: Rollout, layer: int, lang: str) -> go.Figure:
    layer = int(min(max(0, int(layer or 0)), r.layers - 1))
    labels = [label(tok) for tok in r.tokens]
    n = len(labels)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        t("why.roll_raw_title", lang, layer=layer), t("why.roll_title", lang, layer=layer)))
    cd = np.empty((n, n, 2), dtype=object)
    cd[:, :, 0] = np.array(labels, dtype=object)[:, None]
    cd[:, :, 1] = np.array(labels, dtype=object)[None, :]
    hover = t("why.roll_hover", lang) + "<extra></extra>"
    for col, m in ((1, r.raw[layer]), (2, r.rollout[layer])):
        fig.add_trace(go.Heatmap(z=m, x=list(range(n)), y=list(range(n)), customdata=cd,
                                 hovertemplate=hover, colorscale="Blues", zmin=0,
                                 zmax=float(max(m.max(), 1e-6)), showscale=col == 2,
                                 colorbar=dict(thickness=12)), row=1, col=col)
    step = max(1, n // 40)
    for col in (1, 2):
        fig.update_xaxes(tickvals=list(range(n))[::step], ticktext=labels[::step], tickangle=-60,
                         row=1, col=col)
        fig.update_yaxes(tickvals=list(range(n))[::step], ticktext=labels[::step],
                         autorange="reversed", row=1, col=col)
    fig.update_layout(height=min(620, max(360, 120 + 16 * n)), margin=dict(l=10, r=10, t=50, b=10))
    return fig


# ---- branching ------------------------------------------------------------------------------
def steps_frame(steps: list, lang: str) -> pd.DataFrame:
    """One row per step: the step number, then the top-k alternatives ("▶" = taken). A token
    taken from outside the top-k (a sampled answer can take one) is named in the step cell."""
    cols = t("why.branch_cols", lang).split("|")
    k = len(cols) - 1
    rows = []
    for s in steps:
        cells = [f"{'▶ ' if g.token_id == s.chosen.token_id else ''}{g.token} · {pct(g.prob)}"
                 for g in s.top[:k]]
        first = s.index + 1
        if all(g.token_id != s.chosen.token_id for g in s.top[:k]):
            first = t("why.branch_outside", lang, step=s.index + 1, token=s.chosen.token,
                      p=pct(s.chosen.prob), rank=s.rank, k=k)
        rows.append([first] + cells + [""] * (k - len(cells)))
    return pd.DataFrame(rows, columns=cols)


def tree_frame(branches: list, lang: str) -> pd.DataFrame:
    cols = t("why.tree_cols", lang).split("|")
    rows = [[b["id"], b["parent"] if b["parent"] is not None else t("why.branch_root", lang),
             b["at"] + 1 if b["at"] is not None else t("why.branch_root", lang), b["text"],
             pct(b["probability"])] for b in branches]
    return pd.DataFrame(rows, columns=cols)


def branch_text(b: dict, lang: str) -> str:
    head = t("why.branch_text", lang, id=b["id"], p=pct(b["probability"]), n=len(b["steps"]),
             ended=t("why.branch_ended", lang) if b["ended"] else "")
    if b.get("generated"):
        head += t("why.branch_generated", lang)
    notes = [t("why.branch_cut", lang, n=b["cut"], m=len(b["steps"]))] if b.get("cut") else []
    if b.get("note"):
        notes.append(t(b["note"], lang))
    notes = "".join(f'<div class="why-branch-note">{esc(n)}</div>' for n in notes)
    return (f'<div class="why-branch"><div>{_md_bold_to_html(head)}</div>{notes}'
            f'<p style="font-size:1.1rem;white-space:pre-wrap"><b>{esc(b["prompt"])}</b>'
            f'<span class="why-cont">{esc(b["text"])}</span></p></div>')


def _md_bold_to_html(text: str) -> str:
    """The branch header is written with **bold** markers; show it as HTML (escaped)."""
    parts = esc(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


# ---- side by side ---------------------------------------------------------------------------
def _missing(side, lang: str) -> str:
    """One line per reason, naming every part it applies to."""
    out = []
    for reason in dict.fromkeys(side.missing.values()):
        parts = [t("why.part." + p, lang) for p, r in side.missing.items() if r == reason]
        text = t("why.cmp_missing." + reason, lang, part=" · ".join(parts), model=side.model_name)
        out.append(f'<p class="why-missing" style="opacity:.75">{esc(text)}</p>')
    return "".join(out)


def side_html(side, lang: str) -> str:
    """One model's column: prediction, continuation, attribution, lens (what applies)."""
    out = [f'<div class="why-side" data-model="{esc(side.key)}"><h3>{esc(side.model_name)}</h3>']
    if side.prediction:
        title = t("why.cmp_pred_class" if side.attribution else "why.cmp_pred_next", lang)
        rows = "".join(f"<tr><td>{esc(g.token)}</td><td>{pct(g.prob)}</td></tr>"
                       for g in side.prediction[:5])
        out.append(f'<h4>{esc(title)}</h4><table class="why-pred">{rows}</table>')
    if side.steps:
        out.append(f'<h4>{esc(t("why.cmp_steps", lang))}</h4>'
                   f'<p style="white-space:pre-wrap"><b>{esc(side.continuation)}</b></p><ol>')
        for s in side.steps:
            alts = " · ".join(f"{'▶ ' if g.token_id == s.chosen.token_id else ''}{esc(g.token)} "
                              f"{pct(g.prob)}" for g in s.top[:3])
            out.append(f"<li>{alts}</li>")
        out.append("</ol>")
    if side.attribution:
        a = side.attribution
        title = t("why.cmp_attr", lang, target=a.target, err=a.completeness_error or 0)
        out.append(f'<h4>{esc(title)}</h4>')
        out.append(tokens_html(a.tokens, a.scores, a.fixed, lang))
    if side.lens and side.lens.where != "classifier":
        at, layers = side.lens.emergence(-1), side.lens.rows - 1
        key = "why.cmp_lens" if at is not None and at < layers else "why.cmp_lens_late"
        text = t(key, lang, token=side.lens.final[-1].token, layer=at, layers=layers)
        out.append(f'<p>{esc(text)}</p>')
    out.append(_missing(side, lang))
    out.append("</div>")
    return "".join(out)


def compare_attention(a, b, lang: str) -> go.Figure:
    """The chosen head of each model, side by side."""
    titles = tuple(t("why.cmp_attention", lang, layer=s.layer, head=s.head, layers=s.layers,
                     heads=s.heads) for s in (a, b))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(f"{esc(a.model_name)}<br>{titles[0]}",
                                        f"{esc(b.model_name)}<br>{titles[1]}"))
    for col, s in ((1, a), (2, b)):
        labels = [label(tok) for tok in s.tokens]
        n = len(labels)
        fig.add_trace(go.Heatmap(z=s.attention, x=list(range(n)), y=list(range(n)),
                                 colorscale="Blues", zmin=0, zmax=1, showscale=col == 2,
                                 colorbar=dict(thickness=12)), row=1, col=col)
        fig.update_xaxes(tickvals=list(range(n)), ticktext=labels, tickangle=-60, row=1, col=col)
        fig.update_yaxes(tickvals=list(range(n)), ticktext=labels, autorange="reversed",
                         row=1, col=col)
    n = max(len(a.tokens), len(b.tokens))
    fig.update_layout(height=min(620, max(380, 140 + 16 * n)), margin=dict(l=10, r=10, t=70, b=10))
    return fig
