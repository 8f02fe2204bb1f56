"""What one request may allocate (models/core/budget.py) and the forward passes that keep to it
(models/runners/forward.py): the numbers they give are the plain forward pass's, whatever the
pieces; the estimate grows with what a request asks; a request that cannot fit is refused
with its sizes before anything is allocated."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from models.core import budget
from models.core.errors import UserError
from models.runners import forward
from models.runners.applications import span as apps_span
from tests.tiny import make_llama


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    """The tiny Llama (grouped-query attention, RoPE) as the manager would hold it."""
    from models.core.device import pick_device
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    folder = make_llama(tmp_path_factory.mktemp("llama") / "llama")
    mgr = ModelManager(Registry(tmp_path_factory.mktemp("cache"), online=False), pick_device("cpu"))
    key = mgr.register_local(str(folder), "llama").key
    with mgr.use(key) as lm:
        yield lm


def _plain_logprobs(lm, prompt: list[int], cont: list[int]) -> list[float]:
    """log P(cont[j] | prompt + cont[:j]) from one plain forward pass over everything."""
    ids = torch.tensor([prompt + cont])
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(input_ids=ids).logits[0].float(), -1)
    return [float(logp[len(prompt) - 1 + j, t]) for j, t in enumerate(cont)]


def test_continuations_read_in_pieces_give_the_plain_forward_pass_numbers(llama):
    """Rows and columns chosen by the budget — many at once, or one row of 16 tokens at a
    time — give the log-probabilities of one plain forward pass (to 1e-4), and the prompt's
    cache is unchanged after serving them (shared, never copied into)."""
    g = torch.Generator().manual_seed(0)
    vocab = llama.model.config.vocab_size
    prompt = torch.randint(5, vocab, (40,), generator=g).tolist()
    conts = [torch.randint(5, vocab, (n,), generator=g).tolist() for n in (1, 3, 17, 40, 5)]
    want = [_plain_logprobs(llama, prompt, c) for c in conts]
    shape = budget.forward_shape(llama.model)
    tight = budget.forward_bytes(shape, 1, 16, len(prompt) + 40)     # one row of 16 at a time
    for limit in (2**30, tight):
        lm = replace(llama, request_bytes=limit)
        read = forward.read_prompt(lm, prompt, chunk=7)
        before = [layer.keys.clone() for layer in read.cache.layers]
        got = forward.continuation_logprobs(lm, read, conts, next_ids=[3, 4])
        for w, s in zip(want, got):
            assert s.token_logp == pytest.approx(w, abs=1e-4)
            assert len(s.next_logp) == len(w) and all(v <= 0 for v in s.next_logp)
        assert all(torch.equal(b, layer.keys) for b, layer in zip(before, read.cache.layers))
        assert read.tokens == len(prompt)
    rows, cols = budget.pieces_that_fit(shape, tight, 40, len(prompt), 16)
    assert rows == 1 and cols <= 16                  # the tight share was read in small pieces


def test_span_scores_do_not_depend_on_the_memory_share(llama):
    """The answer pieces and summary sentences score the same under a generous and a tight
    share of memory (only the number of forward passes changes)."""
    context = "Paris is the capital of France. Berlin is in Germany. Rome is in Italy."
    tok = llama.tokenizer
    prompt = tok("Context: " + context + "\nQuestion: what is the capital of France?\nAnswer:",
                 add_special_tokens=False)["input_ids"]
    shape = budget.forward_shape(llama.model)
    runs = []
    for limit in (2**30, budget.forward_bytes(shape, 1, 16, len(prompt) + 40)):
        lm = replace(llama, request_bytes=limit)
        pieces = apps_span.score_pieces(lm, prompt, context, False, " ", [tok.eos_token_id])
        spans = apps_span.sentences(context)
        runs.append(([(p.start, p.end, p.score) for p in pieces],
                     apps_span.sentence_scores(lm, prompt, context, spans, " ")))
    (p1, s1), (p2, s2) = runs
    assert [x[:2] for x in p1] == [x[:2] for x in p2] and len(p1) > 20
    assert [x[2] for x in p1] == pytest.approx([x[2] for x in p2], abs=1e-4)
    assert s1 == pytest.approx(s2, abs=1e-4)


def test_the_estimate_grows_with_the_request_and_refuses_what_cannot_fit(llama):
    shape = budget.forward_shape(llama.model)
    small = budget.forward_bytes(shape, 1, 100, 0)
    assert budget.forward_bytes(shape, 2, 100, 0) > small
    assert budget.forward_bytes(shape, 1, 100, 1000) > small
    assert budget.forward_bytes(shape, 1, 100, 0, kept=1) < small       # logits of one position
    # the cache of a long context alone is over the share: refused with its sizes, nothing run
    limit = budget.forward_bytes(shape, 1, 16, 200)
    with pytest.raises(UserError) as err:
        budget.pieces_that_fit(shape, limit, 10, 100_000, 16)
    assert err.value.code == "request_too_big" and err.value.params["tokens"] == 100_010
    with pytest.raises(UserError) as err:
        forward.read_prompt(replace(llama, request_bytes=limit), list(range(5, 105)) * 1000)
    assert err.value.code == "request_too_big"
    # the share of the budget stays between its floor and its ceiling
    assert budget.request_bytes(10**9) == budget.MIN_REQUEST
    assert budget.request_bytes(10**12) == budget.MAX_REQUEST
    assert budget.request_bytes(8 * 10**9) == 10**9
