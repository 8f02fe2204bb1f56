"""The app started with --engine-url, in a browser (English and Chinese): a first-time user
picks the engine's model in Generate, presses Generate, gets the right answer, and the line
under the output says the serving engine answered (and what that server does not give); with
the packaged SmolLM2 picked, the same line says this app's own worker answered.

The engine is a real `transformers serve` of SmolLM2 on this CPU (the `engine_server` fixture,
tests/engine_server.py); the app is the run's one started with --engine-url (`engine_app`,
tests/conftest.py)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENGINE_OPTION = "smollm2 · engine"
LOCAL_OPTION = "SmolLM2-135M-Instruct"
RIGHT = ("Paris", "巴黎")


def _pick(page, option: str) -> None:
    page.locator("#gen-model input").click()
    page.locator("#gen-model").get_by_role("option", name=option, exact=True).click()
    expect(page.locator("#gen-model input")).to_have_value(option)


def _generate(page) -> str:
    page.locator("#gen-run").click()
    expect(page.locator("#gen-answered")).not_to_be_empty(timeout=900_000)
    return page.locator("#gen-output textarea").input_value()


def _first_words(key: str, lang: str) -> str:
    return re.split(r"[{（(]", t(key, lang))[0].strip()


def test_generate_says_the_engine_answered(lang_page, engine_app, artifacts):
    page, lang = lang_page, lang_page.lang
    page.goto(engine_app)
    # (a language switch relabels every tab: slow on 2 busy cores)
    expect(page.locator("#gen-prompt textarea")).to_have_value(t("gen.prompt_value", lang),
                                                               timeout=180_000)
    _pick(page, ENGINE_OPTION)
    answer = _generate(page)
    assert "\ufffd" not in answer and any(w in answer for w in RIGHT), answer
    line = page.locator("#gen-answered")
    expect(line).to_contain_text(_first_words("engine.by_engine", lang))
    expect(line).to_contain_text("/v1")
    expect(line).to_contain_text(_first_words("engine.missing.logprobs", lang))
    expect(page.locator("#gen-stats")).to_contain_text(ENGINE_OPTION)
    expect(page.locator("#gen-msg .action-error")).to_have_count(0)
    page.screenshot(path=str(artifacts / f"engine-generate-{lang}.png"), full_page=True)

    # the packaged model, answered by this app itself: the line says so
    _pick(page, LOCAL_OPTION)
    expect(line).to_be_empty()
    answer = _generate(page)
    assert any(w in answer for w in RIGHT), answer
    expect(line).to_contain_text(_first_words("engine.by_local", lang))
