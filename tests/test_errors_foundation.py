"""Error messages of the Models tab and the model manager, in English and Chinese.

CASES go through the running app's API (the handlers users reach); DIRECT_CODES are raised by
the manager and registry in situations an API call cannot set up on this machine (a tiny
memory budget, a model held by a request, the device out of memory, no network), and are
checked here through the same translation the UI uses (webapp/common.message_text)."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from models.core.errors import UserError
from tests.messages import LANG, check_message, run_cases
from webapp.common import message_text

CASES = [
    ("unknown_model", "/load_model", ["gpt-17", LANG]),
    ("hub_offline", "/load_model", ["hub:gpt2", LANG]),
    ("folder_missing", "/add_model", ["/no/such/folder", LANG]),
    ("folder_no_config", "/add_model", ["/", LANG]),
    ("hub_bad_id", "/add_model", ["not a hub id!", LANG]),
    ("model_not_removable", "/delete_model", ["smollm2", LANG]),
    ("job_unknown", "/finetune_status", ["finetune-nosuchjob", LANG]),
]
DIRECT_CODES = {"folder_no_weights", "folder_bad_config", "too_big", "budget_busy", "train_too_big",
                "model_in_use", "oom", "model_missing", "hub_not_found", "engine_not_set",
                "request_too_big"}

WORDS = {"unknown_model": ("There is no model called 'gpt-17'", "没有名为"),
         "hub_offline": ("offline", "离线"),
         "folder_no_config": ("config.json", "config.json"),
         "model_not_removable": ("cannot be deleted", "不能删除"),
         "job_unknown": ("There is no job", "没有任务")}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_models_tab_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def _raised(call) -> UserError:
    with pytest.raises(UserError) as err:
        call()
    return err.value


def _check_both(exc: UserError, code: str) -> None:
    assert exc.code == code
    for lang in ("en", "zh"):
        check_message(message_text(exc, lang), lang)


def test_folder_errors(make_manager, tiny_models, tmp_path):
    manager = make_manager()
    no_weights = shutil.copytree(tiny_models["bert"], tmp_path / "no-weights")
    for f in no_weights.glob("*.safetensors"):
        f.unlink()
    _check_both(_raised(lambda: manager.register_local(str(no_weights))), "folder_no_weights")
    bad = shutil.copytree(tiny_models["bert"], tmp_path / "bad-config")
    (bad / "config.json").write_text("{not json", encoding="utf-8")
    _check_both(_raised(lambda: manager.register_local(str(bad))), "folder_bad_config")


def test_budget_errors(make_manager, tiny_models):
    tiny = make_manager(budget=1000)
    spec = tiny.register_local(str(tiny_models["bert"]))
    _check_both(_raised(lambda: tiny.load(spec.key)), "too_big")

    manager = make_manager()
    a = manager.register_local(str(tiny_models["bert"]))
    b = manager.register_local(str(tiny_models["gpt2"]))
    with manager.use(a.key) as lm:
        _check_both(_raised(lambda: manager.unload(a.key)), "model_in_use")
        # b fits the budget alone, but not beside a, which is busy and cannot be evicted
        manager.budget_bytes = manager.estimate_bytes(b) + lm.nbytes // 2
        _check_both(_raised(lambda: manager.load(b.key)), "budget_busy")


def test_request_too_big_message(make_manager, tiny_models):
    """A request whose context alone is over a request's share of memory is refused before
    anything runs (models/core/budget.py)."""
    from dataclasses import replace
    from models.runners.forward import read_prompt
    manager = make_manager()
    spec = manager.register_local(str(tiny_models["llama"]))
    with manager.use(spec.key) as lm:
        exc = _raised(lambda: read_prompt(replace(lm, request_bytes=10_000), list(range(5, 500))))
    _check_both(exc, "request_too_big")
    assert "495" in message_text(exc, "en") and "495" in message_text(exc, "zh")


def test_training_too_big_message(make_manager):
    manager = make_manager(budget=1000)

    def reserve():
        with manager.reserve(10_000, "finetune-x", "my-classifier"):
            pass
    _check_both(_raised(reserve), "train_too_big")


def test_out_of_memory_message(make_manager):
    manager = make_manager()

    def run_out():
        with manager.guard():
            raise torch.OutOfMemoryError("CUDA out of memory")
    _check_both(_raised(run_out), "oom")


def test_missing_files_message(make_manager, tiny_models, tmp_path):
    manager = make_manager()
    folder = shutil.copytree(tiny_models["bert"], tmp_path / "soon-gone")
    spec = manager.register_local(str(folder))
    shutil.rmtree(folder)
    _check_both(_raised(lambda: manager.load(spec.key)), "model_missing")


def test_hub_not_found_message(make_manager, monkeypatch):
    """Online, a Hub id that does not exist. The Hub download is replaced by one that fails as
    it does for a missing repository (tests never touch the network)."""
    import huggingface_hub

    def not_found(*_a, **_k):
        raise huggingface_hub.errors.RepositoryNotFoundError("404 Client Error")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", not_found)
    manager = make_manager()
    manager.registry.online = True
    exc = _raised(lambda: manager.register_hub("someone/no-such-model"))
    _check_both(exc, "hub_not_found")
    assert json.dumps(exc.params)          # parameters are plain data (the UI formats them)


def test_engine_model_without_an_engine_message(make_manager):
    """A serving engine's model in the list while no engine is set up (app.py --engine-url)."""
    from models.core.registry import ModelSpec
    manager = make_manager()
    spec = manager.registry.add_spec(ModelSpec("engine:x", "Served X", "engine", "decoder",
                                               "causal-lm", "http://127.0.0.1:9/v1"))
    exc = _raised(lambda: manager.load(spec.key))
    _check_both(exc, "engine_not_set")
    assert "Served X" in message_text(exc, "en") and "--engine-url" in message_text(exc, "zh")
