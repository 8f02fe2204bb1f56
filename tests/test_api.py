"""The documented API, called as a teacher's script would: gradio_client against the app."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client
    return Client(app_url, verbose=False)


def test_foundation_endpoints_are_published(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/models_status", "/load_model", "/unload_model", "/add_model", "/generate"} <= names


def test_models_status_lists_packaged_models(client):
    status, _table, gauge = client.predict("en", api_name="/models_status")
    models = {m["key"]: m for m in status["models"]}
    assert models["minilm"]["source"] == "packaged" and models["minilm"]["params"] == 22_713_216
    assert models["hub:gpt2"]["state"] == "needs download (offline)"
    assert status["budget_bytes"] > 0 and "Memory used" in gauge


def _error_of(call) -> str:
    with pytest.raises(Exception) as err:
        call()
    return str(err.value)


def test_bad_requests_get_clear_messages_and_the_server_stays_up(client):
    assert "There is no model called 'gpt-17'" in _error_of(
        lambda: client.predict("gpt-17", "en", api_name="/load_model"))
    assert "The prompt is empty" in _error_of(lambda: client.predict(
        "smollm2", "  ", True, 8, 0.7, 50, 0.95, True, -1, "en", api_name="/generate"))
    assert "offline" in _error_of(lambda: client.predict("hub:gpt2", "en", api_name="/load_model"))
    assert "没有名为" in _error_of(lambda: client.predict("gpt-17", "zh", api_name="/load_model"))
    assert "config.json" in _error_of(lambda: client.predict("/", "en", api_name="/add_model"))
    status, _t, _g = client.predict("en", api_name="/models_status")   # still serving
    assert status["models"]


def test_generate_returns_the_final_text_stats_and_prompt_sent(client):
    text, stats, sent = client.predict("smollm2", "What is the capital of France?", True, 16,
                                       0.7, 50, 0.95, True, -1, "en", api_name="/generate")
    assert "Paris" in text and "tokens/s" in stats and "SmolLM2" in stats
    assert "<|im_start|>user\nWhat is the capital of France?" in sent
    assert "149,999 characters and the limit is 100,000" in _error_of(lambda: client.predict(
        "smollm2", "word " * 30_000, False, 4, 0.7, 50, 0.95, True, -1, "en", api_name="/generate"))


def test_attention_view_takes_any_layer_of_the_chosen_model_in_a_fresh_session(app_url):
    """A script's first call may ask for SmolLM2's layer 20 and head 7 (its shape is 30 x 9)
    before any run has set the sliders to that shape; a layer past the model's last is
    clipped to it."""
    from gradio_client import Client
    fresh = Client(app_url, verbose=False)
    out = fresh.predict("smollm2", "The cat sat on the mat because it was tired.", "", "self",
                        20, 7, False, "entropy", "en", api_name="/attention_view")
    layer, head = (o.get("value") if isinstance(o, dict) else o for o in out[2:4])
    assert (int(layer), int(head)) == (20, 7)
    other = Client(app_url, verbose=False)       # (a run sets this session's sliders to 29 x 8)
    out = other.predict("smollm2", "The cat sat on the mat.", "", "self", 90, 90, False,
                        "entropy", "en", api_name="/attention_view")
    layer, head = (o.get("value") if isinstance(o, dict) else o for o in out[2:4])
    assert (int(layer), int(head)) == (29, 8)
