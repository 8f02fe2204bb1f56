"""Error messages of the "Why this token?" tab, in English and Chinese.

CASES go through the running app's API endpoints (/logit_lens, /attribute, /attention_rollout,
/branch). Rows naming CLASSIFIER use a tiny BERT classifier added through /add_model first
(the packaged models include no classifier). DIRECT_CODES are raised by UI handlers that have
no endpoint (redrawing before anything was computed) and are checked through the same
translation the UI uses (webapp/common.message_text)."""
from __future__ import annotations

import re

import pytest

from models.core.errors import UserError
from tests.messages import LANG, _client, check_message, run_cases
from tests.tiny import make_bert
from webapp.common import message_text
from webapp.tabs import why as tab

CLASSIFIER = object()     # stands for the key of the tiny classifier added in the test
TEXT = "The capital of France is"
CASES = [
    ("why_not_for_model", "/logit_lens", ["minilm", TEXT, LANG]),
    ("why_not_for_model", "/branch", ["minilm", TEXT, "", LANG]),
    ("why_bad_steps", "/attribute", ["smollm2", TEXT, "", "", "ig", 1, LANG]),
    ("why_bad_method", "/attribute", ["smollm2", TEXT, "", "", "shap", 8, LANG]),
    ("why_same_contrast", "/attribute", ["smollm2", TEXT, " Paris", " Paris", "ig", 8, LANG]),
    ("why_bad_choices", "/branch", ["smollm2", TEXT, "0, 7", LANG]),
    ("empty_text", "/attention_rollout", ["smollm2", "   ", LANG]),
    ("why_unknown_class", "/attribute", [CLASSIFIER, "a fine day", "happy", "", "ig", 8, LANG]),
]
DIRECT_CODES = {"why_no_result"}

WORDS = {"why_not_for_model": ("does not apply", "不适用"),
         "why_bad_steps": ("from 2 to 512", "2 到 512"),
         "why_bad_method": ("shap", "shap"),
         "why_same_contrast": ("same", "相同"),
         "why_bad_choices": ("ranks from 1 to 5", "从 1 到 5"),
         "why_unknown_class": ("LABEL_0", "LABEL_0")}


@pytest.fixture(scope="module")
def classifier_key(app_url, tmp_path_factory):
    folder = make_bert(tmp_path_factory.mktemp("why-errors") / "why-tiny-classifier",
                       head="classification")
    added = _client(app_url).predict(str(folder), "en", api_name="/add_model")
    return re.search(r"`(local:[^`]+)`", added[0]).group(1)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_why_errors_through_the_api(app_url, classifier_key, lang):
    cases = [(code, api, [classifier_key if a is CLASSIFIER else a for a in args])
             for code, api, args in CASES]
    run_cases(app_url, cases, lang, contains=WORDS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_redraw_before_a_result(lang):
    for call in (lambda: tab.lens_column(None, 0, lang), lambda: tab.rollout_layer(None, 0, lang)):
        with pytest.raises(UserError) as err:
            call()
        assert err.value.code == "why_no_result"
        check_message(message_text(err.value, lang), lang)
