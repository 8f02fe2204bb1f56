"""Figures of the Generate tab: the next-token distribution of one step as bars, and the
answer token by token. They take data (TokenStep, models/runners/next_token.py), never a model."""
from __future__ import annotations

import plotly.graph_objects as go

from models.runners.next_token import TokenStep
from models.runners.token_text import PARTIAL

from webapp.i18n import t

DRAWN = "#f97316"      # the token that was drawn
OTHER = "#6366f1"      # the other candidates, after the settings
MODEL = "#cbd5e1"      # the model's own probabilities


def step_figure(step: TokenStep, index: int, lang: str = "en") -> go.Figure:
    """Horizontal bars, most likely at the top: the candidates' probabilities after
    temperature, top-k and top-p (the drawn one in orange), beside the model's own.
    Numeric y positions with tick labels, so two tokens that read alike stay two bars."""
    cands = list(step.candidates)
    pos = list(range(len(cands)))
    labels = [c.text for c in cands]
    final_name = t("gen.bar_greedy" if step.greedy else "gen.bar_final", lang)
    fig = go.Figure()
    if not step.greedy:
        fig.add_trace(go.Bar(y=pos, x=[c.model_p for c in cands], orientation="h",
                             name=t("gen.bar_model", lang), marker_color=MODEL,
                             hovertemplate="%{customdata}: %{x:.2%}<extra></extra>",
                             customdata=labels))
    fig.add_trace(go.Bar(y=pos, x=[c.p for c in cands], orientation="h", name=final_name,
                         marker_color=[DRAWN if c.token_id == step.token_id else OTHER
                                       for c in cands],
                         text=[f"{c.p:.1%}" for c in cands], textposition="outside",
                         hovertemplate="%{customdata}: %{x:.2%}<extra></extra>",
                         customdata=labels))
    title = t("gen.chart_greedy" if step.greedy else "gen.chart_sampled", lang, i=index + 1,
              token=f"“{step.text}”", p=step.p, kept=step.kept)
    top = max([c.p for c in cands] + [c.model_p for c in cands] + [0.01])
    fig.update_layout(
        title=dict(text=title, font=dict(size=14)), barmode="group", bargap=0.25,
        height=120 + 30 * len(cands), margin=dict(l=10, r=30, t=60, b=40),
        legend=dict(orientation="h", y=-0.12 if len(cands) > 6 else -0.25),
        xaxis=dict(title=t("gen.axis_p", lang), tickformat=".0%", range=[0, min(1.0, top * 1.25)]),
        yaxis=dict(tickvals=pos, ticktext=labels, autorange="reversed", automargin=True))
    return fig


def empty_figure(lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(height=160, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=t("gen.no_steps", lang), showarrow=False,
                                        x=0.5, y=0.5, xref="paper", yref="paper")])
    return fig


def token_spans(pieces: list[str], steps: list[TokenStep]) -> list[tuple[str, float]]:
    """(text, score) per generated token for gr.HighlightedText: the score is the drawn
    token's probability, so a confident step is darker. A token that only starts a character
    shows as ◌ (models/runners/token_text.py) and the character appears on the token that ends it."""
    return [(piece if piece != PARTIAL else "◌", round(step.p, 3))
            for piece, step in zip(pieces, steps)]
