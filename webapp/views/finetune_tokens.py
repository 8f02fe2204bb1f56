"""Pictures and HTML of the Fine-tune tab's "Label words" sub-tab, from plain data (token data,
job status dicts, token reports). Words are always escaped: they come from the user's file."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from webapp.i18n import t
from webapp.views.finetune import COLORS, _layout, notices_md

PREVIEW_SENTENCES = 8
# inline styles: this HTML is the sub-tab's own (assets/app.css is shared by every tab)
MARK_STYLE = "padding:1px 4px;border-radius:4px;color:#111827;line-height:1.9"
WRONG_STYLE = "text-decoration:underline wavy #dc2626;text-decoration-thickness:2px"
WHO_STYLE = "display:inline-block;min-width:4.5em;color:#6b7280;font-size:0.85em"
# one colour per entity type, in the order the types are listed (sorted); then around again
PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa", "#a5f3fc",
           "#e5e7eb", "#fecaca", "#d9f99d"]

# The loop models/training/tokens/loop.py runs, without the bookkeeping.
TRAINING_CODE = '''from torch.nn.functional import cross_entropy
from transformers import AutoModelForTokenClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained(base)
model = AutoModelForTokenClassification.from_pretrained(base, num_labels=len(tags))

# one tag per word -> one label per word piece: the first piece of each word gets the word's
# tag, the other pieces and [CLS]/[SEP] get -100 (the loss skips them)
enc = tokenizer(words, is_split_into_words=True, truncation=True)
labels, previous = [], None
for word in enc.word_ids():
    labels.append(-100 if word is None or word == previous else tag_id[word_tags[word]])
    previous = word

for epoch in range(epochs):
    for batch in train_loader:                     # input_ids, attention_mask, labels
        logits = model(**inputs).logits            # [sentences, pieces, tags]
        loss = cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        loss.backward(); optimizer.step(); scheduler.step(); optimizer.zero_grad()
    # entity-level precision / recall / F1 on the validation sentences, with seqeval
    f1 = seqeval.metrics.f1_score(true_tags, predicted_tags)
'''


def type_colors(types) -> dict:
    return {ty: PALETTE[i % len(PALETTE)] for i, ty in enumerate(sorted(types))}


def _entity_runs(tags: list) -> list:
    """(start, end, type) of each entity in a tag sequence (end excluded); a stray I- starts one."""
    runs, start, kind = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        inside = tag != "O" and tag.startswith("I-") and kind == tag[2:]
        if start is not None and not inside:
            runs.append((start, i, kind))
            start = kind = None
        if tag != "O" and not inside:
            start, kind = i, tag[2:]
    return runs


def highlight(words: list, tags: list, colors: dict, wrong: set | None = None) -> str:
    """A sentence as HTML: each entity in its type's colour with the type after it; words in
    `wrong` (indices) underlined in red."""
    wrong = wrong or set()
    runs = {s: (e, k) for s, e, k in _entity_runs(tags)}
    out, i = [], 0

    def word(j):
        w = html.escape(str(words[j]))
        return f'<span class="tok-wrong" style="{WRONG_STYLE}">{w}</span>' if j in wrong else w
    while i < len(words):
        if i in runs:
            end, kind = runs[i]
            inner = " ".join(word(j) for j in range(i, end))
            color = colors.get(kind, "#e5e7eb")
            out.append(f'<mark class="tok-ent" style="background:{color};{MARK_STYLE}">{inner} '
                       f'<small>{html.escape(kind)}</small></mark>')
            i = end
        else:
            out.append(word(i))
            i += 1
    return " ".join(out)


def legend(types, colors: dict) -> str:
    return " ".join(f'<mark class="tok-ent" style="background:{colors[ty]};{MARK_STYLE}">{html.escape(ty)}</mark>'
                    for ty in types)


def preview_html(data, lang: str) -> str:
    colors = type_colors(data.types)
    rows = "".join(f"<li>{highlight(w, tg, colors)}</li>"
                   for w, tg in zip(data.words[:PREVIEW_SENTENCES], data.tags[:PREVIEW_SENTENCES]))
    return (f'<div class="tok-preview"><b>{html.escape(t("tok.preview", lang))}</b> '
            f'{legend(data.types, colors)}<ol>{rows}</ol></div>')


def data_md(data, lang: str) -> str:
    lines = [t("tok.data_ok", lang, n=len(data.words), words=sum(len(w) for w in data.words),
               k=len(data.types), types=", ".join(f"{ty} ({n})" for ty, n in data.counts.items()))]
    notes = notices_md(data.notices, lang)
    return "\n\n".join(lines + ([notes] if notes else []))


def counts_figure(counts: dict, lang: str) -> go.Figure:
    labels = list(counts)
    colors = type_colors(labels)
    fig = go.Figure(go.Bar(x=list(range(len(labels))), y=list(counts.values()),
                           marker_color=[colors[k] for k in labels], marker_line_color="#475569",
                           marker_line_width=1, text=list(counts.values()), textposition="outside"))
    fig.update_xaxes(tickvals=list(range(len(labels))), ticktext=labels)
    fig.update_yaxes(range=[0, max(counts.values() or [1]) * 1.2])
    return _layout(fig, t("tok.counts_title", lang), 260)


def epochs_rows(st: dict | None) -> list:
    if not st:
        return []
    return [[e["epoch"] if not e["partial"] else f"{e['epoch']}*", round(e["train_loss"], 4),
             round(e["val_loss"], 4), round(e["precision"], 3), round(e["recall"], 3),
             round(e["f1"], 3)] for e in st["epochs"]]


def per_type_rows(report: dict | None) -> list:
    if not report:
        return []
    return [[r["type"], round(r["precision"], 3), round(r["recall"], 3), round(r["f1"], 3),
             r["support"]] for r in report["per_type"]]


def summary_md(result: dict | None, lang: str) -> str:
    if not result:
        return ""
    r = result["report"]
    text = t("tok.summary", lang, f1=r["f1"], p=r["precision"], r=r["recall"], n=r["n"],
             entities=r["entities"], epoch=result["best_epoch"], base=r["baseline_f1"],
             secs=result["train_seconds"], name=result["name"], key=result["key"])
    if result["stopped"]:
        text = t("tok.summary_stopped", lang) + " " + text
    return text


def wrong_html(report: dict | None, labels: list, lang: str) -> str:
    """Each wrongly tagged validation sentence twice: the right tags, then the model's, with the
    words whose tag differs underlined."""
    if not report:
        return ""
    if not report["wrong"]:
        return f"<p>{html.escape(t('tok.wrong_none', lang))}</p>"
    types = sorted({lab[2:] for lab in labels if lab != "O"})
    colors = type_colors(types)
    items = []
    for row in report["wrong"]:
        bad = {i for i, (a, b) in enumerate(zip(row["true"], row["predicted"])) if a != b}
        items.append(f'<li><div><span class="tok-who" style="{WHO_STYLE}">{html.escape(t("tok.truth", lang))}</span> '
                     f'{highlight(row["words"], row["true"], colors)}</div>'
                     f'<div><span class="tok-who" style="{WHO_STYLE}">{html.escape(t("tok.model", lang))}</span> '
                     f'{highlight(row["words"], row["predicted"], colors, bad)}</div></li>')
    return (f'<div class="tok-wrong-list"><p>{legend(types, colors)} · '
            f'{html.escape(t("tok.wrong_legend", lang))}</p><ol>{"".join(items)}</ol></div>')


__all__ = ["COLORS", "TRAINING_CODE", "counts_figure", "data_md", "epochs_rows", "highlight",
           "notices_md", "per_type_rows", "preview_html", "summary_md", "wrong_html"]
