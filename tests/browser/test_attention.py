"""The Attention lab in Chromium against the real app with the packaged MiniLM: the heatmap
renders, a head opens from the overview, bertviz draws its SVG inside the sandboxed iframe with
no request leaving the machine (the `page` fixture fails the test otherwise), the walkthrough
shows its verification line, and an HTML-injection token shows as text and runs nothing."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVIL = "<img src=x onerror=alert(1)>"


def test_attention_lab_end_to_end(page, app_url, artifacts):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.get_by_role("tab", name="Attention").click()

    text = page.locator("#att-text textarea")
    text.fill(f"The cat sat on the mat. {EVIL}")
    expect(text).to_have_value(f"The cat sat on the mat. {EVIL}")
    page.locator("#att-target textarea").fill("It was tired.")
    page.locator("#att-run").click()

    heat = page.locator("#att-heatmap")
    expect(heat.locator(".main-svg").first).to_be_visible(timeout=120_000)
    expect(heat).to_contain_text("layer 0 · head 0")
    expect(heat).to_contain_text("cat")
    expect(heat).to_contain_text("<")                 # the token is drawn as text...
    assert page.locator("img[src='x']").count() == 0  # ...and never becomes an element
    expect(page.locator("#att-info")).to_contain_text("6 layers × 12 heads")

    # overview: click the cell of layer 3, head 5 -> the heatmap opens that head
    page.get_by_role("tab", name="Overview of all heads").click()
    grid = page.locator("#att-overview")
    expect(grid).to_contain_text("H11")
    grid.locator("[role=row][data-index='3'] [role=gridcell]").nth(6).click()
    expect(heat).to_contain_text("layer 3 · head 5", timeout=30_000)
    expect(page.locator("#att-layer input[type=number]")).to_have_value("3")

    # bertviz inside the sandboxed iframe, with vendored d3/jQuery only
    page.get_by_role("tab", name="bertviz").click()
    page.locator("#att-bv-draw").click()
    frame = page.frame_locator("#att-bv-frame iframe")
    expect(frame.locator("svg").first).to_be_visible(timeout=60_000)
    expect(frame.locator("svg text").first).to_be_attached()
    expect(frame.locator("#vis")).to_contain_text("cat")
    expect(page.locator("#att-bv-note")).to_contain_text("every layer")
    assert frame.locator("img").count() == 0
    expect(page.locator("#att-bv-file")).to_contain_text(".html")
    page.locator("#att-bv-frame").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "attention_bertviz.png"))   # full_page skips iframes

    # formula walkthrough with its verification line
    page.get_by_role("tab", name="Formula walkthrough").click()
    page.locator("#att-walk-run").click()
    verify = page.locator("#att-verify")
    expect(verify).to_contain_text("Verified", timeout=120_000)
    diff = re.search(r"difference\s+([0-9.e+-]+)", verify.inner_text())
    assert diff and float(diff.group(1)) < 1e-4
    expect(page.locator("#att-walk-md .katex").first).to_be_visible()
    expect(page.locator("#att-walk-plot .main-svg").first).to_be_visible()
    page.screenshot(path=str(artifacts / "attention_walkthrough.png"), full_page=True)

    page.get_by_role("tab", name="Heatmap").click()
    page.locator("#att-csv-btn").click()
    expect(page.locator("#att-csv a").first).to_have_attribute("href", re.compile(r"attention_self_L3_H5\.csv$"))
    page.screenshot(path=str(artifacts / "attention.png"), full_page=True)
    assert dialogs == [], f"a token ran script: {dialogs}"


def test_attention_bad_input_gets_a_message(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Attention").click()
    page.locator("#att-text textarea").fill("   ")
    page.locator("#att-run").click()
    expect(page.get_by_text("empty").first).to_be_visible(timeout=60_000)


def test_decoder_continuation_rows(page, app_url):
    """SmolLM2: prompt + continuation, each continuation token's attention over the input."""
    page.goto(app_url)
    page.get_by_role("tab", name="Attention").click()
    page.locator("#att-model input").fill("smollm2")
    page.locator("#att-model input").press("Enter")
    page.locator("#att-text textarea").fill("Paris is the capital of")
    page.locator("#att-target textarea").fill("France.")
    page.locator("#att-run").click()
    info = page.locator("#att-info")
    expect(info).to_contain_text("30 layers × 9 heads", timeout=180_000)
    expect(info).to_contain_text("share 3 key/value heads")
    expect(info).to_contain_text("continuation starts at token")
    only = page.locator("#att-only-new input")
    expect(only).to_be_visible()
    only.check()
    heat = page.locator("#att-heatmap")
    expect(heat).to_contain_text("France", timeout=30_000)
    # the rows are now only the continuation: the prompt's first word is no longer a row label
    rows = heat.locator(".yaxislayer-above text")
    expect(rows.first).not_to_have_text("Paris", timeout=30_000)


def test_language_switch_relabels_the_drawn_head(page, app_url):
    """After a run, switching to Chinese retitles the heatmap and the info line."""
    page.goto(app_url)
    page.get_by_role("tab", name="Attention").click()
    page.locator("#att-run").click()
    expect(page.locator("#att-info")).to_contain_text("6 layers × 12 heads", timeout=120_000)
    page.get_by_label("中文").check()
    expect(page.locator("#att-info")).to_contain_text("6 层 × 12 个头", timeout=30_000)
    expect(page.locator("#att-info")).to_contain_text("编码器")
    expect(page.locator("#att-heatmap .gtitle")).to_have_text("自注意力 · 第 0 层 · 第 0 个头",
                                                               timeout=30_000)
