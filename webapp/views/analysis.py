"""Figures and HTML for Applications -> Analyse meaning, from `Analysis` results (plain data).

The text is always escaped: HTML pasted by the user is shown as the characters it is made of.
Entities are coloured by kind (models/runners/analysis.py `KINDS`) with a legend in the user's
language; each mark shows the model's own label too. Relations are a table and a plotly graph
(subjects and objects as points, one arrow per predicate).
"""
from __future__ import annotations

import html
import math

import plotly.graph_objects as go

from models.runners.analysis import KINDS, kind_of
from webapp.i18n import render, t

COLOURS = {"person": "#fde68a", "organisation": "#bfdbfe", "place": "#bbf7d0",
           "date": "#fbcfe8", "number": "#ddd6fe", "other": "#e5e7eb"}


def legend_html(lang: str) -> str:
    items = "".join(f'<span class="an-key" style="background:{COLOURS[k]};padding:1px 6px;'
                    f'border-radius:4px;margin-right:6px">{html.escape(t("an.kind." + k, lang))}</span>'
                    for k in KINDS)
    return f'<div class="an-legend">{html.escape(t("an.legend", lang))} {items}</div>'


def entities_html(text: str, entities, lang: str) -> str:
    """The text with each entity marked in its kind's colour (label on hover and in small
    letters after it), then the legend. Overlapping entities keep the first."""
    parts, at = [], 0
    for ent in sorted(entities, key=lambda e: (e.start, -e.end)):
        if ent.start < at or ent.end > len(text):
            continue
        kind = kind_of(ent.label)
        parts.append(html.escape(text[at:ent.start]))
        label = html.escape(ent.label)
        parts.append(f'<mark class="an-ent an-{kind}" data-kind="{kind}" title="{label}" '
                     f'style="background:{COLOURS[kind]};padding:0 3px;border-radius:4px">'
                     f'<span class="an-name">{html.escape(text[ent.start:ent.end])}</span>'
                     f'<sub style="font-size:0.7em;margin-left:3px;opacity:0.7">{label}</sub></mark>')
        at = ent.end
    parts.append(html.escape(text[at:]))
    body = "".join(parts).replace("\n", "<br>")
    empty = "" if entities else f'<p class="an-none">{html.escape(t("an.no_entities", lang))}</p>'
    return (f'<div class="an-text" style="line-height:2">{body}</div>{empty}'
            f'{legend_html(lang)}')


def relations_html(relations, lang: str) -> str:
    if not relations:
        return f'<p class="an-none">{html.escape(t("an.no_relations", lang))}</p>'
    head = "".join(f"<th>{html.escape(t('an.col.' + c, lang))}</th>"
                   for c in ("subject", "predicate", "object"))
    rows = "".join(f"<tr><td>{html.escape(r.subject)}</td><td><b>{html.escape(r.predicate)}"
                   f"</b></td><td>{html.escape(r.object)}</td></tr>" for r in relations)
    return f'<table class="an-relations"><tr>{head}</tr>{rows}</table>'


def relation_graph(relations, lang: str) -> go.Figure | None:
    """Subjects and objects as points on a circle, an arrow from subject to object labelled
    with the predicate. None when there is nothing to draw."""
    if not relations:
        return None
    nodes: list[str] = []
    for r in relations:
        for name in (r.subject, r.object):
            if name not in nodes:
                nodes.append(name)
    n = len(nodes)
    pos = {name: (math.cos(2 * math.pi * i / n + math.pi / 2) if n > 1 else 0.0,
                  math.sin(2 * math.pi * i / n + math.pi / 2) if n > 1 else 0.0)
           for i, name in enumerate(nodes)}
    fig = go.Figure()
    for r in relations:
        (x0, y0), (x1, y1) = pos[r.subject], pos[r.object]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=1.5,
                           standoff=14, startstandoff=14, arrowcolor="#6b7280")
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=html.escape(r.predicate),
                           showarrow=False, font={"size": 12, "color": "#b45309"},
                           bgcolor="rgba(255,255,255,0.8)")
    fig.add_trace(go.Scatter(
        x=[pos[k][0] for k in nodes], y=[pos[k][1] for k in nodes], mode="markers+text",
        text=[html.escape(k) for k in nodes], textposition="top center",
        marker={"size": 16, "color": "#60a5fa"}, hoverinfo="text", showlegend=False))
    fig.update_xaxes(visible=False, range=[-1.6, 1.6])
    fig.update_yaxes(visible=False, range=[-1.4, 1.5])
    fig.update_layout(title=t("an.graph", lang), height=360, margin={"l": 10, "r": 10, "t": 40,
                                                                    "b": 10})
    return fig


def sentiment_md(sentiment: dict | None, lang: str) -> str:
    if not sentiment:
        return t("an.sentiment_off", lang)
    score = f" ({sentiment['score']:.0%})" if sentiment.get("score") is not None else ""
    return t("an.sentiment_is", lang, label=sentiment["label"], score=score,
             model=sentiment.get("model", ""))


def status_md(result, lang: str) -> str:
    """The line above a result: validity (LM), notices, model and time."""
    lines = []
    if result.valid is True:
        lines.append(t("an.valid", lang))
    elif result.valid is False:
        lines.append(t("an.invalid", lang, why="; ".join(result.errors)))
    lines += [f"> {render(n, lang)}" for n in result.notices]
    lines.append(t("an.stats", lang, model=result.model_name, secs=result.seconds))
    return "\n\n".join(lines)


def raw_text(result) -> str:
    """What the LM wrote, then the prompt it was sent (for the 'raw' box)."""
    if result.method != "lm":
        return ""
    return f"{result.raw}\n\n----- prompt sent -----\n{result.prompt}"
