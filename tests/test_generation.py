"""Streaming generation on a tiny Llama (chat template, GQA) through the manager: tokens one
by one, never a broken character, the next-token distribution of every step, long prompts
read in chunks with progress, and their cost known before they run."""
from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList

import models.runners.generation as tasks
from models.core.errors import UserError
from models.runners.gen_speed import Speed, SpeedMeter
from models.runners.generation import (GenerationSettings, check_length, check_text, cut_to_fit, generate_text,
                          prepare_prompt, shown_text, stream_generate)
from tests.messages import english


@pytest.fixture
def llama(make_manager, tiny_models):
    manager = make_manager()
    key = manager.register_local(str(tiny_models["llama"])).key
    with manager.use(key) as lm:
        yield lm


def test_tokens_stream_one_by_one_and_finish(llama):
    settings = GenerationSettings(max_new_tokens=12, greedy=True)
    prompt = prepare_prompt(llama, "the cat sat", chat=False, max_new_tokens=12)
    updates = list(stream_generate(llama, prompt, settings))
    assert updates[-1].done and not any(u.done for u in updates[:-1])
    counts = [u.n_tokens for u in updates[:-1]]
    assert counts == list(range(1, len(counts) + 1))      # one new token per update
    assert 1 <= updates[-1].n_tokens <= 12
    assert updates[-1].tokens_per_s > 0
    # the text shown is the decoding of exactly the generated ids
    assert updates[-1].text == shown_text(llama.tokenizer, updates[-1].token_ids)


def test_chat_mode_sends_the_chat_template(llama):
    prompt = prepare_prompt(llama, "hello world", chat=True, max_new_tokens=4)
    assert prompt.text.startswith("<|im_start|>user\nhello world<|im_end|>")
    assert prompt.text.rstrip().endswith("<|im_start|>assistant")


def test_greedy_is_deterministic_and_seed_repeats_a_sample(llama):
    greedy = GenerationSettings(max_new_tokens=8, greedy=True)
    assert generate_text(llama, "a dog", greedy, chat=False).text == \
        generate_text(llama, "a dog", greedy, chat=False).text
    seeded = GenerationSettings(max_new_tokens=8, temperature=1.5, seed=7)
    assert generate_text(llama, "a dog", seeded, chat=False).token_ids == \
        generate_text(llama, "a dog", seeded, chat=False).token_ids


def test_prompt_longer_than_context_is_cut_with_a_notice(llama):
    long = "the quick brown fox " * 200                     # far beyond 128 positions
    prompt = prepare_prompt(llama, long, chat=False, max_new_tokens=16)
    assert prompt.input_ids.shape[1] == llama.max_length - 16
    assert prompt.notice.code == "gen_truncated" and prompt.notice.params["room"] == 112
    assert "Only the last 112 of the prompt's" in english(prompt.notice)
    assert list(stream_generate(llama, prompt, GenerationSettings(max_new_tokens=16, greedy=True)))[-1].done


def test_closing_the_stream_early_stops_generation(llama):
    prompt = prepare_prompt(llama, "hello", chat=False, max_new_tokens=100)
    stream = stream_generate(llama, prompt, GenerationSettings(max_new_tokens=100, greedy=True))
    first = next(stream)
    stream.close()                                         # the user left: thread is joined
    assert first.n_tokens == 1


@pytest.mark.parametrize("text, code", [("", "empty_text"), ("   \n", "empty_text"),
                                        ("x" * 100_001, "text_too_long")])
def test_bad_prompts(text, code):
    with pytest.raises(UserError) as err:
        check_text(text)
    assert err.value.code == code


@pytest.mark.parametrize("settings", [GenerationSettings(max_new_tokens=0),
                                      GenerationSettings(temperature=0),
                                      GenerationSettings(top_p=1.5)])
def test_bad_settings(settings):
    with pytest.raises(UserError):
        settings.check()


def test_chat_mode_on_a_model_without_template(make_manager, tiny_models):
    manager = make_manager()
    key = manager.register_local(str(tiny_models["gpt2"])).key
    with manager.use(key) as lm, pytest.raises(UserError) as err:
        prepare_prompt(lm, "hi", chat=True, max_new_tokens=4)
    assert err.value.code == "no_chat_template"


def test_out_of_memory_while_generating_is_reported_not_raised_raw(llama, monkeypatch):
    import torch

    def boom(**kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")
    monkeypatch.setattr(llama.model, "generate", boom)
    prompt = prepare_prompt(llama, "hello", chat=False, max_new_tokens=4)
    with pytest.raises(UserError) as err:
        list(stream_generate(llama, prompt, GenerationSettings(max_new_tokens=4, greedy=True)))
    assert err.value.code == "oom"


# ---- never a broken character --------------------------------------------------------------
class _Force(LogitsProcessor):
    """Makes the model write `ids` (then its end token): a real generate, a known output."""

    def __init__(self, ids, prompt_len, eos):
        self.ids, self.prompt_len, self.eos = list(ids), prompt_len, eos

    def __call__(self, input_ids, scores):
        i = input_ids.shape[1] - self.prompt_len
        want = self.ids[i] if i < len(self.ids) else self.eos
        forced = torch.full_like(scores, -1e9)
        forced[:, want] = 0.0
        return forced


def _force_output(monkeypatch, lm, ids, prompt_len):
    real = lm.model.generate

    def generate(**kwargs):
        processors = kwargs.setdefault("logits_processor", LogitsProcessorList())
        processors.insert(0, _Force(ids, prompt_len, lm.tokenizer.eos_token_id))
        return real(**kwargs)
    monkeypatch.setattr(lm.model, "generate", generate)


@pytest.mark.parametrize("max_new, expected", [(10, "巴黎"), (4, "巴")])
def test_a_character_split_over_tokens_never_shows_as_a_replacement(llama, monkeypatch,
                                                                     max_new, expected):
    tok = llama.tokenizer
    ids = tok("巴黎", add_special_tokens=False)["input_ids"]
    assert len(ids) == 6                 # the tiny byte-level BPE: one token per UTF-8 byte
    prompt = prepare_prompt(llama, "paris", chat=False, max_new_tokens=max_new)
    _force_output(monkeypatch, llama, ids, prompt.input_ids.shape[1])
    updates = list(stream_generate(llama, prompt, GenerationSettings(max_new_tokens=max_new,
                                                                     greedy=True)))
    texts = [u.text for u in updates]
    assert not any("\ufffd" in t for t in texts), texts
    assert texts[-1] == expected             # 4 tokens end inside 黎: it is left out, not "巴�"
    assert all("巴黎".startswith(t) for t in texts)


# ---- the next-token distribution of every step ----------------------------------------------
def _steps(lm, settings, text="the cat"):
    prompt = prepare_prompt(lm, text, chat=False, max_new_tokens=settings.max_new_tokens)
    last = list(stream_generate(lm, prompt, settings))[-1]
    assert len(last.steps) == last.n_tokens == len(last.token_ids)
    return last


def test_greedy_steps_pick_the_top_candidate(llama):
    last = _steps(llama, GenerationSettings(max_new_tokens=8, greedy=True))
    for tid, step in zip(last.token_ids, last.steps):
        assert step.token_id == tid and step.greedy and step.kept == 1
        assert step.candidates[0].token_id == tid               # the most likely one
        assert step.p == pytest.approx(max(c.p for c in step.candidates))
        assert len(step.candidates) == 10
        ps = [c.p for c in step.candidates]
        assert ps == sorted(ps, reverse=True) and sum(ps) <= 1 + 1e-5


@pytest.mark.parametrize("settings", [
    GenerationSettings(max_new_tokens=10, temperature=1.5, top_k=0, top_p=1.0, seed=3),
    GenerationSettings(max_new_tokens=10, temperature=0.7, top_k=4, top_p=1.0, seed=3),
    GenerationSettings(max_new_tokens=10, temperature=1.0, top_k=0, top_p=0.5, seed=3)])
def test_sampled_steps_show_the_distribution_drawn_from(llama, settings):
    last = _steps(llama, settings)
    for tid, step in zip(last.token_ids, last.steps):
        ids = [c.token_id for c in step.candidates]
        assert tid in ids and step.p > 0                 # the drawn token has a bar
        assert sum(c.p for c in step.candidates) <= 1 + 1e-5
        assert not step.greedy
        listed = [c for c in step.candidates if c.token_id != tid or c.p > 0][:10]
        drawable = [c for c in listed if c.p > 0]
        assert listed[:len(drawable)] == drawable        # what could be drawn comes first,
        rest = [c.model_p for c in listed[len(drawable):]]
        assert rest == sorted(rest, reverse=True)        # then the model's next likeliest
        if settings.top_k:
            assert step.kept <= settings.top_k
            assert sum(c.p for c in step.candidates) == pytest.approx(1, abs=1e-5)
        if settings.top_p < 1:                           # the kept tokens reach top-p, no more
            model_sorted = sorted((c.model_p for c in step.candidates if c.p > 0), reverse=True)
            assert sum(model_sorted[:-1]) < settings.top_p + 1e-5
        if settings.temperature > 1 and not settings.top_k and settings.top_p == 1:
            top = step.candidates[0]                     # a high temperature flattens
            assert top.p <= top.model_p + 1e-6 and step.kept == len(llama.tokenizer)


def test_recording_does_not_change_what_is_drawn(llama):
    """Same seed: the app's path draws the same tokens as a plain generate call."""
    settings = GenerationSettings(max_new_tokens=12, temperature=0.9, top_k=20, top_p=0.9, seed=11)
    prompt = prepare_prompt(llama, "a dog", chat=False, max_new_tokens=12)
    ours = list(stream_generate(llama, prompt, settings))[-1].token_ids
    torch.manual_seed(11)
    with torch.inference_mode():
        plain = llama.model.generate(input_ids=prompt.input_ids, max_new_tokens=12,
                                     pad_token_id=llama.tokenizer.eos_token_id,
                                     **settings.generate_kwargs())
    assert plain[0, prompt.input_ids.shape[1]:].tolist()[:len(ours)] == ours


# ---- long prompts: read in chunks, announced before they run --------------------------------
def test_long_prompt_is_read_in_chunks_with_progress_and_the_same_answer(llama, monkeypatch):
    text = "the quick brown fox jumps over the lazy dog " * 6
    prompt = prepare_prompt(llama, text, chat=False, max_new_tokens=8)
    n = prompt.input_ids.shape[1]
    settings = GenerationSettings(max_new_tokens=8, greedy=True)
    whole = list(stream_generate(llama, prompt, settings))[-1]
    monkeypatch.setattr(tasks, "PREFILL_CHUNK", 16)
    updates = list(stream_generate(llama, prompt, settings, report_prefill=True))
    progress = [u.prefill for u in updates if u.prefill]
    assert [p[0] for p in progress] == list(range(16, n - 1, 16)) + [n - 1]
    assert all(p[1] == n for p in progress) and all(u.n_tokens == 0 for u in updates if u.prefill)
    assert updates[-1].token_ids == whole.token_ids              # the cache reads the same


def test_stop_while_the_prompt_is_read(llama, monkeypatch):
    monkeypatch.setattr(tasks, "PREFILL_CHUNK", 8)
    prompt = prepare_prompt(llama, "hello world " * 20, chat=False, max_new_tokens=8)
    stream = stream_generate(llama, prompt, GenerationSettings(max_new_tokens=8, greedy=True),
                             report_prefill=True)
    first = next(stream)
    stream.close()
    assert first.prefill == (8, prompt.input_ids.shape[1]) and first.n_tokens == 0


@pytest.fixture
def slow_meter(llama):
    """A meter that believes this device is very slow (50 kFLOP/s): short prompts are "slow"."""
    meter = SpeedMeter()
    meter._speeds[meter._key(llama)] = Speed(flops_per_s=5e4, step_s=0.01)
    return meter


def test_length_check_says_over_window_and_too_slow_before_running(llama, slow_meter, monkeypatch):
    monkeypatch.setattr(tasks, "LONG_PROMPT_TOKENS", 8)
    short = check_length(llama, "hi", False, 16, slow_meter)
    assert not short.needs_ok and short.seconds is None
    long = check_length(llama, "the cat sat on the mat " * 40, False, 16, slow_meter)
    assert long.over_window and long.room == llama.max_length - 16
    assert long.prompt_tokens > long.room and long.seconds > 0
    assert long.too_slow and 1 <= long.fit_tokens < long.room
    assert slow_meter.prompt_seconds(llama, long.fit_tokens, 16) <= 30
    assert slow_meter.prompt_seconds(llama, long.fit_tokens + 1, 16) > 30
    fast = SpeedMeter()
    fast._speeds[fast._key(llama)] = Speed(flops_per_s=1e15, step_s=0.001)
    quick = check_length(llama, "the cat sat on the mat " * 40, False, 16, fast)
    assert quick.over_window and not quick.too_slow and quick.fit_tokens == quick.room


def test_cut_to_fit_keeps_the_end_within_the_budget(llama):
    text = " ".join(f"word{i}" for i in range(200))
    for chat in (False, True):
        cut = cut_to_fit(llama, text, chat, 70)         # the tiny chat template takes ~44
        assert text.endswith(cut) and 10 < len(cut) < len(text)
        prompt = prepare_prompt(llama, cut, chat, max_new_tokens=8)
        assert 60 <= prompt.input_ids.shape[1] <= 70 and not prompt.notice


def test_calibration_and_records_give_a_positive_estimate(llama):
    meter = SpeedMeter()
    assert not meter.known(llama)
    speed = meter.speed(llama)                 # calibrates once
    assert meter.known(llama) and speed.flops_per_s > 0 and speed.step_s > 0
    assert meter.estimate(llama, 100, 10) > meter.estimate(llama, 10, 10) > 0
    prompt = prepare_prompt(llama, "the cat sat on the mat " * 12, chat=False, max_new_tokens=8)
    list(stream_generate(llama, prompt, GenerationSettings(max_new_tokens=8, greedy=True),
                         meter=meter))
    assert meter.known(llama)
