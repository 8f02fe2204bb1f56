"""Per-token surprisal: equals −log softmax of the model's own logits, perplexity = e^mean,
top-10 lists are the model's most likely next tokens."""
from __future__ import annotations

import math

import pytest
import torch

from models.core.errors import UserError
from models.runners.surprisal import token_surprisal


@pytest.fixture
def tiny_lm(make_manager, tiny_models):
    manager = make_manager()
    key = manager.register_local(str(tiny_models["llama"]), name="tiny-llama").key
    with manager.use(key) as lm:
        # The saved tiny model is near-uniform (every logit equal); spread its weights so the
        # predictions differ and rankings mean something.
        torch.manual_seed(0)
        with torch.no_grad():
            for p in lm.model.parameters():
                p.add_(torch.randn_like(p) * 0.5)
        yield lm


def _direct(lm, text):
    """−log p of each token computed straight from the logits, with the same BOS/EOS prefix."""
    tok = lm.tokenizer
    ids = tok(text, add_special_tokens=False)["input_ids"]
    prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    full = torch.tensor([[prefix] + ids])
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(full).logits[0].double(), -1)
    return ids, [float(-logp[i, t]) for i, t in enumerate(ids)], logp


def test_surprisal_matches_log_softmax_of_the_logits(tiny_lm):
    text = "the cat sat on the mat"
    res = token_surprisal(tiny_lm, text)
    ids, expected, logp = _direct(tiny_lm, text)
    assert res.token_ids == ids and len(res.tokens) == len(ids)
    assert res.surprisal == pytest.approx(expected, abs=1e-4)
    assert res.perplexity == pytest.approx(math.exp(sum(expected) / len(expected)), rel=1e-4)
    assert res.probs == pytest.approx([math.exp(-s) for s in expected], rel=1e-4)


def test_top10_are_the_most_likely_next_tokens(tiny_lm):
    text = "paris is the capital of france"
    res = token_surprisal(tiny_lm, text)
    _, _, logp = _direct(tiny_lm, text)
    for pos in range(len(res.tokens)):
        row = logp[pos + 1]                    # prediction made after token `pos`
        best = torch.topk(row, 10).indices.tolist()
        assert [c.token_id for c in res.top[pos]] == best
        probs = [c.prob for c in res.top[pos]]
        assert probs == sorted(probs, reverse=True)
        assert probs[0] == pytest.approx(float(row.exp().max()), rel=1e-4)
    for i, r in enumerate(res.rank):       # rank 1 exactly when the token was the first choice
        assert (r == 1) == (res.token_ids[i] == int(logp[i].argmax()))


def test_empty_text_and_an_encoder_are_refused(tiny_lm, make_manager, tiny_models):
    with pytest.raises(UserError) as err:
        token_surprisal(tiny_lm, "   ")
    assert err.value.code == "empty_text"
    manager = make_manager()
    key = manager.register_local(str(tiny_models["bert"]), name="enc").key
    with manager.use(key) as lm, pytest.raises(UserError) as err:
        token_surprisal(lm, "hello world")
    assert err.value.code == "wrong_task"


def test_long_text_is_cut_with_a_notice(tiny_lm):
    from webapp.i18n import render
    res = token_surprisal(tiny_lm, "the cat sat on the mat " * 100)
    assert res.notice and len(res.tokens) < tiny_lm.max_length
    zh = render(res.notice, "zh")                   # the Chinese UI reads it in Chinese
    assert "只给前" in zh and str(res.notice.params["n"]) in zh and "{" not in zh
    assert render(res.notice, "en") == \
        f"The text has {res.notice.params['n']} tokens; only the first {res.notice.params['limit']} were scored."


def test_tokens_that_are_part_of_a_character_show_whole_characters():
    """A byte-level BPE splits rare Chinese characters into byte tokens: the text view shows
    each character once (on the token that completes it, a placeholder before), a token alone
    shows its bytes in hex, and nothing ever shows "�" or raw byte-level symbols."""
    from models.training.pretrain import loop as pt
    from models.runners.token_text import PARTIAL, single_token_text, token_pieces, whole_characters
    tok = pt.train_tokenizer("小猫坐在垫子上。小狗坐在地毯上。\n" * 20, 300)
    text = "小猫喝水。鳄鱼🐊!"                        # 鳄, 🐊 never seen: split into bytes
    ids = tok(text, add_special_tokens=False)["input_ids"]
    pieces = token_pieces(tok, ids)
    assert "".join(p for p in pieces if p != PARTIAL) == text
    assert PARTIAL in pieces and len(pieces) == len(ids)
    alone = [single_token_text(tok, i) for i in ids]
    assert not any("\ufffd" in x for x in pieces + alone)
    assert any(x.startswith("⟨") and x.endswith("⟩") for x in alone)     # bytes in hex
    assert not any(ch in "".join(pieces) for ch in "æåçĥ")              # no byte-level symbols
    broken = tok.decode(ids[:-2])                                       # cut inside 🐊
    assert "\ufffd" in broken and "\ufffd" not in whole_characters(broken)
    assert whole_characters("a\x02b\x1bc\nd") == "abc\nd"
    # an untrained model's random bytes can spell private-use code points (a box, a logo)
    assert whole_characters("a\uf8ffb\ue000c\U000f0001d 中文 😀") == "abcd 中文 😀"


@pytest.mark.slow
def test_smollm2_is_less_surprised_by_the_right_answer(real_manager):
    with real_manager.use("smollm2") as lm:
        right = token_surprisal(lm, "The capital of France is Paris")
        wrong = token_surprisal(lm, "The capital of France is banana")
        ids, expected, _ = _direct(lm, "The capital of France is Paris")
    assert right.surprisal == pytest.approx(expected, abs=1e-3)
    assert right.surprisal[-1] < wrong.surprisal[-1] - 3
    assert right.perplexity < wrong.perplexity
    assert " Paris" in [c.token for c in right.top[-2]]       # predicted after "is"
