"""A long prompt on the Generate tab, through the tab's own handlers (webapp/tabs/generate.py) on
the tiny Llama of tests/tiny.py (a window of 128 tokens):

- Stop while the prompt is read: the model reads at most the chunk under way, no token is
  written, and the stats line says "Stopped" (en) / "已停止" (zh) at once — no estimate stays.
- "Cut to fit" cuts a prompt just past the time limit to what runs, reading and writing, within
  it (models/runners/generation.py check_length), not by a few tokens.
"""
from __future__ import annotations

import time

import gradio as gr
import pytest

import models.runners.generation as tasks
from models.runners.gen_speed import SpeedMeter, model_shape, prefill_flops
from models.runners.generation import SLOW_SECONDS, check_length
from webapp.tabs.generate import GenerateActions

CHUNK = 8            # tokens per forward pass while the prompt is read (PREFILL_CHUNK here)
PASS_S = 0.15        # each forward pass of the tiny model made this slow: a long reading
NEW = 16
STOPPED = {"en": "Stopped", "zh": "已停止"}
TEXT = "the cat sat on the mat and looked at the dog " * 12      # past the window: 112 read


@pytest.fixture
def tab(make_manager, tiny_models):
    manager = make_manager()
    key = manager.register_local(str(tiny_models["llama"])).key
    return GenerateActions(manager), key


def _settings(key, text, lang):
    """The handler's inputs as the tab sends them: model, prompt, chat, max new tokens,
    temperature, top-k, top-p, greedy, seed, language."""
    return (key, text, False, NEW, 0.7, 50, 0.95, True, 0, lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stop_while_the_prompt_is_read_ends_it_within_a_chunk_and_says_stopped(tab, lang,
                                                                               monkeypatch):
    actions, key = tab
    monkeypatch.setattr(tasks, "PREFILL_CHUNK", CHUNK)
    passes = []

    def slow_pass(module, args, kwargs):        # the model, not the app: a slower device
        passes.append(kwargs["input_ids"].shape[1] if kwargs.get("input_ids") is not None else 1)
        time.sleep(PASS_S)

    me = gr.Request(session_hash=f"reader-{lang}")
    with actions.manager.use(key) as lm:
        actions.meter.speed(lm)           # calibrated first: only the run's passes are counted
        hook = lm.model.register_forward_pre_hook(slow_pass, with_kwargs=True)
    try:
        run = actions.generate(*_settings(key, TEXT, lang), request=me)
        started = time.perf_counter()
        output, stats, *_ = next(run)                 # the first chunk is read
        assert output == "" and ("Reading the prompt" if lang == "en" else "正在读取提示词") in stats
        read_before = len(passes)
        note, line = actions.on_stop(lang, request=me)
        assert line == STOPPED[lang]                  # at once, from Stop's own handler
        stopped_at = time.perf_counter()
        after = []
        for out in run:                               # the run ends by itself, within a chunk
            after.append(out)
            assert time.perf_counter() - stopped_at < 30, "the run went on after Stop"
    finally:
        hook.remove()
    n_prompt = 112                                     # the window (128) less the 16 new tokens
    assert read_before < n_prompt // CHUNK - 2, "the whole prompt was read before Stop"
    assert len(passes) - read_before <= 1             # at most the chunk under way
    assert sum(passes) < n_prompt and all(p == CHUNK for p in passes)   # no token written
    assert after and all(out[0] == "" for out in after)
    assert after[-1][1] == STOPPED[lang]              # and the run's own last line says so
    assert time.perf_counter() - started < 60
    # the session has nothing running now: Stop leaves the line alone
    assert actions.on_stop(lang, request=me)[1] != STOPPED[lang]


def test_stop_after_tokens_keeps_the_count_and_stops_writing(tab, monkeypatch):
    """Stop while tokens are written: the model stops within one token; the line keeps the
    count of what was written (no estimate is running there)."""
    actions, key = tab
    me = gr.Request(session_hash="writer")
    with actions.manager.use(key, device=False) as lm:
        hook = lm.model.register_forward_pre_hook(lambda *a, **k: time.sleep(PASS_S),
                                                  with_kwargs=True)
    try:
        run = actions.generate(key, "the cat sat", False, 100, 0.7, 50, 0.95, True, 0, "en",
                               request=me)
        out = next(run)
        while not out[3]:                             # until a token has been written
            out = next(run)
        note, line = actions.on_stop("en", request=me)
        assert line != STOPPED["en"] and not isinstance(line, str)   # gr.update(): kept
        rest = list(run)
    finally:
        hook.remove()
    written = len(rest[-1][3])
    assert written < 20 and "tokens in" in rest[-1][1]


def _meter_just_past_the_limit(lm, read: int) -> SpeedMeter:
    """A meter whose device reads `read` tokens in just over SLOW_SECONDS and writes NEW tokens
    in about half of it: the prompt is announced as too slow by a second."""
    meter, shape = SpeedMeter(), model_shape(lm)
    rate = (prefill_flops(shape, read) + shape.attn_per_pair * read * NEW) / (SLOW_SECONDS + 1)
    step_s = SLOW_SECONDS / 2 / NEW
    # what a real run of 64 prompt tokens and NEW + 1 new ones would have taught it
    meter.record(lm, 64, prefill_flops(shape, 64) / rate, NEW + 1, NEW * step_s)
    assert meter.known(lm)
    return meter


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cut_to_fit_cuts_to_what_runs_within_the_limit(tab, lang, monkeypatch):
    actions, key = tab
    monkeypatch.setattr(tasks, "LONG_PROMPT_TOKENS", 8)
    text = TEXT[:len(TEXT) // 3].strip()                        # within the window
    with actions.manager.use(key) as lm:
        n = check_length(lm, text, False, NEW, SpeedMeter()).prompt_tokens
        assert 60 < n < lm.max_length - NEW
        actions.meter = meter = _meter_just_past_the_limit(lm, n)
        assert meter.prompt_seconds(lm, n, NEW) > SLOW_SECONDS      # just past the limit
        assert meter.fits_in(lm, SLOW_SECONDS, NEW, n) > 0.9 * n    # (a cut to it: a few tokens)
    outs = list(actions.generate_checked(*_settings(key, text, lang)))
    info = outs[-1][4]
    assert outs[-1][0] == "" and info and info["too_slow"] and not info["over_window"]
    fit = info["fit"]
    with actions.manager.use(key) as lm:
        assert meter.estimate(lm, fit, NEW) <= SLOW_SECONDS < meter.estimate(lm, fit + 1, NEW)
    assert fit < 0.6 * n                                         # a real cut
    assert info["fit_time"] <= SLOW_SECONDS
    cut, box, note = actions.cut(key, text, False, info, lang)
    assert text.endswith(cut) and len(cut) < len(text)
    assert (f"last {fit:,} tokens" if lang == "en" else f"最后 {fit:,} 个词元") in note
    with actions.manager.use(key) as lm:
        again = check_length(lm, cut, False, NEW, meter)
    assert again.prompt_tokens <= fit and not again.needs_ok     # the cut prompt runs at once
    ran = list(actions.generate_checked(*_settings(key, cut, lang)))
    assert ran[-1][4] is None and ran[-1][3]                       # it ran: steps, no box


def test_writing_alone_past_the_limit_keeps_a_short_prompt(tab, monkeypatch):
    """When writing the answer alone takes longer than the limit, no cut can make the run
    fit: the prompt keeps LONG_PROMPT_TOKENS (read in a second or two), never nothing."""
    actions, key = tab
    monkeypatch.setattr(tasks, "LONG_PROMPT_TOKENS", 8)
    text = TEXT[:len(TEXT) // 3].strip()
    with actions.manager.use(key) as lm:
        meter, shape = SpeedMeter(), model_shape(lm)
        rate = prefill_flops(shape, 64) / 60.0          # a slow reader ...
        meter.record(lm, 64, 60.0, NEW + 1, NEW * SLOW_SECONDS)     # ... and a slower writer
        check = check_length(lm, text, False, NEW, meter)
        assert rate > 0 and check.too_slow and check.fit_tokens == 8
