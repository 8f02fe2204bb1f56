"""Continuous batching (models/runners/batching.py) on the tiny Llama: rows that arrive together
or join a running batch each get what the model writes for them alone; rows with different
settings share a batch; a restricted row keeps to its tokens; the device is taken from the
scheduler step by step. And the Generate stream's `interval` (fewer updates, same answer)."""
from __future__ import annotations

import threading

import pytest
import torch

from models.runners.batching import Batcher, _eos_ids, continuous_ok
from models.runners.generation import GenerationSettings, prepare_prompt, stream_generate
from tests.conftest import join_all

GREEDY = GenerationSettings(max_new_tokens=12, greedy=True)


@pytest.fixture
def manager(make_manager, tiny_models):
    m = make_manager()
    m.key = m.register_local(str(tiny_models["llama"]), "chat-llama").key
    return m


def _ids(lm, text):
    return lm.tokenizer(text, add_special_tokens=False)["input_ids"]


def _alone(lm, ids, settings):
    """What `generate` writes for this prompt alone (greedy), without its end-of-text token."""
    eos = _eos_ids(lm.model, lm.tokenizer)
    with torch.inference_mode():
        out = lm.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                max_new_tokens=settings.max_new_tokens, do_sample=False,
                                repetition_penalty=settings.repetition_penalty,
                                pad_token_id=lm.tokenizer.eos_token_id)
    new = out[0, len(ids):].tolist()
    return new[:next((i for i, t in enumerate(new) if t in eos), len(new))]


def _final(batcher, lm, ids, settings, allowed=None, first_token=None):
    last = None
    for last in batcher.stream(lm, ids, settings, allowed):
        if first_token is not None and last.token_ids:
            first_token.set()
    return last


def _at_once(batcher, lm, prompts, settings_list):
    results: dict[int, object] = {}
    barrier = threading.Barrier(len(prompts), timeout=60)

    def user(i):
        barrier.wait()
        results[i] = _final(batcher, lm, prompts[i], settings_list[i])
    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(prompts))]
    for th in threads:
        th.start()
    join_all(threads, 120, "the users' generations")
    return [results[i] for i in range(len(prompts))]


def test_rows_read_together_write_what_each_writes_alone(manager):
    """Prompts of different lengths with a shared start (read once), at the same moment: one
    group, and every row's tokens are those of `generate` on that prompt alone."""
    with manager.use(manager.key) as lm:
        assert continuous_ok(lm)
        start = "the cat sat on the mat and the dog ran in the park. "
        prompts = [_ids(lm, start + q) for q in ("where is the cat", "who ran",
                                                 "what did the dog do in the park today", "why")]
        batcher = Batcher(window_s=0.5)
        outs = _at_once(batcher, lm, prompts, [GREEDY] * len(prompts))
        expected = [_alone(lm, p, GREEDY) for p in prompts]
    assert batcher.batches_run == 1 and max(o.batch_size for o in outs) == len(prompts)
    assert [o.token_ids for o in outs] == expected
    assert all(o.done and len(o.steps) == len(o.token_ids) for o in outs)


def test_a_request_joins_a_running_batch_between_steps(manager):
    """A second user arrives while the first is writing: it joins the running batch (it does
    not wait for the first answer to end) and still gets what it would get alone."""
    with manager.use(manager.key) as lm:
        eos = _eos_ids(lm.model, lm.tokenizer)
        never_ends = set(range(len(lm.tokenizer))) - eos          # the first writes on and on
        first_ids, second_ids = _ids(lm, "once upon a time"), _ids(lm, "hello world, how are you")
        batcher = Batcher(window_s=0.0)
        started = threading.Event()
        box = {}

        def first_user():
            last = None
            for last in batcher.stream(lm, first_ids, GenerationSettings(max_new_tokens=400,
                                                                         greedy=True),
                                       lambda ids: never_ends):
                started.set()
            box["first"] = last
        th = threading.Thread(target=first_user)
        th.start()
        assert started.wait(60)
        second = _final(batcher, lm, second_ids, GREEDY)
        join_all([th], 120, "the first user's generation")
        alone = _alone(lm, second_ids, GREEDY)
    assert batcher.batches_run == 2 and second.batch_size == 2      # it joined, not waited
    assert second.token_ids == alone
    assert len(box["first"].token_ids) == 400


def test_rows_with_different_settings_share_a_batch(manager):
    sampled = GenerationSettings(max_new_tokens=10, greedy=False, temperature=0.8, top_k=5,
                                 top_p=0.9, seed=3)
    with manager.use(manager.key) as lm:
        prompts = [_ids(lm, "the cat sat"), _ids(lm, "the dog ran")]
        outs = _at_once(Batcher(window_s=0.5), lm, prompts, [GREEDY, sampled])
        again = _final(Batcher(), lm, prompts[1], sampled)          # the same seed, alone
        expected = _alone(lm, prompts[0], GREEDY)
    assert [o.batch_size for o in outs] == [2, 2]
    assert outs[0].token_ids == expected
    assert outs[1].token_ids == again.token_ids                     # a seeded row is its own
    assert all(s.sample_p is None for s in outs[0].steps)
    for step in outs[1].steps:
        assert step.sample_p is not None and step.chosen_sample_p > 0
        assert sum(1 for p in step.sample_p if p > 0) <= 5           # top-k 5 cut the rest


def test_a_restricted_row_keeps_to_its_tokens_beside_a_free_one(manager):
    with manager.use(manager.key) as lm:
        eos = _eos_ids(lm.model, lm.tokenizer)
        allowed_set = set(_ids(lm, " cat dog mat")) | eos
        prompts = [_ids(lm, "the cat sat"), _ids(lm, "the dog ran")]
        batcher = Batcher(window_s=0.5)
        results = {}
        barrier = threading.Barrier(2, timeout=60)

        def user(i, allowed):
            barrier.wait()
            results[i] = _final(batcher, lm, prompts[i], GREEDY, allowed)
        threads = [threading.Thread(target=user, args=(0, lambda ids: allowed_set)),
                   threading.Thread(target=user, args=(1, None))]
        for th in threads:
            th.start()
        join_all(threads, 120, "the users' generations")
        free_alone = _alone(lm, prompts[1], GREEDY)
    assert results[0].token_ids and set(results[0].token_ids) <= allowed_set
    assert results[1].token_ids == free_alone
    for step in results[0].steps:           # the insight shows what could be drawn
        assert set(i for i, p in zip(step.ids, step.model_p) if p > 0) <= allowed_set


def test_each_step_takes_the_device_from_the_scheduler(manager):
    with manager.use(manager.key, device=False) as lm:
        before = manager.scheduler.steps_run["request"]
        out = _final(Batcher(scheduler=manager.scheduler), lm, _ids(lm, "the cat sat"), GREEDY)
    assert manager.scheduler.steps_run["request"] - before >= len(out.token_ids)


def test_leaving_early_frees_the_row_and_the_simple_path_still_serves(manager):
    with manager.use(manager.key) as lm:
        ids = _ids(lm, "the cat sat")
        batcher = Batcher()
        stream = batcher.stream(lm, ids, GenerationSettings(max_new_tokens=60, greedy=True))
        next(stream)
        stream.close()                                   # the reader went away
        again = _final(batcher, lm, ids, GREEDY)
        simple = _final(Batcher(continuous=False), lm, ids, GREEDY)
    assert again.done and again.token_ids == simple.token_ids


def test_generate_stream_interval_sends_fewer_updates_and_the_same_answer(manager):
    settings = GenerationSettings(max_new_tokens=24, greedy=True)
    with manager.use(manager.key) as lm:
        prompt = prepare_prompt(lm, "the cat sat", chat=False, max_new_tokens=24)
        every = list(stream_generate(lm, prompt, settings))
        few = list(stream_generate(lm, prompt, settings, interval=60.0))
    assert few[-1].done and few[-1].token_ids == every[-1].token_ids
    assert few[-1].text == every[-1].text and len(few[-1].steps) == len(every[-1].steps)
    assert len(few) <= 2 < len(every)          # the first token, then only the last update


def test_an_error_in_a_step_reaches_its_readers_and_the_batcher_goes_on(manager):
    def broken(_ids):
        raise ValueError("broken restriction")
    with manager.use(manager.key) as lm:
        ids = _ids(lm, "the cat sat")
        batcher = Batcher()
        with pytest.raises(ValueError, match="broken restriction"):
            _final(batcher, lm, ids, GREEDY, broken)
        after = _final(batcher, lm, ids, GREEDY)
    assert after.done and after.token_ids == _alone_tokens(manager, ids)


def _alone_tokens(manager, ids):
    with manager.use(manager.key) as lm:
        return _alone(lm, ids, GREEDY)
