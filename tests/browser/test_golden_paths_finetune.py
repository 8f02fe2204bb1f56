"""Golden path of the Fine-tune tab, as a first-time user walks it, in an English and a Chinese
browser: open the tab, press "Use the sample", press Start with the defaults, wait for the end.
The validation accuracy shown must beat always-guessing-the-biggest-class by a clear margin,
the confusion matrix must be drawn with the right totals, and "Compare" on easy sentences must
give the right label, confidently. No test doubles: the app's own wiring, job and model. The
run trains the model once: the Chinese page attaches to the English page's finished job
(tests/browser/conftest.py start_or_attach), which tests/test_finetune_real.py checks too."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_or_attach

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3000)]

TAB = {"en": "Fine-tune", "zh": "微调"}
FINISHED = {"en": "Finished", "zh": "完成"}
TRAIN_TIMEOUT = 2400_000          # ms; about a minute on an idle 2-core machine


def open_tab(page, app_url, lang):
    page.goto(app_url)
    page.get_by_role("tab", name=TAB[lang]).click()
    expect(page.locator("#ft-sample")).to_be_visible()


def percentages(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)\s*%", text)]


def test_sample_start_finish_compare(lang_page, app_url, trained, artifacts):
    page, lang = lang_page, lang_page.lang
    open_tab(page, app_url, lang)
    # before any data: no empty axes or tables, a sentence saying what will appear
    expect(page.locator("#ft-data-box")).to_be_hidden()
    expect(page.locator("#ft-train-box")).to_be_hidden()
    expect(page.locator("#ft-results-box")).to_be_hidden()
    expect(page.locator("#ft-summary")).to_contain_text("confusion" if lang == "en" else "混淆矩阵")

    page.locator("#ft-sample").click()
    notes = page.locator("#ft-data-notes")
    expect(notes).to_contain_text("176 usable examples in 2 classes" if lang == "en"
                                  else "共 176 条可用样本，2 个类别", timeout=120_000)
    expect(notes).not_to_contain_text("[UNK]")                  # MiniLM reads all of the sample
    expect(page.locator("#ft-maxlen input[type=number]")).to_have_value("32")   # from the data
    expect(page.locator("#ft-preview")).to_contain_text("The ")
    expect(page.locator("#ft-counts .main-svg").first).to_be_visible()

    job_id = start_or_attach(page, trained, "classifier", "ft")
    assert re.match(r"^finetune-\w+", job_id), job_id
    expect(page.locator("#ft-status")).to_contain_text(FINISHED[lang], timeout=TRAIN_TIMEOUT)
    trained.record("classifier", job_id)

    summary = page.locator("#ft-summary").inner_text()
    acc, baseline = percentages(summary)[:2]
    assert baseline == pytest.approx(50.0) and acc >= baseline + 25, summary
    # the confusion matrix is drawn: both classes on its axes, cells adding up to the 36
    # validation sentences, most of them on the diagonal
    cm = page.locator("#ft-confusion")
    expect(cm.locator(".main-svg").first).to_be_visible()
    expect(cm).to_contain_text("positive")
    expect(cm).to_contain_text("negative")
    cells = [int(x) for x in cm.locator("text").all_text_contents() if x.strip().isdigit()]
    assert len(cells) == 4 and sum(cells) == 36 and sum(sorted(cells)[-2:]) >= 27, cells
    expect(page.locator("#ft-per-class")).to_contain_text("negative")
    expect(page.locator("#ft-loss .main-svg").first).to_be_visible()

    # Compare, on the easy sentence already in the box, then on a negative one
    expect(page.locator("#ft-tuned input")).not_to_have_value("")
    for sentence, label in [(None, "positive"), ("The food was cold and the waiter was rude.",
                                                 "negative")]:
        if sentence:
            page.locator("#ft-probe textarea").fill(sentence)
        page.locator("#ft-compare").click()
        top = page.locator("#ft-after .output-class")
        expect(top).to_have_text(label, timeout=300_000)
        confidences = percentages(page.locator("#ft-after").inner_text())
        assert confidences and max(confidences) >= 80, confidences
        expect(page.locator("#ft-before .output-class")).to_be_visible()
    body = page.locator("body").inner_text()
    assert "\ufffd" not in body
    if lang == "zh":
        assert "Finished" not in body and "完成" in body
    page.locator("#ft-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"finetune-golden-{lang}.png"), full_page=True)
