"""Golden path of the Pre-training tab, as a first-time user in an English and in a Chinese
browser, with the app's own wiring and the packaged models:

- Embedding space: the pre-filled example set (in the user's language) and "Embed": the nearest
  neighbour of the first sentence is the one a person would pick; the other language's example
  button, t-SNE and an uploaded list work too.
- What the model predicts: the pre-filled text and "Score every token": the perplexity is
  shown, "banana"/"香蕉" surprises the model more than "Berlin"/"东京", the position slider
  shows what the model expected after a token.
- Train a tiny model: Start with the defaults (a corpus in the user's language); a page reload
  follows the job by itself; Stop and Resume through the buttons; the loss falls; the last
  sample is better than the step-0 one and no sample shows "�"; the status line never shows
  Gradio's timer.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from models.runners.token_text import PARTIAL

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {
    "en": {"tab": "Pre-training", "embed": "Embedding space", "predict": "What the model predicts",
           "train": "Train a tiny model", "example": "kitten", "first": "The cat is sleeping on the sofa.",
           "neighbour": "A kitten naps on the couch.", "stats": "13 sentences · 384 dimensions",
           "other_first": "猫在沙发上睡觉。", "unk": "unknown",
           "ppl": "Perplexity", "surprise": " banana", "expected": " Berlin", "after": "After",
           "actual": "actual next token", "running": re.compile(r"Step \d+/300"),
           "stopped": "Stopped at step", "done": "Done: 300 steps", "corpus": "English",
           "tsne": "t-SNE axis 1"},
    "zh": {"tab": "预训练", "embed": "向量空间", "predict": "模型在预测什么",
           "train": "从零训练一个小模型", "example": "小猫", "first": "猫在沙发上睡觉。",
           "neighbour": "一只小猫在长椅上打盹。", "stats": "12 个句子 · 384 维",
           "other_first": "The cat is sleeping on the sofa.",
           "unk": "未知", "ppl": "困惑度", "surprise": "香蕉", "expected": "东京", "after": "之后",
           "actual": "实际的下一个词元", "running": re.compile(r"第 \d+/300 步"),
           "stopped": "在第", "done": "完成：300 步", "corpus": "中文", "tsne": "t-SNE 第 1 轴"},
}
# Gradio's progress text ("processing | 0.4/0.7s") shown (not hidden) over a polled output
TIMER_SHOWN = """() => [...document.querySelectorAll(
  '#pre-status .wrap, #pre-loss .wrap, #pre-samples .wrap')].filter(w =>
  !w.classList.contains('hide') && w.querySelector('.meta-text, .meta-text-center, .eta-bar'))
  .map(w => w.textContent.trim())"""


def _client(app_url):
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from gradio_client import Client
    return Client(app_url, verbose=False)


def _open(page, app_url, w, sub: str):
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"], exact=True).click()
    page.get_by_role("tab", name=w[sub], exact=True).click()


def test_embedding_space_golden_path(lang_page, app_url, artifacts, tmp_path):
    page, w = lang_page, WORDS[lang_page.lang]
    _open(page, app_url, w, "embed")
    sentences = page.locator("#pre-sentences textarea")
    expect(sentences).to_have_value(re.compile(w["example"]))       # the user's language
    page.locator("#pre-embed-run").click()
    rows = page.locator("#pre-neighbours tbody tr")
    expect(rows.first).to_contain_text(w["neighbour"], timeout=180_000)
    expect(page.locator("#pre-nb-title")).to_contain_text(w["first"])
    expect(page.locator("#pre-embed-notice")).to_contain_text(w["stats"])
    expect(page.locator("#pre-heatmap .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#pre-map .main-svg").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(artifacts / f"golden-pretrain-embed-{page.lang}.png"), full_page=True)

    # the other language's examples with a t-SNE map; MiniLM's [UNK] is said in the UI language
    page.locator("#pre-ex-zh" if page.lang == "en" else "#pre-ex-en").click()
    expect(sentences).to_have_value(re.compile(re.escape(w["other_first"])))
    page.get_by_label("t-SNE").check()
    page.locator("#pre-embed-run").click()
    expect(page.locator("#pre-nb-title")).to_contain_text(w["other_first"], timeout=120_000)
    expect(page.locator("#pre-map")).to_contain_text(w["tsne"])
    if page.lang == "en":     # the Chinese set, read by an English vocabulary
        expect(page.locator("#pre-embed-notice")).to_contain_text("unknown")

    # an uploaded list (CSV: sentence,label) replaces the box
    listing = tmp_path / "list.csv"
    listing.write_text("The train was late again,travel\nOur flight was delayed by an hour,travel\n"
                       "I baked a chocolate cake,food\nShe cooked pasta for dinner,food\n",
                       encoding="utf-8")
    page.locator("#pre-upload-list input[type=file]").set_input_files(str(listing))
    page.get_by_label("PCA").check()
    page.locator("#pre-embed-run").click()
    expect(page.locator("#pre-nb-title")).to_contain_text("The train was late again", timeout=120_000)
    expect(rows.first).to_contain_text("Our flight was delayed")


def _token_surprisals(page) -> tuple[str, list[tuple[int, int, float]]]:
    """The shown text and (start, end, surprisal) per shown piece; a thin bar (first bytes of a
    character) counts with the character after it."""
    spans = page.locator("#pre-tokens .pre-tok").evaluate_all(
        "els => els.map(e => [e.textContent, e.getAttribute('title')])")
    text, out, pending = "", [], 0.0
    for tok, title in spans:
        m = re.search(r"−ln p = ([0-9.]+)", title or "")
        s = float(m.group(1)) if m else 0.0
        if not tok:
            pending += s
            continue
        out.append((len(text), len(text) + len(tok), s + pending))
        text, pending = text + tok, 0.0
    return text, out


def _word(text, spans, word) -> float:
    i = text.rindex(word)
    return sum(s for a, b, s in spans if a < i + len(word) and b > i)


def test_what_the_model_predicts_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, WORDS[lang_page.lang]
    _open(page, app_url, w, "predict")
    page.locator("#pre-score").click()
    ppl = page.locator("#pre-ppl")
    expect(ppl).to_contain_text(w["ppl"], timeout=300_000)
    value = float(re.search(r"([0-9]+\.[0-9]+)", ppl.inner_text()).group(1))
    assert 1.0 < value < 100.0
    text, spans = _token_surprisals(page)
    assert PARTIAL not in text and "\ufffd" not in text
    assert _word(text, spans, w["surprise"]) > 1.5 * _word(text, spans, w["expected"])
    expect(page.locator("#pre-surprisal-plot .main-svg").first).to_be_visible(timeout=60_000)
    expect(page.locator("#pre-topk .main-svg").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(artifacts / f"golden-pretrain-predict-{page.lang}.png"), full_page=True)

    # the slider: after the token just before the predictable word, that word is the model's pick
    before = next(k for k, (a, b, _s) in enumerate(spans) if b == text.rindex(w["expected"]))
    index = page.locator("#pre-tokens .pre-tok").evaluate_all(
        "els => els.map(e => e.textContent.length > 0)")
    pos = [k for k, shown in enumerate(index) if shown][before]
    box = page.locator("#pre-position input[type=number]")
    box.fill(str(pos))
    box.press("Enter")
    expect(page.locator("#pre-topk .gtitle")).to_contain_text(w["after"], timeout=30_000)
    expect(page.locator("#pre-actual")).to_contain_text(w["actual"])
    rank = int(re.search(r"(\d+)\D*$", page.locator("#pre-actual").inner_text()).group(1))
    # expected: the model's first choices (Chinese: the first bytes of 东, among its top 10)
    assert rank <= (3 if page.lang == "en" else 10)


def _sample_quality(sample: str, corpus: str, lang: str) -> float:
    """English: share of words that are corpus words; Chinese: share of character trigrams
    found in the corpus (what a reader sees as "real words")."""
    if lang == "en":
        vocab = set(re.findall(r"[a-z']+", corpus.lower()))
        words = re.findall(r"[a-z']+", sample.lower())
        return sum(x in vocab for x in words) / max(1, len(words))
    s, c = re.sub(r"\s+", "", sample), re.sub(r"\s+", "", corpus)
    grams = [s[i:i + 3] for i in range(len(s) - 2)]
    return sum(g in c for g in grams) / max(1, len(grams))


def test_train_a_tiny_model_golden_path(lang_page, app_url, artifacts):
    from models.training.pretrain import loop as pt
    page, w = lang_page, WORDS[lang_page.lang]
    _open(page, app_url, w, "train")
    expect(page.locator("#pre-corpus input")).to_have_value(re.compile(w["corpus"]))
    page.locator("#pre-start").click()
    job_box = page.locator("#pre-job-id textarea, #pre-job-id input").first
    expect(job_box).to_have_value(re.compile("^pretrain-"), timeout=60_000)
    job_id = job_box.input_value()
    status = page.locator("#pre-status")
    expect(status).to_contain_text(w["running"], timeout=120_000)
    for _ in range(12):                                  # polled: never Gradio's timer text
        assert page.evaluate(TIMER_SHOWN) == []
        page.wait_for_timeout(250)

    # a reload follows the job by itself (the id is kept in this browser)
    page.reload()
    page.get_by_role("tab", name=w["tab"], exact=True).click()
    page.get_by_role("tab", name=w["train"], exact=True).click()
    expect(job_box).to_have_value(job_id, timeout=30_000)
    expect(status).to_contain_text(w["running"], timeout=30_000)

    # Stop, then Resume, through the buttons
    page.locator("#pre-stop").click()
    for _ in range(6):
        assert page.evaluate(TIMER_SHOWN) == []
        page.wait_for_timeout(150)
    expect(status).to_contain_text(w["stopped"], timeout=120_000)
    stopped_at = int(re.search(r"(\d+)", status.inner_text()).group(1))
    assert 0 < stopped_at < 300
    page.locator("#pre-resume").click()
    expect(job_box).not_to_have_value(job_id, timeout=60_000)
    expect(status).to_contain_text(w["done"], timeout=600_000)
    page.screenshot(path=str(artifacts / f"golden-pretrain-train-{page.lang}.png"), full_page=True)

    data = _client(app_url).predict(job_box.input_value(), page.lang,
                                    api_name="/pretrain_status")[3]
    losses = [loss for _step, loss in data["loss"]]
    assert data["status"] == "done" and losses[-1] < 0.3 * losses[0]
    samples = dict((int(s), x) for s, x in data["samples"])
    assert 0 in samples and 300 in samples             # the resumed job shows the whole run
    assert not any("\ufffd" in x for x in samples.values())
    corpus = pt.read_corpus(pt.bundled_corpora()["english" if page.lang == "en" else "chinese"]).text
    first, last = (_sample_quality(samples[k], corpus, page.lang) for k in (0, 300))
    assert last > first + 0.2 and last > 0.8, (samples[0], samples[300])
    expect(page.locator("#pre-samples")).to_contain_text(samples[300][:20])
