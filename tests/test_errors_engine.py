"""Every error of the serving engine (models/runners/engine.py), in English and Chinese.

An engine that cannot be reached is driven through the running app's API (`python app.py
--engine-url <nothing listens there> --engine-model some-model`): the message says so, and the
app stays up. The others come from the real `transformers serve` of the session (the
`engine_server` fixture) or from the stand-ins of a served model, called directly."""
from __future__ import annotations

import json

import pytest

from models.core.errors import UserError
from models.runners import engine as engine_mod
from models.runners.engine import Engine, RemoteModel, parse_chat
from tests.engine_server import app_with_engine, closed_url
from tests.messages import LANG, check_message, run_cases
from webapp.i18n import render

pytestmark = pytest.mark.slow

GEN = ["engine:some-model", "What is the capital of France?", True, 8, 0.7, 50, 0.95, True, -1, LANG]
CASES = [("engine_unreachable", "/generate", GEN),
         ("engine_unreachable", "/translate",
          ["engine:some-model", "今天天气很好。", "zh", "en", True, 0.7, 50, LANG]),
         ("engine_unreachable", "/answer",
          ["engine:some-model", "Who wrote it?", "Jane Austen wrote it.", True, 0.7, 50, LANG])]
DIRECT_CODES = {"engine_timeout", "engine_http", "engine_no_model", "engine_too_long",
                "engine_only"}
WORDS = {"engine_unreachable": ("cannot be reached", "无法连接服务引擎"),
         "engine_timeout": ("did not answer in time", "没有及时回答"),
         "engine_http": ("refused the request (HTTP 422)", "拒绝了这个请求（HTTP 422）"),
         "engine_no_model": ("does not serve 'no-such-model'", "没有提供 'no-such-model'"),
         "engine_too_long": ("too long", "太长"),
         "engine_only": ("Attention, hidden states", "注意力、隐藏状态")}


@pytest.fixture(scope="module")
def unreachable_app(real_cache):
    with app_with_engine(real_cache, closed_url(), "some-model") as url:
        yield url


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unreachable_engine_through_the_app(unreachable_app, lang):
    run_cases(unreachable_app, CASES, lang, contains=WORDS)
    # the app is still up and lists the engine's model
    from tests.messages import _client
    status = _client(unreachable_app).predict(lang, api_name="/models_status")[0]
    keys = {row["key"] for row in status["models"]}
    assert {"engine:some-model", "smollm2"} <= keys


def _direct(engine_server) -> dict[str, UserError]:
    url, model = engine_server
    errors = {}
    with pytest.raises(UserError) as err:                      # a model it does not serve
        Engine(url, model="no-such-model").probe()
    errors["engine_no_model"] = err.value
    with pytest.raises(UserError) as err:       # a server too slow to answer (no model writes
        Engine(url, timeout=0.001).probe()      # a token in 1 ms; listing the models may be quick)
    errors["engine_timeout"] = err.value
    engine = Engine(url)
    try:                                                       # a field this server refuses
        engine.client.chat.completions.create(model=model, max_tokens=1, extra_body={"top_k": 1},
                                              messages=[{"role": "user", "content": "Hi"}])
    except Exception as exc:
        errors["engine_http"] = engine_mod._error(exc, url)
    with pytest.raises(UserError) as err:                      # a chat cut in the middle
        parse_chat(engine_mod.CHAT_MARK + json.dumps([{"role": "user", "content": "x" * 50}])[:30])
    errors["engine_too_long"] = err.value
    with pytest.raises(UserError) as err:                      # attention asked of the engine
        RemoteModel("smollm2 · engine", 2048)(output_attentions=True)
    errors["engine_only"] = err.value
    return errors


def test_engine_errors_in_both_languages(engine_server):
    errors = _direct(engine_server)
    assert set(errors) == DIRECT_CODES
    for code, exc in errors.items():
        assert exc.code == code
        for i, lang in enumerate(("en", "zh")):
            text = render(exc, lang)
            check_message(text, lang)
            assert WORDS[code][i] in text, (code, lang, text)
