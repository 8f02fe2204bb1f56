"""The real packaged models: MiniLM (encoder) and SmolLM2-135M-Instruct (decoder, GGUF)."""
from __future__ import annotations

import pytest
import torch

from models.core.manager import ModelManager
from models.core.registry import Registry
from models.runners.generation import GenerationSettings, generate_text

pytestmark = pytest.mark.slow


def test_minilm_loads_and_returns_six_layers_of_attention(real_manager):
    with real_manager.use("minilm") as lm:
        enc = lm.tokenizer("Attention is all you need.", return_tensors="pt")
        with torch.inference_mode():
            out = lm.model(**enc, output_attentions=True)
    assert len(out.attentions) == 6
    n = enc["input_ids"].shape[1]
    assert out.attentions[0].shape == (1, 12, n, n)
    assert torch.allclose(out.attentions[3].sum(-1), torch.ones(1, 12, n), atol=1e-5)


def test_smollm2_knows_the_capital_of_france(real_manager):
    with real_manager.use("smollm2") as lm:
        answer = generate_text(lm, "What is the capital of France?",
                               GenerationSettings(max_new_tokens=24, greedy=True), chat=True)
    assert "Paris" in answer.text
    assert lm.n_params == 134_515_008


def test_smollm2_converted_copy_is_reused_on_the_next_load(real_manager, real_cache, monkeypatch):
    real_manager.load("smollm2")                       # converted once into real_cache
    converted = real_manager.registry.converted_dir(real_manager.registry.get("smollm2"))
    assert (converted / "model.safetensors").exists()
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    fresh = ModelManager(Registry(real_cache, online=False), real_manager.device)  # a restart

    def no_conversion(*args, **kwargs):
        raise AssertionError("the cached safetensors copy should have been used")
    monkeypatch.setattr(fresh, "_convert_gguf", no_conversion)
    assert {r.key: r.state for r in fresh.status().rows}["smollm2"] == "ready"
    lm = fresh.load("smollm2")
    assert lm.n_params == 134_515_008
    assert (converted / "model.safetensors").stat().st_mtime_ns == stamp
