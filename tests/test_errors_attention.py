"""Error messages of the Attention tab, in English and Chinese.

CASES go through the running app's API (/attention, /attention_walkthrough: the same
functions the tab's heatmap and walkthrough use). DIRECT_CODES cannot be reached by an API
call (a model with no attention weights, the overview's metric on cross attention, a slider
moved before any run); they are raised by the tab's own handlers and functions here and
checked through the translation the UI uses (webapp/common.message_text)."""
from __future__ import annotations

import re

import pytest
from tests.messages import LANG, _client, check_message, check_raised, run_cases


TEXT = "The cat sat on the mat."

CASES = [
    ("att_bad_index", "/attention", ["minilm", TEXT, "", 7, 0, "", LANG]),
    ("att_bad_index", "/attention_walkthrough", ["minilm", TEXT, "", "", 0, 12, 0, LANG]),
    ("att_bad_query", "/attention_walkthrough", ["minilm", TEXT, "", "", 0, 0, 99, LANG]),
    ("empty_text", "/attention", ["minilm", "   ", "", 0, 0, "", LANG]),
    ("unknown_model", "/attention", ["no-such-model", TEXT, "", 0, 0, "", LANG]),
]
DIRECT_CODES = {"att_unavailable", "att_bad_metric", "att_no_result", "att_walk_unsupported"}

# words each message must contain (English, Chinese): the message is about the right thing
WORDS = {
    "att_bad_index": ("from 0 to 5", "0–5"),
    "att_bad_query": ("from 0 to", "0–"),
    "empty_text": ("empty", "为空"),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_attention_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_walkthrough_of_an_unsupported_layer_through_the_api(app_url, tiny_models, lang):
    """A DistilBERT (its attention is built differently) added as a local folder: the heatmap
    works, the walkthrough says it does not know this kind of layer."""
    client = _client(app_url)
    added = client.predict(str(tiny_models["distilbert-qa"]), lang, api_name="/add_model")
    key = re.search(r"`(local:[^`]+)`", added[0]).group(1)
    assert client.predict(key, TEXT, "", 0, 0, "", lang, api_name="/attention")["weights"]
    with pytest.raises(Exception) as err:
        client.predict(key, TEXT, "", "", 0, 0, 1, lang, api_name="/attention_walkthrough")
    check_message(str(err.value), lang)
    assert "distilbert" in str(err.value)


def test_errors_no_api_call_can_reach(make_manager, tiny_models):
    from models.runners.attention import AttentionMap, _stack, extract, head_summary
    from webapp.tabs import attention as tab_attention
    check_raised(lambda: _stack((), "self"), "att_unavailable")
    manager = make_manager()
    key = manager.register_local(str(tiny_models["t5"]), "tiny-t5").key
    with manager.use(key) as lm:
        result = extract(lm, "the cat sat", "the dog")
    assert isinstance(result.maps["cross"], AttentionMap)
    check_raised(lambda: head_summary(result.maps["cross"], "previous"), "att_bad_metric")
    check_raised(lambda: head_summary(result.maps["encoder"], "nonsense"), "att_bad_metric")
    # a slider moved (or Export pressed) before "Show attention"
    check_raised(lambda: tab_attention.draw(None, "self", 0, 0, False, "en"), "att_no_result")
    check_raised(lambda: tab_attention.export_csv(None, "self", 0, 0, "zh"), "att_no_result")
    # the tab's own drawing refuses a head the model does not have
    check_raised(lambda: tab_attention.draw(result, "cross", 0, 9, False, "en"), "att_bad_index")
    key2 = manager.register_local(str(tiny_models["distilbert-qa"]), "tiny-distilbert").key
    check_raised(lambda: tab_attention.explain(manager, key2, "the cat sat", "", "self", 0, 0, 1, "zh"),
           "att_walk_unsupported")
