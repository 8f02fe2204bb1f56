"""Error messages of Applications -> Analyse meaning, in English and Chinese.

CASES go through the running app's /analyze endpoint (model, text, sentiment model, lang).
DIRECT_CODES: `an_no_spacy` and `an_no_lac` need a packaged specialist (spaCy, Baidu LAC) to
be missing, which the app started for the tests cannot be; they are driven by calling the
runner with the package hidden, and the message is rendered as the app renders it."""
from __future__ import annotations

import pytest

from models.core.errors import UserError
from models.runners import analysis as an
from tests.messages import LANG, check_message, run_cases
from webapp.i18n import render

CASES = [
    ("empty_text", "/analyze", [an.SPACY_KEY, "  \n ", "", LANG]),
    ("an_wrong_model", "/analyze", ["minilm", "Marie Curie moved to Paris.", "", LANG]),
]
DIRECT_CODES = {"an_no_spacy", "an_no_lac"}

WORDS = {"empty_text": ("empty", "空"),
         "an_wrong_model": ("cannot analyse", "不能分析")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_analysis_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_spacy_pipeline_says_how_to_install(monkeypatch, lang):
    monkeypatch.setattr(an, "package_dir", lambda name: None)
    pipes = an.SpacyPipelines()
    assert not pipes.available()
    with pytest.raises(UserError) as err:
        pipes.parse("Marie Curie moved to Paris.")
    assert err.value.code == "an_no_spacy"
    text = render(err.value, lang)
    check_message(text, lang)
    assert "make run" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_chinese_analyser_says_how_to_install(monkeypatch, lang):
    from models.runners import analysis_lac
    monkeypatch.setattr(analysis_lac, "package_dir", lambda name: None)   # the wheel is missing
    lac = an.ChinesePipeline()
    assert not lac.available()
    with pytest.raises(UserError) as err:
        an.analyze_specialist(None, None, an.AUTO_KEY, "居里夫人于1891年移居巴黎。", chinese=lac)
    assert err.value.code == "an_no_lac"
    text = render(err.value, lang)
    check_message(text, lang)
    assert "make run" in text
