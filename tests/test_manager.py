"""The shared model manager on tiny models loaded through the local-folder source."""
from __future__ import annotations

import threading
import weakref

import pytest

from models.core.device import format_bytes
from models.core.errors import UserError
from tests.conftest import join_all
from tests.messages import english


def _register(manager, tiny_models, *names):
    return [manager.register_local(str(tiny_models[n])).key for n in names]


def test_loads_once_under_eight_concurrent_requests(make_manager, tiny_models):
    manager = make_manager()
    (key,) = _register(manager, tiny_models, "llama")
    calls = []
    original = manager._load

    def counting(spec, progress):
        calls.append(spec.key)
        return original(spec, progress)
    manager._load = counting
    barrier, results, errors = threading.Barrier(8, timeout=60), [], []

    def worker():
        barrier.wait()
        try:
            with manager.use(key) as lm:
                results.append(lm)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    join_all(threads, 120, "the eight loads")
    assert not errors
    assert calls == [key]                       # loaded exactly once
    assert len({id(lm) for lm in results}) == 1  # everyone got the same model
    assert manager.status().rows and results[0].users == 0  # all released


def test_least_recently_used_idle_model_is_evicted(make_manager, tiny_models):
    probe = make_manager()
    keys = _register(probe, tiny_models, "bert", "gpt2", "llama")
    sizes = {k: probe.load(k).nbytes for k in keys}
    # room for the two largest but not all three
    budget = sum(sizes.values()) - min(sizes.values()) + 1
    manager = make_manager(budget=budget, cache_dir=probe.registry.cache_dir)
    a, b, c = keys
    manager.load(a)
    b_model = weakref.ref(manager.load(b).model)
    with manager.use(a):        # a is now the most recently used
        pass
    free_memory, seen = manager._free_memory, []

    def record_then_free():     # on a GPU, empty_cache only returns memory nobody references
        import gc
        gc.collect()
        seen.append(b_model() is None)
        free_memory()
    manager._free_memory = record_then_free
    manager.load(c)
    assert seen == [True]       # b was unreachable when the memory was handed back
    assert manager.is_loaded(a) and manager.is_loaded(c)
    assert not manager.is_loaded(b)
    assert manager.used_bytes() <= budget


def test_model_in_use_is_never_evicted(make_manager, tiny_models):
    probe = make_manager()
    a, b = _register(probe, tiny_models, "gpt2", "llama")
    size_a, size_b = probe.load(a).nbytes, probe.load(b).nbytes
    manager = make_manager(budget=max(size_a, size_b) + 1, cache_dir=probe.registry.cache_dir)
    with manager.use(a):
        with pytest.raises(UserError) as err:
            manager.load(b)
        assert err.value.code == "budget_busy"
        assert manager.is_loaded(a)
    manager.load(b)             # once a is released it can be evicted
    assert manager.is_loaded(b) and not manager.is_loaded(a)


def test_model_bigger_than_budget_is_refused_with_sizes(make_manager, tiny_models):
    manager = make_manager(budget=1000)
    (key,) = _register(manager, tiny_models, "bert")
    with pytest.raises(UserError) as err:
        manager.load(key)
    assert err.value.code == "too_big"
    need = format_bytes(manager.estimate_bytes(manager.registry.get(key)))
    assert f"needs {need}" in english(err.value) and "budget is 1.0 KB" in english(err.value)
    assert not manager.is_loaded(key)


def test_unload_and_status(make_manager, tiny_models):
    manager = make_manager()
    (key,) = _register(manager, tiny_models, "t5")
    row = {r.key: r for r in manager.status().rows}[key]
    assert row.state == "ready" and row.source == "local" and row.kind == "seq2seq"
    lm = manager.load(key)
    row = {r.key: r for r in manager.status().rows}[key]
    assert row.state == "loaded" and row.size_bytes == lm.nbytes > 0
    assert manager.used_bytes() == lm.nbytes
    with manager.use(key):
        with pytest.raises(UserError) as err:
            manager.unload(key)
        assert err.value.code == "model_in_use"
    assert manager.unload(key) is True
    assert manager.unload(key) is False
    assert manager.used_bytes() == 0


def test_every_tiny_architecture_loads_with_eager_attention(make_manager, tiny_models):
    manager = make_manager()
    for name in tiny_models:
        (key,) = _register(manager, tiny_models, name)
        lm = manager.load(key)
        assert lm.model.config._attn_implementation == "eager", name
        assert lm.n_params == sum(p.numel() for p in lm.model.parameters())


def test_unknown_model_key_is_a_clear_error(make_manager):
    with pytest.raises(UserError) as err:
        make_manager().load("no-such-model")
    assert err.value.code == "unknown_model" and "Models tab" in english(err.value)


def test_hub_model_offline_and_not_cached_is_refused_without_network(make_manager):
    manager = make_manager()
    row = {r.key: r for r in manager.status().rows}["hub:gpt2"]
    assert row.state == "needs download (offline)"
    with pytest.raises(UserError) as err:
        manager.load("hub:gpt2")
    assert err.value.code == "hub_offline"


def test_interrupted_gguf_conversion_never_leaves_a_usable_half_copy(make_manager, tiny_models,
                                                                     monkeypatch, tmp_path):
    """The conversion writes into a temp folder and renames it: a crash mid-save leaves
    nothing under the final name, so the next start converts again instead of loading junk."""
    import transformers

    manager = make_manager()
    spec = manager.registry.get("smollm2")
    fake_gguf = tmp_path / "pkg" / spec.gguf_file
    fake_gguf.parent.mkdir()
    fake_gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(manager.registry, "gguf_path", lambda s: fake_gguf)
    tiny = str(tiny_models["llama"])
    real_tok, real_model = transformers.AutoTokenizer.from_pretrained, \
        transformers.AutoModelForCausalLM.from_pretrained
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                        lambda *a, **k: real_tok(tiny))
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        lambda *a, **k: real_model(tiny, **{x: y for x, y in k.items() if x != "gguf_file"}))
    original_save = transformers.PreTrainedModel.save_pretrained

    def crash(self, folder, *a, **k):
        (folder / "model.safetensors").write_bytes(b"half")   # partial write, then power cut
        raise OSError("disk full")
    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", crash)
    with pytest.raises(OSError):
        manager.load("smollm2")
    final = manager.registry.converted_dir(spec)
    assert not final.exists() and list(final.parent.iterdir()) == []
    assert {r.key: r.state for r in manager.status().rows}["smollm2"] == "needs preparation"

    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", original_save)
    steps = []
    lm = manager.load("smollm2", progress=lambda f, m: steps.append((f, m)))
    assert (final / "config.json").exists() and lm.spec.key == "smollm2"
    assert any(m.code == "model_preparing" for _, m in steps) and steps[-1][0] == 1.0
    assert "Preparing SmolLM2" in english(next(m for _, m in steps if m.code == "model_preparing"))


def test_out_of_memory_becomes_a_clear_error_and_memory_is_freed(make_manager, monkeypatch):
    import torch
    manager = make_manager()
    freed = []
    monkeypatch.setattr(manager, "_free_memory", lambda: freed.append(True))
    with pytest.raises(UserError) as err:
        with manager.guard():
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert err.value.code == "oom" and "unload other models" in english(err.value)
    assert freed == [True]
