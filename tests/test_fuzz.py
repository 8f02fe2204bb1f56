"""Nothing a user types can take the class down (issue 20): every endpoint the running app
publishes gets what a careless or hostile user sends — nothing, whitespace, a million
characters, a lone surrogate — and answers with a result or a clear message in the caller's
language: never Python's words, never a hang; and the server answers a health request after.

The full fuzz run (1 k – 100 k real texts, uploads, 30 requests at once, the server's peak RSS
against its budget) is bench/bench_fuzz.py; this test runs its quick cases against the app of
the test session."""
from __future__ import annotations

import pytest

from bench.bench_fuzz import ODD, SKIP, args_for, call, call_raw, classify, endpoints, real_text

pytestmark = pytest.mark.slow

TIMEOUT = 300.0       # a deadline per call: a hang fails the test instead of stalling the suite


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client
    return Client(app_url, verbose=False)


def test_empty_whitespace_and_a_million_characters_get_clear_answers(client):
    """Every endpoint, every text box at once: refused (or answered) in words, never a leaked
    exception or a hang; a million characters are refused by their size before any model
    work, and the refusal quotes at most a short piece of them."""
    eps = endpoints(client)
    texts = {"empty": ODD["empty"], "whitespace": ODD["whitespace"], "1M": real_text(1_000_000)}
    seen = 0
    for name, params in sorted(eps.items()):
        if name in SKIP:
            continue
        for case, text in texts.items():
            args = args_for(params, text)
            if args is None:
                continue
            kind, said, _seconds = call(client, name, args, TIMEOUT)
            verdict = classify((kind, said))
            assert verdict in ("ok", "refused"), (name, case, verdict, said[:300])
            if case == "1M":
                assert len(said) < 20_000, (name, "the answer repeats the paste")
            seen += 1
    assert seen > 60                          # every text endpoint was reached
    status = client.predict("en", api_name="/models_status")
    assert status[0]["models"]                # still serving


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_lone_surrogate_is_read_as_a_replacement_character(client, lang):
    """JSON (and so a browser) can carry a lone surrogate that UTF-8 cannot encode; the app
    reads it as U+FFFD instead of failing inside the tokenizer."""
    eps = endpoints(client)
    text = ODD["surrogate"]
    args = args_for(eps["attention_view"], text, lang=lang)
    kind, said, _s = call_raw(client.src.rstrip("/"), "attention_view", args, TIMEOUT)
    assert kind == "ok" and classify((kind, said)) == "ok", said[:300]
    assert "paris" in said.lower()            # MiniLM reads lower case
