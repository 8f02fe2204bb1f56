"""Golden path of Fine-tune → "Teach the language model", as a first-time user walks it, in an
English and a Chinese browser: open the sub-tab, press "Use the sample", Start with the defaults,
wait for the end. The held-out prompts answered by the tuned model must follow the taught
format (one line of JSON, checked by models/training/sft/data.py `follows`) while the base's
answers do not, and "Ask both models" must show the same on a new prompt. No test doubles: the
app's own wiring, job and model (SmolLM2 taught with LoRA on this CPU: minutes). The run teaches
the model once: the Chinese page attaches to the English page's finished job
(tests/browser/conftest.py start_or_attach), which tests/test_sft_real.py checks too."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models.training.sft.data import follows
from tests.browser.conftest import start_or_attach
from tests.test_sft_real import BASE_FOLLOWS, TUNED_FOLLOWS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(5400)]

TAB = {"en": "Fine-tune", "zh": "微调"}
SUB = {"en": "Teach the language model", "zh": "教语言模型新本领"}
FINISHED = {"en": "Finished", "zh": "完成"}
MARK_OK = {"en": "✓ format · ", "zh": "✓ 格式 · "}
TRAIN_TIMEOUT = 2_400_000          # ms; a few minutes on an idle 2-core machine


def cells(page, selector: str) -> list[list[str]]:
    rows = []
    # Gradio 6 draws a Dataframe's rows as ARIA rows and cells (its <tbody> holds a spacer)
    for row in page.locator(f"{selector} [role=row]").all():
        rows.append([c.inner_text().strip()
                     for c in row.locator("[role=gridcell], [role=cell]").all()])
    return [r for r in rows if len(r) >= 3]


def test_sample_start_finish_side_by_side(lang_page, app_url, trained, artifacts):
    page, lang = lang_page, lang_page.lang
    page.goto(app_url)
    page.get_by_role("tab", name=TAB[lang]).click()
    page.get_by_role("tab", name=SUB[lang]).click()
    expect(page.locator("#sft-sample")).to_be_visible()
    expect(page.locator("#sft-train-box")).to_be_hidden()       # nothing drawn before training
    # the LoRA settings come with their plain-words explanation
    expect(page.locator("#sft-lora-explain")).to_contain_text("q_proj")

    page.locator("#sft-sample").click()
    expect(page.locator("#sft-data-notes")).to_contain_text("231", timeout=120_000)
    expect(page.locator("#sft-heldout textarea")).not_to_have_value("")
    mask = page.locator("#sft-mask")
    expect(mask.locator(".sft-on").first).to_be_visible()       # the answer's tokens, highlighted
    counted = "".join(mask.locator(".sft-on").all_text_contents())
    assert '"topic"' in counted and "user" not in counted, counted
    # the count needs the base's files: on a fresh machine they exist once the sample is read
    # (the packaged GGUF is converted once, models/core/manager.py)
    expect(page.locator("#sft-params")).to_contain_text("460,800", timeout=120_000)

    job_id = start_or_attach(page, trained, "sft", "sft")
    assert re.match(r"^sft-\w+", job_id), job_id
    expect(page.locator("#sft-loss .main-svg").first).to_be_visible(timeout=TRAIN_TIMEOUT)
    expect(page.locator("#sft-status")).to_contain_text(FINISHED[lang], timeout=TRAIN_TIMEOUT)
    trained.record("sft", job_id)

    # the table is redrawn with the status: wait until its rows hold the last evaluation
    expect(page.locator("#sft-side [role=row]").nth(1)).to_contain_text(re.compile(r"\S"),
                                                                        timeout=120_000)
    rows = cells(page, "#sft-side")
    assert len(rows) >= 6, rows
    tuned = [r[2].removeprefix(MARK_OK[lang]) for r in rows if r[2].startswith(MARK_OK[lang])]
    base_ok = [r for r in rows if r[1].startswith(MARK_OK[lang])]
    # what the marks say is what the checker says
    assert all(follows(t) for t in tuned)
    assert len(tuned) >= TUNED_FOLLOWS * len(rows), rows   # the tuned model follows the format...
    assert len(base_ok) <= BASE_FOLLOWS * len(rows), rows  # ...the base does not

    # ask both models a new question
    expect(page.locator("#sft-results-box")).to_be_visible()
    page.locator("#sft-probe textarea").fill("What is the capital of Portugal?")
    page.locator("#sft-try").click()
    tuned_box = page.locator("#sft-tuned-answer textarea")
    expect(tuned_box).not_to_have_value("", timeout=300_000)
    assert follows(tuned_box.input_value()), tuned_box.input_value()
    assert not follows(page.locator("#sft-base-answer textarea").input_value())
    body = page.locator("body").inner_text()
    assert "\ufffd" not in body
    if lang == "zh":
        assert "Finished" not in body and "完成" in body
    page.locator("#sft-side").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"sft-golden-{lang}.png"), full_page=True)
