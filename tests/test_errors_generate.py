"""Error messages of the Generate tab, in English and Chinese.

CASES go through the running app's /generate (the handler users reach, on the packaged
SmolLM2). DIRECT_CODES cannot be reached through the API on this machine: Gradio itself refuses
slider values out of range before our check runs, and the packaged model has a chat template
and a window far larger than the largest "max new tokens". They are driven through the tab's
own handler (GenerateActions.generate) on tiny models that do reach them (a model with no chat
template; a model that reads 128 tokens), and the message is the one the user would read."""
from __future__ import annotations

import pytest

from models.core.errors import UserError
from tests.messages import LANG, check_message, run_cases
from webapp.common import message_text
from webapp.tabs.generate import GenerateActions

DEFAULT_SETTINGS = [True, 128, 0.7, 50, 0.95, False, -1]
CASES = [
    ("empty_text", "/generate", ["smollm2", "   \n", *DEFAULT_SETTINGS, LANG]),
    ("text_too_long", "/generate", ["smollm2", "x" * 100_001, *DEFAULT_SETTINGS, LANG]),
]
DIRECT_CODES = {"no_chat_template", "window_too_small", "gen_bad_setting"}

WORDS = {"empty_text": ("empty", "空"),
         "text_too_long": ("100,000", "太长")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_generate_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def _raised(actions, *args) -> UserError:
    with pytest.raises(UserError) as err:
        list(actions.generate(*args))
    return err.value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_generate_errors_through_the_handler(make_manager, tiny_models, lang):
    manager = make_manager()
    gpt2 = manager.register_local(str(tiny_models["gpt2"])).key       # no chat template
    llama = manager.register_local(str(tiny_models["llama"])).key     # reads 128 tokens
    actions = GenerateActions(manager)
    cases = {
        "no_chat_template": (gpt2, "hello", True, 16, 0.7, 50, 0.95, False, -1),
        "window_too_small": (llama, "hello", False, 1024, 0.7, 50, 0.95, False, -1),  # reads 128
        "gen_bad_setting": (llama, "hello", False, 16, 0.0, 50, 0.95, False, -1),  # temperature 0
    }
    cases_settings = {   # values Gradio's sliders would refuse, sent to the handler directly
        "top-p above 1": (llama, "hello", False, 16, 0.7, 50, 1.5, False, -1),
    }
    assert set(cases) == DIRECT_CODES
    for code, args in cases.items():
        exc = _raised(actions, *args, lang)
        assert exc.code == code
        check_message(message_text(exc, lang), lang)
    for args in cases_settings.values():
        exc = _raised(actions, *args, lang)
        assert exc.code == "gen_bad_setting"
        check_message(message_text(exc, lang), lang)
    assert "Top-p" in message_text(_raised(actions, *cases_settings["top-p above 1"], lang), lang)
    assert ("温度" if lang == "zh" else "Temperature") in message_text(
        _raised(actions, *cases["gen_bad_setting"], lang), lang)
    # a box holding text that is not a number: the same message, naming the box
    exc = _raised(actions, llama, "hello", False, "many", 0.7, 50, 0.95, False, -1, lang)
    assert exc.code == "gen_bad_setting" and exc.params["field"] == "max_new_tokens"
    assert "Chat" in message_text(_raised(actions, *cases["no_chat_template"], "en"), "en")
    assert "对话模式" in message_text(_raised(actions, *cases["no_chat_template"], "zh"), "zh")
    assert "112" in message_text(_raised(actions, *cases["window_too_small"], lang), lang)


def test_stop_calls_off_only_the_runs_queued_behind_the_stopped_one():
    """Stop during a run with a second click queued: the queued run ends at once when its
    turn comes (wire_action's skip) — once; a later click, with nothing running, runs."""
    import gradio as gr

    from webapp.tabs.generate import GenerateActions
    acts = GenerateActions(manager=None)
    me, other = gr.Request(session_hash="me"), gr.Request(session_hash="other")
    acts._started("me")                                  # a run is going
    acts.on_click("en", request=me)                      # a second click waits behind it
    acts.on_stop(request=me)
    acts._ended("me")                                    # the stopped run ends
    assert not acts.called_off("k", "text", request=other)
    assert acts.called_off("k", "text", "en", me) is True     # the queued one is called off
    assert acts.called_off("k", "text", "en", me) is False    # only that one
    acts._started("me")
    acts.on_click("en", request=me)
    acts.on_stop(request=me)
    acts._ended("me")                  # Gradio dropped the queued run itself: it never starts
    acts.on_click("en", request=me)                      # nothing runs: a fresh click
    assert acts.called_off("k", "text", "en", me) is False    # is not called off
