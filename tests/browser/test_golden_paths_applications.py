"""Golden path of the Applications tab, as a first-time user in an English and in a Chinese
browser, on the packaged SmolLM2-135M-Instruct with the tab's defaults (the prompt formats
measured best on assets/eval/, see bench/bench_prompts.py):

- Answer questions: the pre-filled question is answered with the right entity, and the
  context marks exactly the answer (one mark, the entity, not another name of the context);
  with Greedy off the answer is still a marked piece of the context.
- Translate: the pre-filled Chinese sentence comes out in English, with the sentence's
  meaning (the packaged model translates nothing measured into Chinese right, so the default
  direction is Chinese → English); the Score button gives BLEU and chrF against a person's
  translation; English → Chinese comes out in Chinese characters with no "�"; asking for the
  same language twice says so next to the button.
- Summarize: the pre-filled text gives a summary shorter than the text, with a key word of
  the text, in the text's script, no "�" and no "SmolLM" echo; the Score button gives ROUGE;
  the medium (English browser) and long (Chinese browser) lengths work the same way.

Every check is on what the page shows. Screenshots go to tests/artifacts/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = 420_000          # ms: a generation on 2 shared cores, behind other users' requests
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")

W = {
    "en": {"tab": "Applications", "sum": "Summarize", "tr": "Translate", "qa": "Answer questions",
           "done": "tokens/s", "settings": "Sampling settings (all three tasks)",
           "greedy": "Greedy: always the most likely token (best for these tasks)",
           "length": "medium (2–3 sentences)", "en": "English", "zh": "Chinese",
           "same": "the same",
           # the pre-filled examples and what a right result holds
           "qa_entity": "Jane Austen", "qa_wrong": ("Elizabeth", "Bennet"),
           "sum_keys": ("Amazon", "rainforest", "forest"),
           "sum_ref": "The Amazon, the largest tropical rainforest, is threatened by "
                      "deforestation from ranching and farming.",
           "tr_ref": "The weather is very nice today.", "tr_keys": ("today", "weather", "day"),
           "tr_there": "The weather is nice today, so we are going to the park after school."},
    "zh": {"tab": "应用", "sum": "摘要", "tr": "翻译", "qa": "问答", "done": "每秒",
           "settings": "采样设置（三个任务通用）",
           "greedy": "贪心：总是选最可能的词元（最适合这些任务）",
           "length": "长（一段）", "en": "英语", "zh": "中文", "same": "相同",
           "qa_entity": "中国", "qa_wrong": ("山海关", "嘉峪关"),
           "sum_keys": ("亚马逊", "雨林", "森林"),
           "sum_ref": "亚马逊雨林是世界最大的热带雨林，正受到养牛和农业造成的砍伐威胁。",
           "tr_ref": "The weather is very nice today.", "tr_keys": ("today", "weather", "day"),
           "tr_there": "The weather is nice today, so we are going to the park after school."},
}


def _open(page, app_url, w):
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"], exact=True).click()


def _value(page, selector: str) -> str:
    return page.locator(f"{selector} textarea").input_value()


def _run(page, prefix: str, w) -> str:
    """Press the sub-tab's main button; wait until the run is finished (the stats line starts
    with ✓ only then; it shows the figures while tokens stream too); return the output."""
    stats = page.locator(f"#{prefix}-stats")
    page.locator(f"#{prefix}-run").click()
    expect(stats).not_to_contain_text("✓", timeout=LONG)          # the last run's is cleared
    expect(stats).to_contain_text("✓", timeout=LONG)
    expect(stats).to_contain_text(w["done"])
    expect(page.locator(f"#{prefix}-msg")).to_have_text("")
    return _value(page, f"#{prefix}-output")


def _clean_text(text: str) -> None:
    assert text.strip(), "empty output"
    assert "\ufffd" not in text, f"broken character in {text!r}"
    assert "smollm" not in text.lower() and "smollam" not in text.lower(), text


def _marked(page) -> list[str]:
    where = page.locator("#qa-where")
    expect(where.locator("mark")).to_have_count(1, timeout=LONG)
    return [m.inner_text() for m in where.locator("mark").all()]


def test_answer_questions_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, W[lang_page.lang]
    _open(page, app_url, w)
    page.get_by_role("tab", name=w["qa"], exact=True).click()
    context = _value(page, "#qa-context")
    assert w["qa_entity"] in context
    answer = _run(page, "qa", w)
    _clean_text(answer)
    assert w["qa_entity"] in answer, answer
    mark, = _marked(page)
    assert mark.strip() == answer.strip(" .。"), (mark, answer)      # exactly the answer
    assert w["qa_entity"] in mark and not any(x in mark for x in w["qa_wrong"]), mark
    assert len(mark) <= len(w["qa_entity"]) + 12, mark               # the entity, not a sentence
    if lang_page.lang == "zh":
        assert _CJK.search(answer), f"a Chinese question answered in another script: {answer!r}"
    page.locator("#qa-sent-box").get_by_text(
        "The prompt actually sent" if lang_page.lang == "en" else "实际发送给模型的提示词").click()
    expect(page.locator("#qa-how")).to_contain_text("Context: … Question: … Answer:")
    page.screenshot(path=str(artifacts / f"apps_answer_{lang_page.lang}.png"), full_page=True)

    # Greedy off: the sampled answer is still a piece of the context, marked where it is
    page.locator("#apps-settings").get_by_text(w["settings"]).click()
    page.get_by_label(w["greedy"]).uncheck()
    sampled = _run(page, "qa", w)
    _clean_text(sampled)
    mark, = _marked(page)
    assert sampled.strip(" .。") == mark.strip() and mark.strip() in context
    page.locator("#qa-insight-box").get_by_text(t("apps.insight", lang_page.lang)).click()
    expect(page.locator("#qa-insight details").first).to_be_attached()


def test_translate_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, W[lang_page.lang]
    _open(page, app_url, w)
    page.get_by_role("tab", name=w["tr"], exact=True).click()
    source = _value(page, "#tr-text")
    assert _CJK.search(source) and not _LATIN.search(source)        # Chinese → English
    out = _run(page, "tr", w)
    _clean_text(out)
    assert _LATIN.search(out) and not _CJK.search(out), f"not English: {out!r}"
    assert any(k in out.lower() for k in w["tr_keys"]), out
    assert len(out) < 8 * len(source)
    # Score (BLEU, chrF) against a reference translation written by a person
    page.locator("#tr-quality").get_by_text(
        "Quality against a reference" if lang_page.lang == "en" else "与参考答案比较质量").click()
    page.locator("#tr-reference textarea").fill(w["tr_ref"])
    page.locator("#tr-score").click()
    scores = page.locator("#tr-scores")
    expect(scores).to_contain_text("chrF", timeout=60_000)
    chrf = float(re.search(r"chrF\**\s*([\d.]+)", scores.inner_text()).group(1))
    bleu = float(re.search(r"BLEU\**\s*([\d.]+)", scores.inner_text()).group(1))
    assert 0 < chrf <= 100 and 0 <= bleu <= 100
    page.screenshot(path=str(artifacts / f"apps_translate_{lang_page.lang}.png"), full_page=True)

    # English → Chinese: swap the languages, type an English sentence
    _pick(page, "#tr-source", w["en"])
    _pick(page, "#tr-target", w["zh"])
    page.locator("#tr-text textarea").fill(w["tr_there"])
    there = _run(page, "tr", w)
    _clean_text(there)
    cjk, latin = len(_CJK.findall(there)), len(_LATIN.findall(there))
    assert cjk >= 5 and latin <= cjk // 4, f"not Chinese: {there!r}"

    # the same language twice: a message next to the button, and the old translation is gone
    _pick(page, "#tr-source", w["zh"])
    page.locator("#tr-run").click()
    expect(page.locator("#tr-msg")).to_contain_text(w["same"], timeout=60_000)
    expect(page.locator("#tr-output textarea")).to_have_value("")


def _pick(page, selector: str, option: str) -> None:
    page.locator(f"{selector} input").click()
    page.locator(selector).get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"{selector} input")).to_have_value(option)


def test_summarize_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, W[lang_page.lang]
    _open(page, app_url, w)
    text = _value(page, "#sum-text")
    summary = _run(page, "sum", w)

    def check(out: str) -> None:
        _clean_text(out)
        assert len(out) < len(text), "the summary is not shorter than the text"
        assert any(k in out for k in w["sum_keys"]), f"no key word of the text in {out!r}"
        if lang_page.lang == "zh":
            assert len(_CJK.findall(out)) > len(_LATIN.findall(out)), f"not Chinese: {out!r}"
        else:
            assert not _CJK.search(out)
    check(summary)
    # Score (ROUGE) against a reference summary
    page.locator("#sum-quality").get_by_text(
        "Quality against a reference" if lang_page.lang == "en" else "与参考答案比较质量").click()
    page.locator("#sum-reference textarea").fill(w["sum_ref"])
    page.locator("#sum-score").click()
    scores = page.locator("#sum-scores")
    expect(scores).to_contain_text("ROUGE-L", timeout=60_000)
    rouge1 = float(re.search(r"ROUGE-1\**\s*([\d.]+)", scores.inner_text()).group(1))
    assert 0 < rouge1 <= 100
    page.screenshot(path=str(artifacts / f"apps_summary_{lang_page.lang}.png"), full_page=True)

    # a longer summary: medium in the English browser, long in the Chinese one
    page.locator("#sum-length").get_by_text(w["length"]).click()
    longer = _run(page, "sum", w)
    check(longer)
