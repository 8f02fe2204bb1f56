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


def _log_in_with(page, url: str, name: str, password: str) -> None:
    page.context.clear_cookies()
    Page.goto(page, url)
    page.locator("input[type=password]").wait_for()
    page.locator("input:not([type=password])").first.fill(name)
    page.locator("input[type=password]").fill(password)
    page.locator("button").filter(has_text=re.compile("log ?in|登录", re.IGNORECASE)).first.click()
    page.locator("body[data-lang-ready]").wait_for(state="attached", timeout=120_000)


PW_INTRO = {"en": "Choose your own password", "zh": "设置你自己的密码"}
PW_SAVED = {"en": "Your new password is saved", "zh": "新密码已保存"}
GENERATE_TAB = {"en": "Generate", "zh": "生成"}


def test_a_one_time_password_is_changed_before_anything_else(class_page, classroom_app,  # noqa: F811
                                                             artifacts):
    page, lang, url = class_page, class_page.lang, classroom_app.url
    name = f"first-login-{lang}"
    [(_n, one_time)] = classroom_app.accounts.add_many([name])
    try:
        _log_in_with(page, url, name, one_time)
        box = page.locator("#pw-box")
        expect(box).to_be_visible(timeout=60_000)
        expect(page.locator("#main-tabs")).to_be_hidden()            # nothing else yet
        if lang == "zh":
            page.locator("#lang-radio").get_by_text("中文").click()
        expect(box).to_contain_text(PW_INTRO[lang])
        page.locator("#pw-new input").fill("a new password")
        page.locator("#pw-again input").fill("a new pasword")
        page.locator("#pw-save").click()
        expect(page.locator("#pw-err")).to_contain_text(
            "two passwords differ" if lang == "en" else "两次输入的密码不一致")
        page.screenshot(path=str(artifacts / f"classroom_first_login_{lang}.png"),
                        full_page=True)
        page.locator("#pw-again input").fill("a new password")
        page.locator("#pw-save").click()
        expect(page.locator("#pw-done")).to_contain_text(PW_SAVED[lang], timeout=60_000)
        expect(box).to_be_hidden()
        expect(page.get_by_role("tab", name=GENERATE_TAB[lang])).to_be_visible()
        assert not classroom_app.accounts.must_change(name)
        assert classroom_app.accounts.check(name, "a new password")
    finally:
        classroom_app.accounts.remove(name)


MY_JOBS = {"en": "My jobs", "zh": "我的任务"}
PRETRAIN_TAB = {"en": "Pre-training", "zh": "预训练"}


def test_my_jobs_opens_a_training_job_in_its_tab(class_page, classroom_app,  # noqa: F811
                                                 artifacts):
    """bob starts a pre-training job (through the API, as from another computer); in the
    browser he finds it under My jobs on the Models tab and opens it in the Pre-training tab,
    where its progress shows; amy's list does not have it."""
    from tests.test_classroom import tiny
    page, lang, url = class_page, class_page.lang, classroom_app.url
    bob = classroom_app.client("bob")
    job_id = bob.predict(*tiny(f"bob-browser-{lang}", steps=400), api_name="/pretrain_start")
    try:
        _log_in(page, url, "bob")
        page.get_by_role("tab", name=MODELS_TAB[lang]).click()
        panel = page.locator("#myjobs")
        expect(panel).to_contain_text(MY_JOBS[lang])
        expect(page.locator("#myjobs-table")).to_contain_text(job_id, timeout=60_000)
        page.locator("#myjobs-id input").fill(job_id)
        page.locator("#myjobs-open").click()
        expect(page.locator("#pre-job-id input")).to_have_value(job_id, timeout=60_000)
        expect(page.get_by_role("tab", name=PRETRAIN_TAB[lang], selected=True)) \
            .to_be_visible()
        # the job's own status line (queued or running, in the page's language)
        expect(page.locator("#pre-status")).to_contain_text(
            re.compile(r"[A-Za-z]{3}") if lang == "en" else re.compile(r"[\u4e00-\u9fff]"),
            timeout=120_000)
        page.screenshot(path=str(artifacts / f"classroom_my_jobs_{lang}.png"), full_page=True)
        _log_in(page, url, "amy")
        page.get_by_role("tab", name=MODELS_TAB[lang]).click()
        expect(page.locator("#myjobs-table")).to_be_visible()
        page.wait_for_timeout(1500)
        assert job_id not in page.locator("#myjobs-table").inner_text()
    finally:
        classroom_app.jobs.cancel(job_id)
