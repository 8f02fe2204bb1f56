"""Pictures and tables of the "Teach the language model" sub-tab, from plain data (job status
dicts, token masks, conversations). No model code and no Gradio events: webapp/tabs/sft.py
wires them."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from webapp.i18n import job_error_text, t
from webapp.views.finetune import notices_md   # one way to show notices (the tab uses it too)

COLOR = "#2563eb"


def _eta(seconds) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def data_md(data, lang: str) -> str:
    head = t("sft.data_ok", lang, n=len(data.examples), name=data.source,
             kind=t(f"sft.kind.{data.kind}", lang))
    notes = notices_md(data.notices, lang)
    return head + ("\n\n" + notes if notes else "")


def preview_rows(data, limit: int = 8) -> list:
    rows = []
    for messages in data.examples[:limit]:
        user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        rows.append([user, messages[-1]["content"]])
    return rows


def mask_html(tokens: list[tuple[str, bool]], lang: str) -> str:
    """The first conversation's tokens, the ones that count in the loss highlighted."""
    on = sum(1 for _, counts in tokens if counts)
    spans = []
    for text, counts in tokens:
        shown = html.escape(text).replace("\n", "↵<br>")
        cls = "sft-on" if counts else "sft-off"
        spans.append(f'<span class="{cls}" title="{"loss" if counts else "-100"}">{shown}</span>')
    return (f'<div class="sft-mask"><style>.sft-mask span{{border-radius:3px;padding:0 1px;'
            f'margin:0 1px;font-family:monospace;font-size:13px}}'
            f'.sft-mask .sft-on,.sft-on{{background:#bbf7d0;color:#14532d}}'
            f'.sft-mask .sft-off{{background:#e5e7eb;color:#4b5563}}</style>'
            f'<p>{t("sft.mask_title", lang, on=on, all=len(tokens))}</p>'
            f'<div class="sft-tokens">{"".join(spans)}</div></div>')


def params_md(counts: tuple[int, int] | None, lang: str) -> str:
    if not counts or not counts[1]:
        return t("sft.params_unknown", lang)
    lora, total = counts
    return t("sft.params", lang, lora=f"{lora:,}", total=f"{total:,}", share=f"{lora / total:.2%}")


def status_html(st: dict | None, lang: str) -> str:
    if not st:
        return f'<div class="ft-status">{html.escape(t("sft.no_job", lang))}</div>'
    state = st["status"]
    pct = st["progress"] * 100
    if state == "queued":
        line = t("sft.queued", lang, pos=st["queue_position"])
    elif state == "running" and st.get("stopping"):     # no estimate once Stop is pressed
        line = t("job.stopping", lang)
    elif state == "interrupted":                         # models/core/jobs.py INTERRUPTED
        line = t("job.interrupted", lang)
    elif state == "running":
        steps, total = st.get("steps") or [], st.get("total_steps")
        msg = (t("sft.step_line", lang, step=steps[-1]["step"], total=total, loss=steps[-1]["loss"])
               if steps and total else t("sft.loading", lang))
        line = t("sft.running", lang, msg=msg)
        if st.get("eta_seconds") is not None:
            line += " · " + t("sft.eta", lang, eta=_eta(st["eta_seconds"]))
    elif state == "done":
        line = t("sft.done", lang)
    elif state == "cancelled":
        line = t("sft.stopped_saved" if st["result"] else "sft.cancelled", lang)
    else:
        line = t("sft.failed", lang, error=job_error_text(st["error"], st.get("error_code"),
                                                          st.get("error_params"), lang) or "?")
    color = {"failed": "#dc2626", "cancelled": "#d97706", "interrupted": "#d97706",
             "done": "#16a34a"}.get(state, COLOR)
    return (f'<div class="ft-status" data-state="{state}"><div class="ft-line">'
            f'<b>{pct:.0f}%</b> · {html.escape(line)}</div>'
            f'<div class="mem-track" role="progressbar" aria-valuenow="{pct:.0f}" aria-valuemin="0" '
            f'aria-valuemax="100"><div class="mem-fill" style="width:{pct:.1f}%;background:{color}">'
            f'</div></div><div class="ft-id">{html.escape(t("sft.job_id", lang))}: '
            f'<code>{html.escape(st["job_id"])}</code></div></div>')


def loss_figure(st: dict, lang: str) -> go.Figure:
    steps = st.get("steps") or []
    fig = go.Figure(go.Scatter(x=[s["step"] for s in steps], y=[s["loss"] for s in steps],
                               mode="lines+markers", marker=dict(size=4), line=dict(color=COLOR),
                               name=t("sft.loss", lang)))
    fig.update_xaxes(title=t("sft.step", lang))
    fig.update_yaxes(title=t("sft.loss", lang), rangemode="tozero")
    fig.update_layout(title=dict(text=t("sft.loss_title", lang), font=dict(size=14)), height=300,
                      margin=dict(l=50, r=20, t=45, b=45), template="plotly_white")
    return fig


def _mark(text: str, ok: bool | None, lang: str) -> str:
    if ok is None:
        return text
    return f"{t('sft.follows_yes' if ok else 'sft.follows_no', lang)} · {text}"


def side_by_side(st: dict, lang: str) -> tuple[str, list]:
    """(heading with the shares following the format, rows prompt | base | tuned) of the last
    evaluation; ("", []) before the first one."""
    evals = st.get("evals") or []
    if not evals:
        return "", []
    last = evals[-1]
    base_ok, tuned_ok = last.get("base_follows"), last.get("tuned_follows")
    head = t("sft.side_title", lang, step=last["step"])
    if base_ok is not None and tuned_ok is not None and last["prompts"]:
        n = len(last["prompts"])
        head += " " + t("sft.side_share", lang, base=f"{sum(base_ok) / n:.0%}",
                        tuned=f"{sum(tuned_ok) / n:.0%}", n=n)
    rows = []
    for i, prompt in enumerate(last["prompts"]):
        rows.append([prompt, _mark(last["base"][i], base_ok[i] if base_ok else None, lang),
                     _mark(last["tuned"][i], tuned_ok[i] if tuned_ok else None, lang)])
    return head, rows


def result_md(result: dict | None, lang: str) -> str:
    if not result:
        return t("sft.no_results", lang)
    kind = t("sft.kind_merged" if result["merged"] else "sft.kind_adapter", lang)
    return t("sft.result", lang, key=result["key"], kind=kind, steps=result["steps"],
             secs=result["train_seconds"], tps=result["tokens_per_s"])
