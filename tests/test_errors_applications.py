"""Error messages of the Applications tab (summarize, translate, answer, quality scores), in
English and Chinese.

CASES go through the running app's API (the handlers users reach, on the packaged SmolLM2).
DIRECT_CODES need a model this machine does not have offline (T5, an opus-mt translator, an
extractive QA model) or a value the UI's lists never send: they are driven through the same
handlers, registered by name in an app built on tiny models of those classes (the wiring of
`wire_action`'s API endpoints), and the message is the one the user would read."""
from __future__ import annotations

import gradio as gr
import pytest

from tests.messages import LANG, check_message, run_cases

CASES = [
    ("empty_text", "/summarize", ["smollm2", "   ", "short", True, 0.7, 50, LANG]),
    ("text_too_long", "/translate", ["smollm2", "a" * 100_001, "en", "zh", True, 0.7, 50, LANG]),
    ("same_language", "/translate", ["smollm2", "Good morning.", "en", "en", True, 0.7, 50, LANG]),
    ("wrong_task", "/summarize", ["minilm", "A text to summarize.", "short", True, 0.7, 50, LANG]),
    ("no_output", "/summary_quality", ["", "A reference summary.", LANG]),
    ("no_reference", "/translation_quality", ["Bonjour.", "  ", "fr", LANG]),
    ("metric_too_long", "/summary_quality", ["A summary.", "word " * 200_000, LANG]),
]
DIRECT_CODES = {"unsupported_pair", "qa_no_context", "question_too_long", "bad_language",
                "bad_setting", "apps_no_room"}

WORDS = {"empty_text": ("empty", "空"),
         "same_language": ("the same", "相同"),
         "wrong_task": ("cannot do this task", "不能"),
         "no_output": ("run the task first", "先运行"),
         "no_reference": ("reference", "参考")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_applications_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def _quiet(*_a, **_k):
    return None


@pytest.fixture
def fns(tiny_app):
    """The app's own handlers (by API name) on tiny T5 and DistilBERT-QA models."""
    return tiny_app


def _message(call) -> str:
    with pytest.raises(gr.Error) as err:
        out = call()
        if hasattr(out, "__next__"):
            list(out)
    return str(err.value.message)


DIRECT = {
    "unsupported_pair": (lambda f, k, lang: f["translate"](
        k["t5"], "hello", "en", "zh", True, 0.7, 50, lang, progress=_quiet),
        ("only translates English → German", "只能翻译")),
    "bad_language": (lambda f, k, lang: f["translate"](
        k["t5"], "hello", "en", "xx", True, 0.7, 50, lang, progress=_quiet),
        ("Unknown language 'xx'", "未知的语言")),
    "qa_no_context": (lambda f, k, lang: f["answer"](
        k["qa"], "what is it", "  ", True, 0.7, 50, lang, progress=_quiet),
        ("Context box", "上下文")),
    "question_too_long": (lambda f, k, lang: f["answer"](
        k["qa"], "why " * 200, "some context", True, 0.7, 50, lang, progress=_quiet),
        ("keep it under", "个以内")),
    "bad_setting": (lambda f, k, lang: f["summarize"](
        k["t5"], "the cat sat on the mat", "huge", True, 0.7, 50, lang, progress=_quiet),
        ("'huge' is not one of the choices", "可选项")),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("code", sorted(DIRECT_CODES))
def test_applications_errors_in_the_handlers(fns, code, lang):
    handlers, keys = fns
    if code == "apps_no_room":
        return           # no model this small to reach it with: test_no_room_left_for_the_output
    call, words = DIRECT[code]
    text = _message(lambda: call(handlers, keys, lang))
    check_message(text, lang)
    assert words[0 if lang == "en" else 1] in text, text


def test_no_room_left_for_the_output():
    """A model whose window cannot hold even the start of the text beside the output."""
    from types import SimpleNamespace

    from models.runners.applications.run import _fit
    from tests.messages import check_raised
    lm = SimpleNamespace(spec=SimpleNamespace(name="Tiny"), max_length=20)
    check_raised(lambda: _fit(lm, list(range(50)), 4, []), "apps_no_room")
