"""Attention extraction and the formula walkthrough, on tiny random models of the real
architectures (BERT, Llama with GQA + RoPE, GPT-2, T5, BART) and, marked slow, on the packaged
MiniLM and SmolLM2."""
from __future__ import annotations

import numpy as np
import pytest

from models.runners.attention import MAX_TOKENS, extract, head_csv, head_summary
from models.runners.walkthrough import walkthrough
from models.core.errors import UserError
from tests.messages import english

TEXT = "the cat sat on the mat"
TARGET = "the dog ran in the park"


@pytest.fixture(scope="module")
def tiny(tiny_models, tmp_path_factory):
    """One manager with every tiny model registered: {name: (manager, key)}."""
    from models.core.device import pick_device
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    manager = ModelManager(Registry(tmp_path_factory.mktemp("att-cache"), online=False),
                           pick_device("cpu"))
    keys = {name: manager.register_local(str(path), f"tiny-{name}").key
            for name, path in tiny_models.items()}
    return manager, keys


def _extract(tiny, name, text=TEXT, target=""):
    manager, keys = tiny
    with manager.use(keys[name]) as lm:
        return extract(lm, text, target)


def _walk(tiny, name, **kw):
    manager, keys = tiny
    with manager.use(keys[name]) as lm:
        return walkthrough(lm, kw.pop("text", TEXT), kw.pop("target", TARGET), **kw)


@pytest.mark.parametrize("name", ["bert", "llama", "gpt2", "t5", "bart", "distilbert-qa"])
def test_rows_are_probability_distributions(tiny, name):
    result = _extract(tiny, name, target=TARGET)
    for amap in result.maps.values():
        w = amap.weights
        assert w.ndim == 4 and w.shape[2] == len(amap.query_tokens)
        assert w.shape[3] == len(amap.key_tokens)
        np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
        assert (w >= 0).all()


@pytest.mark.parametrize("name", ["llama", "gpt2"])
def test_decoder_is_causal_and_marks_the_continuation(tiny, name):
    result = _extract(tiny, name, target=TARGET)
    amap = result.maps["self"]
    n = len(result.tokens)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    assert np.abs(amap.weights[..., upper]).max() == 0.0
    assert amap.weights[..., ~upper].max() > 0
    # the boundary is where the target's tokens begin
    alone = _extract(tiny, name, text=TEXT)
    assert result.boundary == len(alone.tokens)
    assert result.tokens[:result.boundary] == alone.tokens


def test_cross_attention_is_target_by_source(tiny):
    result = _extract(tiny, "t5", target="the dog ran")
    cross = result.maps["cross"]
    assert cross.kind == "cross"
    assert cross.weights.shape[2:] == (len(result.target_tokens), len(result.tokens))
    assert len(result.target_tokens) != len(result.tokens)   # the test tells the axes apart
    assert set(result.maps) == {"encoder", "decoder", "cross"}
    dec = result.maps["decoder"].weights
    m = dec.shape[-1]
    assert np.abs(dec[..., np.triu(np.ones((m, m), dtype=bool), 1)]).max() == 0.0


def test_encoder_sentence_pair_boundary(tiny):
    result = _extract(tiny, "bert", target="hello world")
    assert result.tokens[0] == "[CLS]"
    assert result.tokens[result.boundary - 1] == "[SEP]"
    assert result.tokens[result.boundary] == "hello"


def test_long_text_is_truncated_with_notice(tiny):
    long = " ".join(["the cat sat on the mat"] * 60)     # > 128 positions of the tiny BERT
    result = _extract(tiny, "bert", text=long)
    assert len(result.tokens) == 128 <= MAX_TOKENS
    assert result.notice and "128" in english(result.notice)
    assert result.notice.code == "att_cut_text" and result.notice.params["limit"] == 128


def test_long_decoder_input_keeps_the_continuation(tiny):
    long = " ".join(["the cat sat on the mat"] * 40)      # > 128 positions of the tiny Llama
    result = _extract(tiny, "llama", text=long, target=TARGET)
    assert len(result.tokens) == 128 and result.notice
    alone = _extract(tiny, "llama", text=TARGET)
    cont = result.tokens[result.boundary:]
    assert 0 < len(cont) and "".join(cont).strip() == "".join(alone.tokens).strip()


def test_bad_input_gets_clear_errors(tiny):
    with pytest.raises(UserError) as e:
        _extract(tiny, "bert", text="   ")
    assert e.value.code == "empty_text"
    result = _extract(tiny, "bert")
    with pytest.raises(UserError) as e:
        result.maps["self"].head(2, 0)                  # tiny BERT has layers 0-1
    assert e.value.code == "att_bad_index" and "0 to 1" in english(e.value)
    with pytest.raises(UserError):
        result.maps["self"].head(0, 4)
    with pytest.raises(UserError) as e:
        _walk(tiny, "bert", layer=0, head=0, query=99)
    assert e.value.code == "att_bad_query"
    manager, _ = tiny
    with pytest.raises(UserError) as e:
        manager.registry.get("no-such-model")
    assert e.value.code == "unknown_model"


def test_model_without_attention_weights_is_a_clear_error(tiny):
    manager, keys = tiny
    with manager.use(keys["bert"]) as lm:
        lm.model.set_attn_implementation("sdpa")
        try:
            from models.runners.attention import _stack
            with pytest.raises(UserError) as e:
                _stack((), "self")
            assert e.value.code == "att_unavailable"
            # extract() switches such a model back to eager instead of showing nothing
            result = extract(lm, TEXT)
            assert result.maps["self"].weights.shape[0] == 2
        finally:
            lm.model.set_attn_implementation("eager")


@pytest.mark.parametrize("name,views", [("bert", ["self"]), ("llama", ["self"]),
                                        ("gpt2", ["self"]), ("bart", ["encoder", "decoder", "cross"]),
                                        ("t5", ["encoder", "decoder", "cross"])])
def test_walkthrough_matches_the_models_own_weights(tiny, name, views):
    for view in views:
        for layer in (0, 1):
            for head in range(4):
                w = _walk(tiny, name, component=view, layer=layer, head=head, query=2)
                assert w.max_abs_diff < 1e-5, (name, view, layer, head, w.max_abs_diff)
                np.testing.assert_allclose(w.recomputed.sum(-1), 1.0, atol=1e-5)
                # the recomputation is specific to this head: a neighbour's weights differ
                other = _walk(tiny, name, component=view, layer=layer, head=(head + 1) % 4, query=2)
                assert np.abs(other.returned - w.recomputed).max() > 1e-3


def test_walkthrough_llama_uses_rope_and_gqa(tiny):
    w = _walk(tiny, "llama", layer=1, head=3, query=4)
    assert w.rope and w.n_heads == 4 and w.n_kv_heads == 2 and w.kv_head == 1
    assert [s.key for s in w.steps][:5] == ["x", "q", "k", "v", "rope"]
    q, rope = w.step("q").values, w.step("rope").values
    np.testing.assert_allclose(q[0], rope[0], atol=1e-6)       # position 0: no rotation
    assert np.abs(q[1:] - rope[1:]).max() > 1e-3               # later positions rotate
    # without the rotation the softmax would not match the model: RoPE matters
    import torch
    k = torch.from_numpy(w.step("k").values)
    plain = torch.softmax(torch.from_numpy(q) @ k.T * w.scale
                          + torch.triu(torch.full((len(q), len(q)), float("-inf")), 1), -1)
    assert float((plain - torch.from_numpy(w.returned)).abs().max()) > 1e-4
    assert np.isneginf(w.step("masked").values[0, 1:]).all()   # causal mask


def test_walkthrough_of_a_half_precision_model_leaves_the_model_alone(tiny, tiny_models):
    """GPUs load models in bf16: the walkthrough recomputes in float32 on a copy of the one
    attention module, so the shared model keeps working for everyone else."""
    import torch
    manager, _ = tiny
    key = manager.register_local(str(tiny_models["llama"]), "tiny-llama-bf16").key
    with manager.use(key) as lm:
        lm.model.to(torch.bfloat16)
        w = walkthrough(lm, TEXT, "", "self", 1, 2, 3)
        assert w.dtype == "bfloat16" and w.recomputed.dtype == np.float32
        assert 0 < w.max_abs_diff < 0.05                  # bf16 rounding, reported as it is
        assert {p.dtype for p in lm.model.parameters()} == {torch.bfloat16}
        assert extract(lm, TEXT).maps["self"].weights.shape[0] == 2
    manager.unload(key)


def test_walkthrough_t5_has_no_sqrt_dk_but_a_position_bias(tiny):
    w = _walk(tiny, "t5", component="encoder", layer=1, head=0)
    assert w.scale == 1.0 and w.position_bias
    keys = [s.key for s in w.steps]
    assert "scaled" not in keys and "bias" in keys
    cross = _walk(tiny, "t5", component="cross", layer=0, head=1)
    assert not cross.position_bias and cross.recomputed.shape == (len(cross.query_tokens),
                                                                   len(cross.key_tokens))


def test_head_summary_finds_head_types(tiny):
    amap = _extract(tiny, "llama", target=TARGET).maps["self"]
    n = amap.weights.shape[-1]
    for metric in ("entropy", "previous", "self", "first", "distance"):
        s = head_summary(amap, metric)
        assert s.shape == (amap.layers, amap.heads) and np.isfinite(s).all()
    ent = head_summary(amap, "entropy")
    assert (ent >= 0).all() and (ent <= np.log2(n) + 1e-4).all()
    # a synthetic "previous token" head scores 1 on `previous`
    w = np.zeros_like(amap.weights)
    w[..., 0, 0] = 1
    w[..., np.arange(1, n), np.arange(n - 1)] = 1
    from dataclasses import replace
    prev = head_summary(replace(amap, weights=w), "previous")
    np.testing.assert_allclose(prev, 1.0)
    assert head_summary(replace(amap, weights=w), "self").max() < 0.1


def test_csv_has_tokens_and_rows(tiny):
    amap = _extract(tiny, "bert").maps["self"]
    lines = head_csv(amap, 1, 2).strip().splitlines()
    assert len(lines) == 1 + len(amap.query_tokens)
    first = lines[1].split(",")
    assert first[0] == "0:[CLS]"
    assert abs(sum(float(v) for v in first[1:]) - 1) < 1e-4


# ---- real packaged models ------------------------------------------------------------------
@pytest.mark.slow
def test_minilm_walkthrough_verifies(real_manager):
    with real_manager.use("minilm") as lm:
        result = extract(lm, "The cat sat on the mat because it was tired.", "It slept.")
        assert result.maps["self"].weights.shape[:2] == (6, 12)
        for layer, head in [(0, 0), (2, 7), (5, 11)]:
            w = walkthrough(lm, "The cat sat on the mat because it was tired.", "It slept.",
                            "self", layer, head, 3)
            assert w.family == "bert" and w.max_abs_diff < 1e-4, (layer, head, w.max_abs_diff)


@pytest.mark.slow
def test_smollm2_walkthrough_verifies(real_manager):
    with real_manager.use("smollm2") as lm:
        text, cont = "Paris is the capital of", " France. It is a big city."
        result = extract(lm, text, cont)
        amap = result.maps["self"]
        assert amap.weights.shape[:2] == (30, 9) and result.kv_heads == 3
        assert result.boundary is not None
        for layer, head in [(0, 0), (7, 4), (15, 8), (29, 5)]:
            w = walkthrough(lm, text, cont, "self", layer, head, result.boundary)
            assert w.rope and w.kv_head == head // 3
            assert w.max_abs_diff < 1e-4, (layer, head, w.max_abs_diff)
