"""The serving engine (app.py --engine-url, models/runners/engine.py) against a REAL
OpenAI-compatible server: `transformers serve` on the packaged SmolLM2, on this CPU, offline
(tests/engine_server.py). No mock: every request below crosses HTTP to that server.

`transformers serve` (transformers 5.24) gives text, streaming and the transformers
`generation_config` field, but no `logprobs`, no `echo` and no `prompt_logprobs` (it ignores
`logprobs`, and refuses unknown fields with HTTP 422). The probe must find exactly that and
the app must say so; the conversion of a logprobs answer into the app's TokenSteps is checked
on the OpenAI client's own response types (test_logprobs_become_token_steps), since no
server that runs here gives logprobs (llama.cpp's server and vLLM do; see the README).

The server is the session fixture `engine_server` (tests/conftest.py -> tests/engine_server.py),
shared with tests/test_errors_engine.py and tests/browser/test_engine.py."""
from __future__ import annotations

import pytest

from models.core.device import pick_device
from models.core.errors import UserError
from models.core.manager import ModelManager
from models.core.registry import Registry
from models.runners.applications import run as apps
from models.runners.batching import Batcher
from models.runners.engine import Engine, token_step
from models.runners.generation import (GenerationSettings, check_text, generate_text,
                                       prepare_prompt, stream_generate)
from tests.engine_server import closed_url
from tests.messages import english

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"


def test_probe_finds_what_the_server_gives(engine_manager, engine_server):
    engine = engine_manager.engine
    caps = engine.probe()
    assert caps.models == (engine_server[1],)
    assert caps.chat and caps.completions
    assert caps.sampling == "generation_config"
    # the probe's "no logprobs" is the server's answer, not a guess: asked directly, the
    # server sends none back
    direct = engine.client.chat.completions.create(
        model=engine_server[1], messages=[{"role": "user", "content": "Hi"}], max_tokens=1,
        logprobs=True, top_logprobs=3)
    assert not (direct.choices[0].logprobs and direct.choices[0].logprobs.content)
    assert not caps.logprobs and not caps.echo and not caps.prompt_logprobs
    assert caps.missing() == ["logprobs", "prompt_logprobs"]
    assert engine.probe() is caps                      # asked once


def test_streamed_generation_gives_text(engine_manager):
    settings = GenerationSettings(max_new_tokens=16, temperature=0.3, seed=0)
    with engine_manager.use("engine:smollm2") as lm:
        prompt = prepare_prompt(lm, check_text(QUESTION), True, settings.max_new_tokens)
        updates = list(stream_generate(lm, prompt, settings))
    assert len(updates) >= 3, updates                  # pieces arrive one by one
    assert [u.done for u in updates].count(True) == 1 and updates[-1].done
    texts = [u.text for u in updates]
    assert all(a == b[:len(a)] for a, b in zip(texts, texts[1:]))   # each extends the last
    assert "Paris" in updates[-1].text
    assert updates[-1].prompt_tokens > 0 and updates[-1].n_tokens > 0
    assert updates[-1].steps == []                     # this server gives no probabilities


def test_engine_requests_do_not_wait_for_the_local_device(engine_manager):
    """While a training step holds this machine's device, a request to the engine runs."""
    import threading
    held, release, done = threading.Event(), threading.Event(), []

    def train_step():
        with engine_manager.device_step("a training step"):
            held.set()
            release.wait(600)

    trainer = threading.Thread(target=train_step, daemon=True)
    trainer.start()
    assert held.wait(60)

    def ask():
        with engine_manager.use("engine:smollm2") as lm:
            done.append(generate_text(lm, QUESTION, GenerationSettings(max_new_tokens=4)))

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(600)
    release.set()
    trainer.join(60)
    assert done and done[0].text, "the engine request waited for the local device"


def test_greedy_output_matches_the_apps_own_worker(engine_manager):
    """Same weights (the app's safetensors copy), same settings (greedy, repetition penalty 1.1
    sent as transformers' generation_config): the same answer, token for token. The engine
    reads with sdpa attention, the app with eager; on a short prompt greedy does not flip."""
    settings = GenerationSettings(max_new_tokens=24, greedy=True)
    with engine_manager.use("engine:smollm2") as lm:
        remote = generate_text(lm, QUESTION, settings)
    with engine_manager.use("smollm2") as lm:
        local = generate_text(lm, QUESTION, settings)
    assert "Paris" in local.text
    assert remote.text == local.text, (remote.text, local.text)


def test_logprobs_become_token_steps():
    """A `logprobs.content` entry as vLLM / llama.cpp send it (the openai client's own types)
    -> the TokenStep the Generate view draws: top-k candidates, the drawn token among them,
    probabilities from the log-probabilities."""
    from openai.types.chat.chat_completion_token_logprob import (ChatCompletionTokenLogprob,
                                                                 TopLogprob)
    import math
    top = [TopLogprob(token=w, logprob=math.log(p), bytes=None)
           for w, p in ((" Paris", 0.9), (" Lyon", 0.05), (" the", 0.02))]
    item = ChatCompletionTokenLogprob(token=" Paris", logprob=math.log(0.9), bytes=None,
                                      top_logprobs=top)
    step = token_step(item, greedy=True)
    assert step.text == " Paris" and step.p == pytest.approx(0.9)
    assert [c.text for c in step.candidates] == [" Paris", " Lyon", " the"]
    assert sum(c.p for c in step.candidates) <= 1.0
    drawn_outside = ChatCompletionTokenLogprob(token=" Nice", logprob=math.log(0.01), bytes=None,
                                               top_logprobs=top)
    step = token_step(drawn_outside, greedy=False)
    assert step.candidates[-1].text == " Nice" and len(step.candidates) == 4


def test_answer_through_the_engine_is_right(engine_manager):
    """Question answering (the Applications tab's runner) through the engine. The app's
    default English format copies the answer out of the context token by token, which needs
    the model's scores; the engine is asked the same few-shot prompt and writes freely."""
    batcher = Batcher(scheduler=engine_manager.scheduler)
    context = ("Kenya is a country in East Africa. Its capital and largest city is Nairobi, "
               "and its official languages are English and Swahili.")
    with engine_manager.use("engine:smollm2", device=False) as lm:
        prep = apps.prepare_answer(lm, "What is the capital of Kenya?", context)
        assert "Question: What is the capital of Kenya?" in prep.prompt_text
        out = apps.run_to_end(batcher, lm, prep, GenerationSettings(greedy=True))
    assert out.done and "Nairobi" in out.text, out.text
    assert "\n" not in out.text                        # the format stops at the line break


def test_translation_through_the_engine_matches_local(engine_manager):
    """The Applications tab's translation runner through the engine gives what the app's own
    worker gives (the same few-shot prompt, greedy)."""
    batcher = Batcher(scheduler=engine_manager.scheduler)
    outs = {}
    for key in ("engine:smollm2", "smollm2"):
        with engine_manager.use(key, device=False) as lm:
            prep = apps.prepare_translate(lm, "今天天气很好。", "zh", "en")
            outs[key] = apps.run_to_end(batcher, lm, prep, GenerationSettings(greedy=True)).text
    # right in meaning ("The weather is very nice today."), as the Applications golden path
    # checks it: about today, and about the weather or the day being nice
    text = outs["smollm2"].lower()
    assert "today" in text and any(w in text for w in ("weather", "nice", "beautiful", "good")), outs
    assert outs["engine:smollm2"] == outs["smollm2"], outs


def test_what_a_server_cannot_give_is_refused_clearly(engine_manager):
    with engine_manager.use("engine:smollm2", device=False) as lm:
        with pytest.raises(UserError) as err:
            lm.model(output_attentions=True)
    assert err.value.code == "engine_only" and "SmolLM2" in english(err.value)
    specs = {s.key for s in engine_manager.registry.for_task("attention")}
    assert "engine:smollm2" not in specs and "smollm2" in specs


def test_unreachable_engine_is_a_clear_message(real_cache):
    manager = ModelManager(Registry(real_cache), pick_device("cpu"))
    url = closed_url()
    assert manager.attach_engine(Engine(url)) is None          # the app starts anyway
    spec = manager.attach_engine(Engine(url, model="some-model", timeout=5))
    assert spec.key == "engine:some-model"
    with pytest.raises(UserError) as err:
        with manager.use(spec.key) as lm:
            generate_text(lm, QUESTION, GenerationSettings(max_new_tokens=4))
    assert err.value.code == "engine_unreachable" and url in english(err.value)
    from webapp.i18n import render
    assert "无法连接服务引擎" in render(err.value, "zh") and url in render(err.value, "zh")


def test_the_apps_api_answers_through_the_engine(engine_app):
    """`python app.py --engine-url ...`: /answer and /generate with the engine's model, through
    the running app (the Applications and Generate tabs' own handlers)."""
    from gradio_client import Client
    client = Client(engine_app, verbose=False)      # the run's app with --engine-url
    answer, info, sent, _insight, where = client.predict(
        "engine:smollm2", "What is the capital of Kenya?",
        "Kenya is a country in East Africa. Its capital and largest city is Nairobi.",
        True, 0.7, 50, "en", api_name="/answer")
    assert "Nairobi" in answer and "smollm2 · engine" in info, (answer, info)
    assert "Question: What is the capital of Kenya?" in sent
    assert "Nairobi" in where                          # marked in the context
    text, stats, sent = client.predict("engine:smollm2", QUESTION, True, 16, 0.3, 50, 0.95,
                                       True, 0, "en", api_name="/generate")[:3]
    assert "Paris" in text and "smollm2 · engine" in stats, (text, stats)
    assert '"content": "What is the capital of France?"' in sent     # the messages sent


def test_the_engines_model_is_not_remembered(tmp_path):
    """The engine's model belongs to this run (--engine-url): the stored list of added models
    never holds it, so a later start without the flag does not list a model it cannot reach."""
    registry = Registry(tmp_path, online=False)
    spec = Engine(closed_url(), model="served/some-model").spec()
    registry.add_spec(spec)
    assert registry.get("engine:some-model").source == "engine"
    # neither another process on the same cache folder nor a later start lists it
    assert "engine:some-model" not in {s.key for s in Registry(tmp_path).all()}
