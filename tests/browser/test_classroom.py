"""The classroom in Chromium, in English and Chinese: a teacher logs in through the login page
and sees the Teacher tab (who is connected, the device, the jobs) and the Models tab's
load/unload; a student logs in and sees neither."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import _guarded_page
from tests.classroom import PASSWORDS, classroom_app  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEACHER_TAB = {"en": "Teacher", "zh": "教师"}
MODELS_TAB = {"en": "Models", "zh": "模型"}
CONNECTED = {"en": "Connected now", "zh": "当前在线"}


def _log_in(page, url: str, name: str) -> None:
    """Through Gradio's login page, as a person would."""
    page.context.clear_cookies()
    Page.goto(page, url)     # the login form (not the app yet: no language mark to wait for)
    page.locator("input[type=password]").wait_for()
    page.locator("input:not([type=password])").first.fill(name)
    page.locator("input[type=password]").fill(PASSWORDS[name])
    page.locator("button").filter(has_text=re.compile("log ?in|登录", re.IGNORECASE)).first.click()
    page.locator("body[data-lang-ready]").wait_for(state="attached", timeout=120_000)
    if page.lang == "zh":       # the language switch, as a person would press it
        page.locator("#lang-radio").get_by_text("中文").click()
        expect(page.get_by_role("tab", name="生成")).to_be_visible()


@pytest.fixture(params=["en", "zh"])
def class_page(request, browser, classroom_app):  # noqa: F811
    pages = _guarded_page(browser, "en-US" if request.param == "en" else "zh-CN")
    pg = next(pages)
    pg.lang = request.param
    yield pg
    next(pages, None)


def test_teacher_and_student_see_what_their_role_allows(class_page, classroom_app,  # noqa: F811
                                                        artifacts):
    page, lang, url = class_page, class_page.lang, classroom_app.url
    # the teacher: the Teacher tab, the connected list with their own name, load/unload
    _log_in(page, url, "tess")
    teacher_tab = page.get_by_role("tab", name=TEACHER_TAB[lang])
    expect(teacher_tab).to_be_visible(timeout=60_000)
    teacher_tab.click()
    page.locator("#teach-refresh").click()
    people = page.locator("#teach-people")
    expect(people).to_contain_text(CONNECTED[lang])
    expect(people).to_contain_text("tess")
    expect(page.locator("#teach-device")).to_contain_text(re.compile("MB|GB|KB|B"))
    page.screenshot(path=str(artifacts / f"classroom_teacher_{lang}.png"), full_page=True)
    page.get_by_role("tab", name=MODELS_TAB[lang]).click()
    expect(page.locator("#models-load")).to_be_visible()
    expect(page.locator("#models-unload")).to_be_visible()

    # a student: no Teacher tab, no load/unload/add/delete in the Models tab
    _log_in(page, url, "李雷" if lang == "zh" else "amy")
    page.screenshot(path=str(artifacts / f"classroom_student_login_{lang}.png"), full_page=True)
    models_tab = page.get_by_role("tab", name=MODELS_TAB[lang])
    expect(models_tab).to_be_visible()
    models_tab.click()
    expect(page.locator("#models-table")).to_contain_text("SmolLM2-135M-Instruct",
                                                          timeout=60_000)
    for elem in ("#models-load", "#models-unload", "#models-delete", "#models-add"):
        expect(page.locator(elem)).to_be_hidden()
    expect(page.get_by_role("tab", name=TEACHER_TAB[lang])).to_have_count(0)
    page.screenshot(path=str(artifacts / f"classroom_student_{lang}.png"), full_page=True)
