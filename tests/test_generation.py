"""Streaming generation on a tiny Llama (chat template, GQA) through the manager."""
from __future__ import annotations

import pytest

from models.errors import UserError
from models.tasks import GenerationSettings, check_text, generate_text, prepare_prompt, stream_generate


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
    assert updates[-1].text == llama.tokenizer.decode(updates[-1].token_ids, skip_special_tokens=True)


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
    assert prompt.notice and "only the last 112 tokens" in prompt.notice
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
