"""Surprisal with a serving engine set up (app.py --engine-url): no OpenAI-compatible server
we can start here gives the prompt's own token probabilities (`transformers serve` has no
echo and no prompt_logprobs), so surprisal is computed by the app's own worker — and the
result says so, with the reason, in the user's language. The slow test asks a real
`transformers serve` (tests/engine_server.py), not a stand-in."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from models.runners.engine import Capabilities
from webapp.views.engine import surprisal_note

TEXT = "The cat sat on the mat because it was warm."


class _Engine:
    url = "http://127.0.0.1:9/v1"

    def __init__(self, caps):
        self.caps = caps

    def known(self):
        return self.caps

    def probe(self):
        if self.caps is None:
            raise OSError("no server")
        return self.caps


def _manager(caps):
    return SimpleNamespace(engine=_Engine(caps),
                           device=SimpleNamespace(describe=lambda: "CPU (2 cores)"))


def test_the_note_says_who_computed_surprisal_and_why():
    assert surprisal_note(SimpleNamespace(engine=None), "en") == ""
    none = surprisal_note(_manager(Capabilities(chat=True)), "en")
    assert "this app's own PyTorch worker on CPU (2 cores)" in none
    assert "does not give the prompt's token probabilities" in none and _Engine.url in none
    zh = surprisal_note(_manager(Capabilities(chat=True)), "zh")
    assert "本应用自己的 PyTorch 进程" in zh and "提示词中各词元的概率" in zh
    vllm = surprisal_note(_manager(Capabilities(chat=True, logprobs=True, prompt_logprobs=True)),
                          "en")
    assert "top 10 and rank" in vllm and "does not give" not in vllm
    assert "cannot be reached" in surprisal_note(_manager(None), "en")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_surprisal_with_a_real_engine_stays_local_and_says_so(engine_manager, engine_server, lang):
    from webapp.tabs.pretrain import score_tokens
    manager = engine_manager                      # the run's manager with --engine-url
    head, *_rest, data = score_tokens(manager, "smollm2", TEXT, lang)
    assert data["engine"] == "local" and len(data["surprisal"]) == len(data["tokens"])
    caps = manager.engine.known()
    assert caps is not None and "prompt_logprobs" in caps.missing()   # the server's own answer
    if lang == "en":
        assert "computed by this app's own PyTorch worker" in head
        assert "does not give the prompt's token probabilities" in head
    else:
        assert "意外度由本应用自己的 PyTorch 进程" in head and "没有 echo" in head
    assert engine_server[0] in head
    # the engine's model is not offered for surprisal (it cannot give it)
    assert "engine:smollm2" not in [s.key for s in manager.registry.for_task("surprisal")]
