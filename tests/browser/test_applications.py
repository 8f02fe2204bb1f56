"""The Applications tab in Chromium on the packaged SmolLM2, beyond the golden path
(tests/browser/test_golden_paths_applications.py): the honest "a better model needs a
download" notes, the generation insight opens on a click with the 5 candidates of a step,
user text in the context is shown as text (never run as HTML) while the answer is marked,
"See attention" opens the lab on this input, and an empty text gets its message next to the
button."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVIL = "<img src=x onerror=alert(1)>"


def test_summarize_translate_answer_from_the_ui(page, app_url, artifacts):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.get_by_role("tab", name="Applications").click()

    # Summarize the pre-filled example: streamed summary, stats, prompt sent, insight
    expect(page.locator("#sum-text textarea")).to_have_value(re.compile("Amazon rainforest"))
    expect(page.locator("#sum-advice")).to_contain_text("needs a download")
    page.locator("#sum-run").click()
    expect(page.locator("#sum-stats")).to_contain_text("tokens/s", timeout=240_000)
    expect(page.locator("#sum-output textarea")).to_have_value(re.compile(r"\w{3}"))
    page.locator("#sum-insight-box").get_by_text("Generation insight").click()
    first = page.locator("#sum-insight details").first
    expect(first).to_be_visible(timeout=120_000)       # filled in when the summary is done
    first.locator("summary").click()
    expect(first.locator("table")).to_be_visible()
    expect(first.locator("table")).to_contain_text("model")
    assert first.locator("tr").count() >= 6          # header + the 5 candidates
    page.screenshot(path=str(artifacts / "applications.png"), full_page=True)

    # Translate: the note says honestly that the packaged model translates poorly (the
    # translation itself is checked in the golden path)
    page.get_by_role("tab", name="Translate").click()
    expect(page.locator("#tr-advice")).to_contain_text("translates poorly")
    expect(page.locator("#tr-advice")).not_to_contain_text("opus-mt-en-zh")   # Chinese → English
    for box, option in (("#tr-source", "English"), ("#tr-target", "Chinese")):
        page.locator(f"{box} input").click()
        page.locator(box).get_by_role("option", name=option, exact=True).click()
    expect(page.locator("#tr-advice")).to_contain_text("opus-mt-en-zh")       # follows the pair

    # Answer: the context is shown (escaped) with the answer marked if it is found there
    page.get_by_role("tab", name="Answer questions").click()
    page.locator("#qa-question textarea").fill("What is the capital of Kenya?")
    page.locator("#qa-context textarea").fill(
        f"Kenya is a country in East Africa. Its capital is Nairobi. {EVIL}")
    page.locator("#qa-run").click()
    expect(page.locator("#qa-stats")).to_contain_text("tokens/s", timeout=240_000)
    expect(page.locator("#qa-output textarea")).to_have_value("Nairobi", timeout=120_000)
    where = page.locator("#qa-where")
    expect(where).to_contain_text(EVIL)
    expect(where.locator("mark")).to_have_count(1, timeout=120_000)    # marked when done
    expect(where.locator("mark")).to_have_text("Nairobi")
    assert page.locator("img[src='x']").count() == 0 and not dialogs
    page.screenshot(path=str(artifacts / "applications_answer.png"), full_page=True)

    # "See attention for this output" opens the Attention lab on this input
    page.locator("#qa-attention").click()
    expect(page.locator("#att-text textarea")).to_have_value(re.compile("capital of Kenya"))

    # the Chinese interface relabels the sub-tasks
    page.locator("#lang-radio").get_by_text("中文").click()
    page.get_by_role("tab", name="应用").click()
    expect(page.get_by_role("tab", name="摘要")).to_be_visible()
    expect(page.locator("#sum-advice")).to_contain_text("需要下载")


def test_empty_text_gets_a_message_next_to_the_button(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Applications").click()
    page.locator("#sum-text textarea").fill("")
    page.locator("#sum-run").click()
    expect(page.locator("#sum-msg")).to_contain_text("The text is empty. Type some text first.")
    expect(page.locator("#sum-output textarea")).to_have_value("")
