"""Browser fixtures: a Debian Chromium page driven by Playwright (never `playwright install`)
against the real app (the `app_url` fixture in tests/conftest.py)."""
from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A language switch redraws every component of every tab: on 2 shared cores that takes a few
# seconds, more than Playwright's 5 s default for `expect`. Speed is measured in bench/, not here.
expect.set_options(timeout=60_000)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Debian chromium is not installed; `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page (English browser locale) that fails the test on any request leaving the
    machine."""
    yield from _guarded_page(browser, "en-US")


@pytest.fixture(params=["en", "zh"])
def lang_page(request, browser, app_url):
    """The same, once with an English and once with a Chinese (zh-CN) browser: the app picks
    its language from the browser, as a first-time user's would. `lang_page.lang` is "en"/"zh"."""
    pg_iter = _guarded_page(browser, "en-US" if request.param == "en" else "zh-CN")
    pg = next(pg_iter)
    pg.lang = request.param
    yield pg
    next(pg_iter, None)


def _guarded_page(browser, locale: str):
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
    outside: list[str] = []

    def check(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()
    context.route("**/*", check)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    goto = pg.goto

    def goto_app(url, **kw):
        """Open a page and wait until the app has decided its language, as a person would wait
        for the page to appear before clicking (a click before that can land on a half-built page)."""
        response = goto(url, **kw)
        if url.startswith(("http://127.0.0.1", "http://localhost")):
            pg.locator("body[data-lang-ready]").wait_for(state="attached")
        return response
    pg.goto = goto_app
    pg.outside_requests = outside
    yield pg
    context.close()
    assert not outside, f"requests left the machine: {outside[:5]}"


def start_or_attach(page, trained, name: str, prefix: str) -> str:
    """The Start of a training tab's golden path (ids "#<prefix>-start", "-job-id", "-attach").
    A run trains each real model once (tests/conftest.py TrainedOnce): the English page always
    presses Start, as a first-time user does; a page in another language whose run already has
    the finished job `name` pastes its id and presses Attach instead, as a user following a
    job from another browser does, and checks the same results in its own language. Returns
    the job id shown."""
    box = page.locator(f"#{prefix}-job-id textarea")
    known = None if page.lang == "en" else trained.job_id(name)
    if known:
        box.fill(known)
        page.locator(f"#{prefix}-attach").click()
    else:
        page.locator(f"#{prefix}-start").click()
    expect(box).not_to_have_value("", timeout=120_000)
    return box.input_value()
