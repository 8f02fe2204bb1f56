"""Formatting for the Applications tab: plain results from models/apps*.py -> Markdown and
HTML. No model calls here. Every piece of user or token text is HTML-escaped.

The generation-insight view needs no JavaScript (gr.HTML does not run <script>): each token
is a <details> element, so a click opens the table of its top-5 candidates.
"""
from __future__ import annotations

import html

from models.runners.applications.run import AppUpdate
from models.runners.applications.qa import SpanAnswer
from models.runners.metrics import Scores

from webapp.i18n import render, t

INSIGHT_CSS = """<style>
.apps-insight{line-height:2.1;font-size:15px;position:relative}
.apps-insight:has(details[open]){padding-bottom:10em}
.apps-insight details{display:inline-block;position:relative;margin:0 1px}
.apps-insight summary{list-style:none;cursor:pointer;padding:1px 3px;border-radius:4px;
  white-space:pre;color:#111}
.apps-insight summary::-webkit-details-marker{display:none}
.apps-insight details[open] summary{outline:2px solid #2563eb}
.apps-insight .cands{position:absolute;z-index:20;top:1.9em;left:0;background:#fff;color:#111;
  border:1px solid #94a3b8;border-radius:6px;padding:6px 8px;min-width:250px;
  box-shadow:0 4px 12px rgba(0,0,0,.18);line-height:1.4;font-size:13px}
.apps-insight table{border-collapse:collapse;width:100%}
.apps-insight td,.apps-insight th{padding:1px 8px !important;text-align:left;white-space:pre;
  border:none !important;line-height:1.5 !important;font-size:13px !important}
.apps-insight tr{border-bottom:1px solid #e2e8f0}
.apps-insight tr.chosen td{font-weight:700}
.apps-insight .bar{display:inline-block;height:8px;background:#2563eb;border-radius:2px;
  vertical-align:middle;margin-right:4px}
.apps-hl mark{background:#fde047;padding:1px 2px;border-radius:3px;color:#111}
.apps-hl{line-height:1.6;white-space:pre-wrap}
</style>"""


def notices_md(notices, lang: str) -> str:
    return "".join(f"**!** {html.escape(render(n, lang))}\n\n" for n in notices)


def stats_md(upd: AppUpdate, model_name: str, lang: str) -> str:
    """The run's figures; a finished run starts with ✓ (while tokens stream, it does not)."""
    line = ("✓ " if upd.done else "") + t("apps.stats", lang, n=upd.n_tokens, secs=upd.seconds,
                                          tps=upd.tokens_per_s, model=model_name)
    if upd.batch_size > 1:
        line += t("apps.batch", lang, others=upd.batch_size - 1)
    if upd.waited >= 0.5:
        line += t("apps.waited", lang, secs=upd.waited)
    return line


def _color(p: float) -> str:
    """Probability -> background: red (unsure) through yellow to green (sure)."""
    hue = int(120 * max(0.0, min(1.0, p)))
    return f"hsl({hue},75%,82%)"


def _shown(token: str) -> str:
    return html.escape(token.replace("\n", "⏎").replace("\t", "⇥") or "∅")


def insight_html(insight: list, lang: str) -> str:
    """Tokens coloured by their probability; a click shows the top-5 candidates of that step."""
    if not insight:
        return f"<p>{html.escape(t('apps.insight_empty', lang))}</p>"
    head = (f"<tr><th>{html.escape(t('apps.col.token', lang))}</th>"
            f"<th>{html.escape(t('apps.col.model', lang))}</th>")
    sampled = insight[0].sample_p is not None
    if sampled:
        head += f"<th>{html.escape(t('apps.col.sample', lang))}</th>"
    head += "</tr>"
    parts = [INSIGHT_CSS, '<div class="apps-insight">']
    for i, row in enumerate(insight):
        rows = []
        for text, mp, sp in row.candidates:
            cls = ' class="chosen"' if text == row.text else ""
            cells = (f"<td>{_shown(text)}</td><td><span class='bar' style='width:{mp * 80:.0f}px'>"
                     f"</span>{mp:.1%}</td>")
            if sampled:
                cells += f"<td>{(sp or 0.0):.1%}</td>"
            rows.append(f"<tr{cls}>{cells}</tr>")
        if not any(text == row.text for text, _m, _s in row.candidates):
            extra = f"<td>{(row.sample_p or 0.0):.1%}</td>" if sampled else ""
            rows.append(f"<tr class='chosen'><td>{_shown(row.text)}</td><td>{row.model_p:.1%}"
                        f"</td>{extra}</tr>")
        parts.append(f'<details data-step="{i}"><summary style="background:{_color(row.model_p)}" '
                     f'title="{row.model_p:.1%}">{_shown(row.text)}</summary>'
                     f'<div class="cands"><table>{head}{"".join(rows)}</table></div></details>')
    parts.append("</div>")
    return "".join(parts)


def highlight_html(context: str, span: tuple[int, int] | None) -> str:
    """The context with the answer span marked."""
    context = context or ""
    if not span:
        return f'{INSIGHT_CSS}<div class="apps-hl">{html.escape(context)}</div>'
    a, b = span
    return (f'{INSIGHT_CSS}<div class="apps-hl">{html.escape(context[:a])}<mark>'
            f'{html.escape(context[a:b])}</mark>{html.escape(context[b:])}</div>')


def span_md(ans: SpanAnswer, model_name: str, lang: str) -> str:
    return (t("apps.qa.span", lang, score=ans.score, window=ans.window + 1, windows=ans.windows,
              tokens=ans.window_tokens) + "\n\n" +
            "✓ " + t("apps.qa.stats", lang, secs=ans.seconds, model=model_name))


def scores_md(scores: Scores, lang: str) -> str:
    cells = " · ".join(f"**{name}** {value:.1f}" for name, value in scores.values.items())
    return f"{cells}\n\n{t('apps.score_help', lang)}"
