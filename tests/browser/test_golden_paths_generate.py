"""Golden path of the Generate tab, as a first-time user in an English and in a Chinese browser:
the pre-filled prompt and the default settings, one press of Generate, and the answer is right
(the fact asked for, no "�"), with the stats line; the probabilities view shows the step's
candidates with a bar for the token that was drawn, and a click on a token opens its step;
an example prompt is answered right too. Then Stop, for a run started by the button and for
one started with Shift+Enter in the prompt (a second click meanwhile says it is queued), and
a long paste announced before it runs, cut to fit with one button.

The expected answers are the ones bench/bench_generate_defaults.py measures for these prompts
under these settings (README, "Generate: defaults chosen by measurement")."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from webapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RIGHT = {"en": ("Paris",), "zh": ("Paris", "巴黎")}                # the default prompt's answer
EXAMPLE = {"en": ("What color is the sky on a clear day?", ("blue",)),
           "zh": ("用一句话介绍一下长城。(Describe the Great Wall of China in one sentence.)",
                  ("Great Wall", "长城"))}
STATS = {"en": re.compile(r"\d+ tokens in [\d.]+ s · [\d.]+ tokens/s"),
         "zh": re.compile(r"\d+ 个词元，用时 [\d.]+ 秒")}
LONG_RUN = "Write a long story about a dragon who learns to read."   # runs past 128 tokens
PLOT = """() => { const g = document.querySelector('#gen-step-plot .js-plotly-plot');
  if (!g || !g._fullData || !g._fullData.length) return null;
  const bars = g._fullData[g._fullData.length - 1];
  return {x: Array.from(bars.x), colors: Array.from(bars.marker.color),
          labels: Array.from(g._fullLayout.yaxis.ticktext), title: g._fullLayout.title.text}; }"""
DRAWN_COLOR = "#f97316"
STEP = "#gen-step input[type=number]"


def _run_and_wait(page, start) -> str:
    """Start a run (a callable that clicks or presses a key) and wait until it is done: the
    probabilities view is emptied at the start and filled at the end."""
    start()
    expect(page.locator(STEP)).to_be_disabled(timeout=30_000)
    expect(page.locator(STEP)).to_be_enabled(timeout=900_000)
    return page.locator("#gen-output textarea").input_value()


def _assert_right(answer: str, words, lang: str) -> None:
    assert "\ufffd" not in answer, answer
    assert any(w.lower() in answer.lower() for w in words), (lang, answer)


def _drawn_bar(page) -> dict:
    page.wait_for_function("() => { const g = document.querySelector('#gen-step-plot .js-plotly-plot');"
                           " return !!(g && g._fullData && g._fullData.length); }", timeout=60_000)
    return page.evaluate(PLOT)


def test_generate_golden_path(lang_page, app_url, artifacts):
    page, lang = lang_page, lang_page.lang
    page.goto(app_url)
    expect(page.locator("#gen-prompt textarea")).to_have_value(t("gen.prompt_value", lang))
    page.locator("#gen-settings").get_by_text(t("gen.settings", lang)).click()
    expect(page.locator("#gen-temperature input[type=number]")).to_have_value("0.3")
    expect(page.locator("#gen-seed input")).to_have_value("0")

    answer = _run_and_wait(page, lambda: page.locator("#gen-run").click())
    _assert_right(answer, RIGHT[lang], lang)
    expect(page.locator("#gen-stats")).to_have_text(STATS[lang])
    expect(page.locator("#gen-msg .action-error")).to_have_count(0)

    # the probabilities of step 1: the drawn token has an orange bar, named in the title
    bars = _drawn_bar(page)
    drawn = [i for i, c in enumerate(bars["colors"]) if c == DRAWN_COLOR]
    assert len(drawn) == 1 and bars["x"][drawn[0]] > 0, bars
    assert f"“{bars['labels'][drawn[0]]}”" in bars["title"], bars
    assert sum(bars["x"]) <= 1.0 + 1e-6
    assert t("gen.chart_sampled", lang, i=1, token="@", p=0, kept=0).split("@")[0] in bars["title"]
    page.screenshot(path=str(artifacts / f"golden-generate-{lang}.png"), full_page=True)

    # a click on the answer's second token opens step 2
    page.locator("#gen-tokens .token").nth(1).click()
    expect(page.locator(STEP)).to_have_value("2")
    page.wait_for_function("() => (document.querySelector('#gen-step-plot .gtitle') || {})"
                           ".textContent?.includes('2')", timeout=30_000)

    # an example prompt of the user's language, answered right
    prompt, words = EXAMPLE[lang]
    page.locator("#gen-examples").get_by_text(prompt[:24]).click()   # long ones show cut
    expect(page.locator("#gen-prompt textarea")).to_have_value(prompt)
    _assert_right(_run_and_wait(page, lambda: page.locator("#gen-run").click()), words, lang)
    expect(page.locator("#gen-stats")).to_have_text(STATS[lang])


def _stop_while_running(page, start, second_click: bool) -> None:
    """Start, let a few tokens stream, press Stop: nothing more arrives, the steps so far are
    in the probabilities view. With `second_click`, a click while it runs first says it is
    queued, and Stop calls that run off too."""
    start()
    expect(page.locator("#gen-stats")).to_have_text(re.compile(r"^\s*([3-9]|\d\d) tokens"),
                                                    timeout=600_000)
    if second_click:         # a second click while it runs is queued, and says so
        page.locator("#gen-run").click()
        expect(page.locator("#gen-note")).to_contain_text("queue", timeout=10_000)
    page.locator("#gen-stop").click()
    expect(page.locator(STEP)).to_be_enabled(timeout=60_000)
    expect(page.locator("#gen-note")).not_to_contain_text("queue")
    shown = page.locator("#gen-output textarea").input_value()
    stats = page.locator("#gen-stats").inner_text()
    n = int(stats.split()[0])
    time.sleep(8)
    assert page.locator("#gen-output textarea").input_value() == shown
    assert page.locator("#gen-stats").inner_text() == stats       # the queued run did not start
    assert n < 128                                                # stopped before the end
    assert page.locator(STEP).get_attribute("max") == str(max(n, 2))


def test_stop_for_the_button_and_for_shift_enter(page, app_url):
    page.goto(app_url)
    expect(page.locator("#gen-prompt textarea")).not_to_have_value("")
    page.locator("#gen-prompt textarea").fill(LONG_RUN)
    _stop_while_running(page, lambda: page.locator("#gen-run").click(), second_click=True)
    page.goto(app_url)                        # a new visit: Shift+Enter, then Stop
    page.locator("#gen-prompt textarea").fill(LONG_RUN)
    _stop_while_running(page, lambda: page.locator("#gen-prompt textarea").press("Shift+Enter"),
                        second_click=False)
    expect(page.locator("#gen-prompt textarea")).to_have_value(LONG_RUN)   # Shift+Enter ran it


def test_a_long_paste_is_announced_and_cut_to_fit(page, app_url, artifacts):
    para = ("The printing press spread across Europe in the fifteenth century, when Johannes "
            "Gutenberg combined movable metal type, oil-based ink and a wooden screw press. ")
    text = (para * 400)[:54_000] + "\nSummarize the text above in one sentence."
    page.goto(app_url)
    expect(page.locator("#gen-prompt textarea")).not_to_have_value("")
    page.locator("#gen-prompt textarea").fill(text)
    page.locator("#gen-run").click()
    box = page.locator("#gen-long-text")
    expect(box).to_be_visible(timeout=300_000)                   # said before anything runs
    expect(box).to_contain_text(re.compile(r"Your prompt has [\d,]+ tokens"))
    expect(box).to_contain_text(re.compile(r"reading it would take about \d+ (s|min|h)"))
    assert page.locator("#gen-output textarea").input_value() == ""
    fit = int(re.search(r"keeps the last ([\d,]+) tokens", box.inner_text()).group(1).replace(",", ""))
    page.screenshot(path=str(artifacts / "golden-generate-long.png"))
    page.locator("#gen-cut").click()
    expect(box).to_be_hidden(timeout=60_000)
    cut = page.locator("#gen-prompt textarea").input_value()
    assert cut and len(cut) < len(text) and text.endswith(cut[-200:])
    expect(page.locator("#gen-note")).to_contain_text(f"last {fit:,} tokens")
    # the cut prompt runs at once; Stop ends it
    expect(page.locator("#gen-stats")).to_have_text(re.compile(r"Reading the prompt|tokens in"),
                                                    timeout=600_000)
    page.locator("#gen-stop").click()
    stats = page.locator("#gen-stats")
    time.sleep(3)
    said = stats.inner_text()
    time.sleep(8)
    assert stats.inner_text() == said                          # nothing more arrives
