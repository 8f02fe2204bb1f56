"""Golden path of Applications -> Analyse meaning, as a first-time user in an English and in a
Chinese browser: open the sub-tab, keep the pre-filled text, press Analyse.

Right means: the specialist the app picks for the text's language (the packaged spaCy pipeline
for the English example, Baidu LAC for the Chinese one) marks Marie Curie / 居里夫人 as a person
and Paris / 巴黎 as a place, lists the relation Marie Curie - moved to - Paris (居里夫人 - 移居 -
巴黎) and draws the graph; the
instruct model's column then says whether its JSON was valid (either way its raw text is in
the page) and every name it marks is a piece of the text. No "�" anywhere, the interface's
words are in the browser's language, and the button's message box stays empty. Screenshots go
to tests/artifacts/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG = 600_000          # ms: SmolLM2 writes its JSON on 2 shared cores, behind other requests
_CJK = re.compile(r"[\u3400-\u9fff]")


def test_analyse_the_example(lang_page, app_url, artifacts):
    page, lang = lang_page, lang_page.lang
    page.goto(app_url)
    page.get_by_role("tab", name=t("tab.applications", lang), exact=True).click()
    page.get_by_role("tab", name=t("apps.sub.analyze", lang), exact=True).click()
    person_name, place, verb, model = (("居里夫人", "巴黎", "移居", "LAC") if lang == "zh" else
                                       ("Marie Curie", "Paris", "moved to", "spaCy"))
    text = page.locator("#an-text textarea").input_value()
    assert person_name in text and place in text             # the example of the user's language
    page.locator("#an-run").click()

    ents = page.locator("#an-sp-entities")
    person = ents.locator('mark[data-kind="person"]').filter(has_text=person_name)
    expect(person.first).to_be_visible(timeout=LONG)
    expect(ents.locator('mark[data-kind="place"]').filter(has_text=place).first).to_be_visible()
    expect(ents).to_contain_text(t("an.kind.person", lang))           # the legend, in our language
    rels = page.locator("#an-sp-relations")
    row = rels.locator("tr").filter(has_text=person_name).filter(has_text=place)
    expect(row.first).to_contain_text(verb)
    expect(page.locator("#an-sp-graph .js-plotly-plot")).to_be_visible()
    expect(page.locator("#an-sp-status")).to_contain_text(model)

    status = page.locator("#an-lm-status")
    expect(status).to_contain_text("SmolLM2", timeout=LONG)          # the LM's run is finished
    said = status.inner_text()
    verdict = t("an.valid", lang)[:12] if "✓" in said else t("an.invalid", lang)[:12]
    assert verdict in said, said
    if lang == "en":      # greedy: valid JSON on this example (tests/test_analysis_real.py)
        assert "✓" in said, said
    page.get_by_text(t("an.raw", lang)).click()
    expect(page.locator("#an-raw")).to_contain_text('{"entities"')
    for name in page.locator("#an-lm-entities mark .an-name").all_inner_texts():
        assert name.strip() and name.strip().lower() in text.lower(), name   # pieces of the text

    expect(page.locator("#an-msg")).to_have_text("")
    expect(page.locator("#an-lm-msg")).to_have_text("")
    shown = page.locator("#component-0").inner_text() if page.locator("#component-0").count() \
        else page.inner_text("body")
    assert "\ufffd" not in shown
    if lang == "zh":
        assert _CJK.search(page.locator("#an-sp-col").inner_text())
    page.screenshot(path=str(artifacts / f"golden_analysis_{lang}.png"), full_page=True)
