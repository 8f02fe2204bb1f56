"""Pictures and tables of the Fine-tune tab, built from plain data (job status dicts, eval
reports, class counts). No model code and no Gradio events here: tab_finetune.py wires them."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from webapp.i18n import job_error_text, render, t

# The loop models/training/finetune/loop.py runs, without the bookkeeping (progress, stop, best epoch).
TRAINING_CODE = '''from accelerate import Accelerator
from torch.nn.functional import cross_entropy
from torch.optim import AdamW
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

accelerator = Accelerator()                      # CPU, one GPU, or many with `accelerate launch`
model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=len(classes))
optimizer = AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
scheduler = get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)
model, optimizer, train_loader, val_loader, scheduler = accelerator.prepare(
    model, optimizer, train_loader, val_loader, scheduler)

for epoch in range(epochs):
    model.train()                                # dropout on while learning
    for batch in train_loader:                   # input_ids, attention_mask, labels
        labels = batch.pop("labels")
        logits = model(**batch).logits           # one score per class
        # mean of -log p(y_i | x_i; θ); class_weights is None unless the classes are unbalanced
        loss = cross_entropy(logits, labels, weight=class_weights)
        accelerator.backward(loss)               # d loss / d θ for every weight
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()                         # θ ← θ − lr · (Adam-scaled) gradient
        scheduler.step()                         # the learning rate ramps up, then down
        optimizer.zero_grad()                    # gradients add up unless they are reset
        if stop_requested():
            break
    model.eval()                                 # dropout off to measure
    accuracy, macro_f1 = evaluate(model, val_loader)   # keep the weights of the best epoch
'''

COLORS = {"train": "#2563eb", "val": "#dc2626", "bar": "#0d9488"}


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height,
                      margin=dict(l=50, r=20, t=45, b=45), template="plotly_white",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def counts_figure(counts: dict, lang: str) -> go.Figure:
    labels = [str(k) for k in counts]
    fig = go.Figure(go.Bar(x=list(range(len(labels))), y=list(counts.values()),
                           marker_color=COLORS["bar"], text=list(counts.values()),
                           textposition="outside"))
    # numeric axis + ticktext: plotly would merge repeated category names otherwise
    fig.update_xaxes(tickvals=list(range(len(labels))), ticktext=labels)
    fig.update_yaxes(title=t("ft.examples", lang), range=[0, max(counts.values() or [1]) * 1.18])
    return _layout(fig, t("ft.counts_title", lang), 280)


def notices_md(notices, lang: str) -> str:
    """Notices (models/core/errors.py Notice, or a job's notice events) as Markdown lines."""
    return "\n\n".join(f"⚠ {html.escape(render(n, lang), quote=False)}" for n in notices)


def data_md(data, profile, base_name: str, lang: str) -> str:
    """What the user should know about the data before training: how much there is, how long
    the texts are for the base model (and the max length chosen from that), then notices."""
    lines = [t("ft.data_ok", lang, n=len(data.texts), k=len(data.classes))]
    if profile is not None:
        lines[0] += " " + t("ft.data_lengths", lang, p50=profile.token_p50, p95=profile.token_p95,
                            max=profile.token_max, base=base_name, length=profile.max_length)
    notes = notices_md(list(data.notices) + (profile.notices(base_name) if profile else []), lang)
    return "\n\n".join([lines[0]] + ([notes] if notes else []))


def _eta(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_html(st: dict | None, lang: str) -> str:
    if not st:
        return f'<div class="ft-status">{html.escape(t("ft.no_job", lang))}</div>'
    state = st["status"]
    pct = st["progress"] * 100
    if state == "queued":
        line = t("ft.queued", lang, pos=st["queue_position"])
    elif state == "running" and st.get("stopping"):     # no estimate once Stop is pressed
        line = t("job.stopping", lang)
    elif state == "interrupted":                         # models/core/jobs.py INTERRUPTED
        line = t("job.interrupted", lang)
    elif state == "running":
        steps, total = st.get("steps") or [], st.get("total_steps")
        if steps and total:
            last = steps[-1]
            msg = t("ft.step_line", lang, epoch=last["epoch"], step=last["step"], total=total,
                    loss=last["loss"])
        else:
            msg = t("ft.loading", lang)
        line = t("ft.running", lang, msg=msg)
        if st["eta_seconds"] is not None:
            line += " · " + t("ft.eta", lang, eta=_eta(st["eta_seconds"]))
    elif state == "done":
        line = t("ft.done", lang)
    elif state == "cancelled":
        line = t("ft.stopped_saved" if st["result"] else "ft.cancelled", lang)
    else:
        line = t("ft.failed", lang, error=job_error_text(st["error"], st.get("error_code"),
                                                         st.get("error_params"), lang) or "?")
    color = {"failed": "#dc2626", "cancelled": "#d97706", "interrupted": "#d97706",
             "done": "#16a34a"}.get(state, "#2563eb")
    return (f'<div class="ft-status" data-state="{state}"><div class="ft-line">'
            f'<b>{pct:.0f}%</b> · {html.escape(line)}</div>'
            f'<div class="mem-track" role="progressbar" aria-valuenow="{pct:.0f}" aria-valuemin="0" '
            f'aria-valuemax="100"><div class="mem-fill" style="width:{pct:.1f}%;background:{color}">'
            f'</div></div><div class="ft-id">{html.escape(t("ft.job_id", lang))}: '
            f'<code>{html.escape(st["job_id"])}</code></div></div>')


def loss_figure(st: dict | None, lang: str) -> go.Figure:
    fig = go.Figure()
    if st and st["steps"]:
        fig.add_trace(go.Scatter(x=[s["step"] for s in st["steps"]], y=[s["loss"] for s in st["steps"]],
                                 mode="lines", name=t("ft.train_loss", lang),
                                 line=dict(color=COLORS["train"], width=1.5)))
    if st and st["epochs"]:
        fig.add_trace(go.Scatter(x=[e["step"] for e in st["epochs"]], y=[e["val_loss"] for e in st["epochs"]],
                                 mode="lines+markers", name=t("ft.val_loss", lang),
                                 line=dict(color=COLORS["val"], width=2), marker=dict(size=9)))
    fig.update_xaxes(title=t("ft.step", lang), rangemode="tozero")
    fig.update_yaxes(title=t("ft.loss", lang), rangemode="tozero")
    return _layout(fig, t("ft.loss_title", lang))


def epochs_rows(st: dict | None) -> list:
    if not st:
        return []
    return [[e["epoch"] if not e["partial"] else f"{e['epoch']}*", round(e["train_loss"], 4),
             round(e["val_loss"], 4), round(e["accuracy"], 3), round(e["macro_f1"], 3)]
            for e in st["epochs"]]


def confusion_figure(report: dict | None, lang: str) -> go.Figure:
    fig = go.Figure()
    if report:
        cm, labels = report["confusion"], report["classes"]
        idx = list(range(len(labels)))
        fig.add_trace(go.Heatmap(z=cm, x=idx, y=idx, colorscale="Blues", showscale=False,
                                 text=[[str(v) for v in row] for row in cm], texttemplate="%{text}",
                                 hovertemplate=t("ft.cm_hover", lang) + "<extra></extra>"))
        fig.update_xaxes(tickvals=idx, ticktext=labels, title=t("ft.predicted", lang), side="bottom")
        fig.update_yaxes(tickvals=idx, ticktext=labels, title=t("ft.actual", lang), autorange="reversed")
    return _layout(fig, t("ft.cm_title", lang), 340)


def per_class_rows(report: dict | None) -> list:
    if not report:
        return []
    return [[c["label"], round(c["precision"], 3), round(c["recall"], 3), round(c["f1"], 3),
             c["support"]] for c in report["per_class"]]


def mistakes_rows(report: dict | None) -> list:
    if not report:
        return []
    return [[m["text"], m["true"], m["predicted"], round(m["confidence"], 3)]
            for m in report["misclassified"]]


def summary_md(result: dict | None, lang: str) -> str:
    if not result:
        return ""
    r = result["report"]
    text = t("ft.summary", lang, acc=r["accuracy"] * 100, base=r["majority_baseline"] * 100,
             f1=r["macro_f1"], epoch=result["best_epoch"], secs=result["train_seconds"],
             eps=result["examples_per_s"], name=result["name"], key=result["key"])
    if result["stopped"]:
        text = t("ft.summary_stopped", lang) + " " + text
    return text
