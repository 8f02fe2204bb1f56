"""The app in Chromium: language switch, Models tab, streamed generation."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_language_switch_models_tab_and_streamed_generation(page, app_url, artifacts):
    page.goto(app_url)
    models_tab = page.get_by_role("tab", name="Models")
    expect(models_tab).to_be_visible()
    # the browser says English; switch to Chinese and back
    page.locator("#lang-radio").get_by_text("中文").click()
    expect(page.get_by_role("tab", name="模型")).to_be_visible()
    expect(page.get_by_role("tab", name="生成")).to_be_visible()
    page.locator("#lang-radio").get_by_text("English").click()
    expect(page.get_by_role("tab", name="Generate")).to_be_visible()

    # Models tab: the packaged models are listed; load SmolLM2
    models_tab.click()
    table = page.locator("#models-table")
    expect(table).to_contain_text("SmolLM2-135M-Instruct")
    expect(table).to_contain_text("all-MiniLM-L6-v2")
    expect(page.locator("#device-info")).to_contain_text("CPU")
    page.locator("#models-load").click()
    expect(page.locator("#models-message")).to_contain_text(re.compile(r"(Loaded|already loaded)"),
                                                             timeout=180_000)
    expect(table).to_contain_text("loaded")
    expect(page.locator("#mem-gauge")).to_contain_text("SmolLM2-135M-Instruct")

    # a folder without config.json gets a clear message, and the page keeps working
    page.locator("#models-add-box textarea, #models-add-box input").first.fill("/tmp")
    page.locator("#models-add").click()
    expect(page.get_by_text(re.compile("has no config.json"))).to_be_visible()
    page.screenshot(path=str(artifacts / "models.png"), full_page=True)

    # Generate tab: greedy, few tokens, output streams into the box
    page.get_by_role("tab", name="Generate").click()
    prompt = page.locator("#gen-prompt textarea")
    prompt.fill("What is the capital of France?")
    page.get_by_text("Sampling settings").click()
    page.get_by_label("Greedy (always the most likely token)").check()
    page.locator("#gen-run").click()
    output = page.locator("#gen-output textarea")
    expect(output).to_have_value(re.compile("Paris"), timeout=120_000)
    expect(page.locator("#gen-stats")).to_contain_text("tokens/s", timeout=60_000)
    expect(page.locator("#gen-stats")).to_contain_text("SmolLM2-135M-Instruct")
    page.screenshot(path=str(artifacts / "generate.png"), full_page=True)


def test_empty_prompt_shows_a_message(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Generate").click()
    page.locator("#gen-prompt textarea").fill("")
    page.locator("#gen-run").click()
    expect(page.get_by_text("The prompt is empty. Type some text first.")).to_be_visible()


def test_chinese_browser_gets_chinese_interface(browser, app_url):
    context = browser.new_context(locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(app_url)
        expect(pg.get_by_role("tab", name="模型")).to_be_visible(timeout=30_000)
        pg.locator("#gen-model input").click()           # model lists follow the language too
        expect(pg.get_by_role("option", name="gpt2 · 需要下载——当前离线")).to_be_visible()
    finally:
        context.close()


def test_a_model_added_later_appears_in_other_tabs_pickers(page, app_url, tiny_models):
    page.goto(app_url)
    page.get_by_role("tab", name="Models").click()
    page.locator("#models-add-box textarea, #models-add-box input").first.fill(str(tiny_models["gpt2"]))
    page.locator("#models-add").click()
    # the Hub's GPT-2 is already called "gpt2": one name per model, so this one is "gpt2 (2)"
    expect(page.locator("#models-message")).to_contain_text("Added gpt2 (2) as local:gpt2-2")
    page.get_by_role("tab", name="Generate").click()       # opening the tab refreshes its list
    page.locator("#gen-model input").click()
    expect(page.get_by_role("option", name="gpt2 (2)", exact=True)).to_be_visible()
    page.get_by_role("option", name="gpt2 (2)", exact=True).click()
    page.locator("#gen-prompt textarea").fill("the cat")
    page.get_by_label("Chat mode (use the model's chat template)").uncheck()
    page.locator("#gen-run").click()                       # 128 new tokens do not fit 128 positions
    expect(page.get_by_text("reads at most 128 tokens, so it cannot write 128 new ones")).to_be_visible()
    page.get_by_text("Sampling settings").click()
    max_new = page.locator("#gen-settings input[type=number]").first
    max_new.fill("8")
    max_new.press("Tab")
    expect(page.locator("#gen-settings input[type=range]").first).to_have_value("8")
    page.wait_for_timeout(500)                             # let the slider's change reach the app
    page.locator("#gen-run").click()
    expect(page.locator("#gen-stats")).to_contain_text("· gpt2 (2)", timeout=60_000)


def test_switching_language_keeps_what_the_user_typed(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Applications").click()
    box = page.locator("#sum-text textarea")
    expect(box).to_have_value(re.compile("Amazon"))           # the English example
    page.locator("#lang-radio").get_by_text("中文").click()
    expect(box).not_to_have_value(re.compile("Amazon"))       # untouched example follows the language
    box.fill("My own notes about photosynthesis.")
    page.locator("#lang-radio").get_by_text("English").click()
    expect(page.get_by_role("tab", name="Generate")).to_be_visible()
    expect(box).to_have_value("My own notes about photosynthesis.")
