"""Golden path of the Models tab and the shell, as a first-time user in an English and in a
Chinese browser: the real state is shown when the tab opens, Load / Unload / Refresh work,
a model the user added can be deleted after a confirmation (files the app made are removed,
a folder of the user's is only forgotten), an error shows once, next to the buttons, in the
user's language; and Gradio's own words follow the language switch."""
from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {
    "en": {"tab": "Models", "loaded": "loaded", "Loaded": re.compile("Loaded|already loaded"),
           "unloaded": "Unloaded SmolLM2", "added": "Added {name} as", "deleted": "Deleted {name} and its files",
           "forgotten": "Removed {name} from the list", "no_config": "has no config.json",
           "mem": "Memory used"},
    "zh": {"tab": "模型", "loaded": "已加载", "Loaded": re.compile("已加载|已经加载"),
           "unloaded": "已卸载 SmolLM2", "added": "已添加 {name}", "deleted": "已删除 {name} 及其文件",
           "forgotten": "已把 {name} 移出列表", "no_config": "中没有 config.json",
           "mem": "已加载模型占用的内存"},
}


def _pick(page, key: str) -> None:
    box = page.locator("#models-pick input")
    box.fill(key)
    box.press("Enter")
    page.wait_for_timeout(300)


def test_models_tab_golden_path(lang_page, app_url, artifacts, tiny_models, real_cache, tmp_path):
    page, w = lang_page, WORDS[lang_page.lang]
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"]).click()
    table, gauge = page.locator("#models-table"), page.locator("#mem-gauge")
    expect(table).to_contain_text("SmolLM2-135M-Instruct", timeout=30_000)
    expect(gauge).to_contain_text(w["mem"])

    # Load the pre-selected model (SmolLM2): the table, gauge and message agree
    page.locator("#models-load").click()
    expect(page.locator("#models-message")).to_contain_text(w["Loaded"], timeout=180_000)
    expect(table.locator("tr", has_text="SmolLM2-135M-Instruct")).to_contain_text(w["loaded"])
    expect(gauge).to_contain_text("SmolLM2-135M-Instruct")
    expect(gauge).not_to_contain_text(re.compile(r"^\D*0 B /"))
    page.screenshot(path=str(artifacts / f"golden-models-{page.lang}.png"), full_page=True)

    # Unload, then Refresh: it is no longer in memory
    page.locator("#models-unload").click()
    expect(page.locator("#models-message")).to_contain_text(w["unloaded"])
    page.locator("#models-refresh").click()
    expect(gauge).not_to_contain_text("SmolLM2-135M-Instruct")

    # An error appears once, under the buttons, in the user's language; nothing else changes
    add_box = page.locator("#models-add-box textarea, #models-add-box input").first
    add_box.fill("/tmp")
    page.locator("#models-add").click()
    expect(page.locator("#models-error")).to_contain_text(w["no_config"])
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(table).to_contain_text("SmolLM2-135M-Instruct")

    # A folder of the user's: added, then deleted after confirming -> only forgotten
    mine = shutil.copytree(tiny_models["gpt2"], tmp_path / f"my-gpt2-{page.lang}")
    add_box.fill(str(mine))
    page.locator("#models-add").click()
    expect(page.locator("#models-message")).to_contain_text(w["added"].format(name=mine.name))
    expect(page.locator("#models-error [role=alert]")).to_have_count(0)   # the old error is gone
    page.locator("#models-delete").click()
    expect(page.locator("#models-confirm")).to_be_visible()
    page.locator("#models-delete-no").click()                    # cancel keeps it
    expect(page.locator("#models-confirm")).to_be_hidden()
    expect(table).to_contain_text(f"local:my-gpt2-{page.lang}")
    page.locator("#models-delete").click()
    page.locator("#models-delete-yes").click()
    expect(page.locator("#models-message")).to_contain_text(w["forgotten"].format(name=mine.name))
    expect(table).not_to_contain_text(f"local:my-gpt2-{page.lang}")
    assert (mine / "config.json").exists()                       # the user's folder is untouched

    # A model the app made (inside its cache folder): deleting removes its files
    made = shutil.copytree(tiny_models["gpt2"], real_cache / "finetuned" / f"made-{page.lang}")
    add_box.fill(str(made))
    page.locator("#models-add").click()
    expect(page.locator("#models-message")).to_contain_text(w["added"].format(name=made.name))
    page.locator("#models-delete").click()
    page.locator("#models-delete-yes").click()
    expect(page.locator("#models-message")).to_contain_text(w["deleted"].format(name=made.name))
    assert not made.exists()


def test_packaged_model_cannot_be_deleted(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Models").click()
    page.locator("#models-delete").click()                       # SmolLM2 is pre-selected
    expect(page.locator("#models-message")).to_contain_text("comes with the app and cannot be deleted")
    expect(page.locator("#models-confirm")).to_be_hidden()


def test_gradio_words_follow_the_language_switch(page, app_url):
    """An English browser switched to Chinese: Gradio's own words (the upload box) are Chinese
    too in the parts of the page drawn after the switch."""
    page.goto(app_url)
    page.locator("body[data-lang-ready]").wait_for(state="attached")   # language decided
    page.locator("#lang-radio").get_by_text("中文").click()
    expect(page.get_by_role("tab", name="微调")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="微调").click()
    expect(page.locator("#ft-upload")).to_contain_text("将文件拖放到此处")
    expect(page.locator("#ft-upload")).to_contain_text("带标签的数据")
