"""Cost-of-scale calculator: parameter counts equal the real models', GPT-3's compute matches the
published figure, memory adds up, absurd input gets a clear message."""
from __future__ import annotations

import pytest
from transformers import AutoModel, AutoModelForCausalLM

from models.runners import scale as sc
from models.core.errors import UserError
from models.core.files import model_params
from tests.messages import english


@pytest.mark.parametrize("name,auto", [("gpt2", AutoModelForCausalLM), ("llama", AutoModelForCausalLM),
                                       ("bert", AutoModel)])
def test_param_count_equals_real_tiny_models(tiny_models, name, auto):
    model = auto.from_pretrained(tiny_models[name])
    arch = sc.from_config(model.config)
    assert sc.count_params(arch).total == model_params(model)


def test_untied_head_counts_the_output_matrix_once_more(tiny_models):
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config(vocab_size=300, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                     tie_word_embeddings=False)
    model = GPT2LMHeadModel(cfg)
    arch = sc.from_config(model.config)
    assert not arch.tied
    assert sc.count_params(arch).total == model_params(model)
    tied = sc.count_params(sc.Architecture(**{**arch.__dict__, "tied": True})).total
    assert sc.count_params(arch).total - tied == 300 * 32


def test_gpt3_preset_compute_is_about_3_14e23():
    p = sc.preset("gpt3")
    est = sc.estimate(p.arch, sc.TrainingSetup(tokens=p.tokens))
    assert abs(est.flops - 3.14e23) / 3.14e23 < 0.05
    assert 170e9 < est.params.total < 180e9


def test_presets_of_known_models_have_their_published_sizes():
    sizes = {"gpt2": 124_439_808, "bert-base": 109_482_240, "minilm": 22_713_216,
             "smollm2": 134_515_008}
    for key, n in sizes.items():
        assert sc.count_params(sc.preset(key).arch).total == n, key


def test_memory_and_time_add_up():
    arch = sc.preset("gpt2").arch
    fp32 = sc.estimate(arch, sc.TrainingSetup(tokens=1e9, gpus=1, gpu_tflops=100, utilisation=0.5,
                                              dtype="fp32"))
    bf16 = sc.estimate(arch, sc.TrainingSetup(tokens=1e9, gpus=1, gpu_tflops=100, utilisation=0.5,
                                              dtype="bf16"))
    n = fp32.params.total
    assert fp32.inference_weights == 4 * n and bf16.inference_weights == 2 * n
    # 16 bytes per parameter of weight + gradient + optimizer state in both precisions
    assert fp32.train_weights + fp32.train_gradients + fp32.train_adam == 16 * n
    assert bf16.train_weights + bf16.train_gradients + bf16.train_adam == 16 * n
    assert bf16.train_activations == pytest.approx(fp32.train_activations / 2)
    assert fp32.train_total > fp32.inference_total
    assert fp32.seconds == pytest.approx(6 * n * 1e9 / (100e12 * 0.5))
    two = sc.estimate(arch, sc.TrainingSetup(tokens=1e9, gpus=2, gpu_tflops=100, utilisation=0.5))
    assert two.seconds == pytest.approx(fp32.seconds / 2)


def test_cost_grows_with_width():
    rows = sc.growth(sc.preset("gpt2").arch, sc.TrainingSetup())
    params = [r.params.total for r in rows]
    assert params == sorted(params) and params[-1] > 100 * params[0]


@pytest.mark.parametrize("change", [{"n_layers": -3}, {"n_layers": 0}, {"n_layers": 10**15},
                                    {"d_model": 0}, {"vocab": -1}, {"context": float("nan")}])
def test_absurd_architecture_gets_a_clear_message(change):
    arch = sc.Architecture(**{**sc.preset("gpt2").arch.__dict__, **change})
    with pytest.raises(UserError) as err:
        sc.count_params(arch)
    assert err.value.code == "scale_out_of_range"
    assert "between" in english(err.value)


def test_heads_must_divide_width_and_setup_is_checked():
    with pytest.raises(UserError, match="scale_heads_divide"):
        sc.count_params(sc.Architecture(d_model=100, n_heads=7))
    for bad in ({"gpus": 0}, {"utilisation": 1.5}, {"tokens": -5}, {"dtype": "fp8"}):
        with pytest.raises(UserError):
            sc.estimate(sc.preset("gpt2").arch, sc.TrainingSetup(**bad))


@pytest.mark.slow
@pytest.mark.parametrize("key", ["minilm", "smollm2"])
def test_param_count_equals_packaged_models(real_manager, key):
    with real_manager.use(key) as lm:
        arch = sc.from_config(lm.model.config)
        assert sc.count_params(arch).total == model_params(lm.model)
        assert arch == sc.preset(key).arch        # the preset describes the packaged model
