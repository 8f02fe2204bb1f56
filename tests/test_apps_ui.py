"""The Applications tab's handlers, called as Gradio calls them, on tiny models registered in a
fresh app: extractive QA marks its span in the (escaped) context, seq2seq output streams with
its stats, and bad input becomes a message in the user's language, never a stack trace."""
from __future__ import annotations

import html

import gradio as gr
import pytest


EVIL = "<img src=x onerror=alert(1)>"


def _quiet(*_a, **_k):
    return None


@pytest.fixture
def app(tiny_app):
    return tiny_app


def test_extractive_answer_is_marked_in_the_escaped_context(app):
    fns, keys = app
    context = f"paris is the capital of france. berlin is the capital of germany. {EVIL}"
    (answer, info, _sent, insight, where), = list(fns["answer"](
        keys["qa"], "what is the capital of france", context, True, 0.7, 50, "en",
        progress=_quiet))
    assert answer and answer in context and "Span score" in info and "window 1 of 1" in info
    marked = where.split("<mark>")[1].split("</mark>")[0]
    assert where.count("<mark>") == 1 and marked == html.escape(answer)
    plain = where.replace("<mark>", "").replace("</mark>", "")
    assert "<img" not in where and html.escape(EVIL) in plain
    assert "point at a span" in insight


def test_seq2seq_summary_streams_with_stats_and_insight(app):
    fns, keys = app
    rows = list(fns["summarize"](keys["t5"], "the cat sat on the mat. the dog ran in the park.",
                                 "short", True, 0.7, 50, "en", progress=_quiet))
    text, stats, sent, insight = rows[-1]
    assert sent.startswith("summarize: ") and "tokens/s" in stats and "t5" in stats
    assert insight.count("<details") == len(rows) - 1   # a token per streamed step (+ the final row)


def test_bad_input_becomes_a_message_in_the_users_language(app):
    fns, keys = app
    with pytest.raises(gr.Error, match="only translates English → German"):
        list(fns["translate"](keys["t5"], "hello", "en", "zh", True, 0.7, 50, "en",
                              progress=_quiet))
    with pytest.raises(gr.Error, match="只能翻译"):
        list(fns["translate"](keys["t5"], "hello", "en", "zh", True, 0.7, 50, "zh",
                              progress=_quiet))
    with pytest.raises(gr.Error, match="Context box"):
        list(fns["answer"](keys["qa"], "what is it", "", True, 0.7, 50, "en", progress=_quiet))
    with pytest.raises(gr.Error, match="cannot do this task"):
        list(fns["summarize"](keys["qa"], "some text", "short", True, 0.7, 50, "en",
                              progress=_quiet))
    with pytest.raises(gr.Error, match="reference"):
        fns["summary_quality"]("a summary", "", "en")
    assert "ROUGE-1" in fns["summary_quality"]("the cat sat", "the cat sat on the mat", "en")


def test_handlers_are_plain_functions_testable_without_the_app(tmp_path, tiny_models):
    """The tab's handlers are module-level functions: given a manager and a batcher they run
    without building the interface (webapp/tabs/applications.py)."""
    from models.core.device import pick_device
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    from models.runners.batching import Batcher
    from webapp.tabs import applications as tab
    manager = ModelManager(Registry(tmp_path / "cache"), pick_device("cpu"))
    key = manager.register_local(str(tiny_models["t5"]), "t5").key
    batcher = Batcher(scheduler=manager.scheduler)
    rows = list(tab.summarize(manager, batcher, key, "the cat sat on the mat.", "short", True,
                              0.7, 50, "zh", progress=_quiet))
    text, stats, sent, _insight = rows[-1]
    assert sent.startswith("summarize: ") and stats.lstrip().startswith("✓")
    assert "词元" in stats                                  # the figures in the user's language
    assert tab.qa_lang("巴黎在哪里？") == "zh" and tab.qa_lang("Where is Paris?") == "en"
    src, tgt, length = tab.relabel("zh")
    assert ("中文", "zh") in src["choices"] and length["label"] == tab.t("apps.sum.length", "zh")
