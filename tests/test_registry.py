"""Registry: sources, availability without network, user additions that persist."""
from __future__ import annotations

import sqlite3

import pytest

from models.core.device import parse_bytes
from models.core.errors import UserError
from models.core.registry import Registry, safetensors_params
from tests.messages import english


def test_packaged_models_are_listed_with_their_sources(tmp_path):
    reg = Registry(tmp_path)
    minilm, smol = reg.get("minilm"), reg.get("smollm2")
    assert (minilm.source, minilm.kind, smol.source, smol.kind) == ("packaged", "encoder", "packaged", "decoder")
    assert reg.availability(minilm) == "ready"
    # SmolLM2 ships as GGUF: ready, after a one-time conversion into this (empty) cache
    assert reg.availability(smol) == "needs preparation"
    assert {s.key for s in reg.for_task("generate")} >= {"smollm2", "hub:gpt2"}
    assert reg.params(minilm) == safetensors_params(reg.files_dir(minilm)) == 22_713_216


def test_local_folder_is_registered_and_persists(tmp_path, tiny_models):
    reg = Registry(tmp_path / "cache")
    spec = reg.add_local(str(tiny_models["distilbert-qa"]), name="my qa")
    assert spec.key == "local:my-qa" and spec.head == "qa" and "answer" in spec.tasks
    again = Registry(tmp_path / "cache")           # a server restart
    assert again.get("local:my-qa").location == spec.location
    stored = sqlite3.connect(again.store.path).execute("SELECT name, location FROM models")
    assert stored.fetchall() == [("my qa", spec.location)]
    assert not (tmp_path / "cache" / "registry.json").exists()      # the store holds them


@pytest.mark.parametrize("make, code", [
    (lambda p: str(p / "nowhere"), "folder_missing"),
    (lambda p: (p / "empty").mkdir() or str(p / "empty"), "folder_no_config"),
    (lambda p: (p / "cfg").mkdir() or (p / "cfg" / "config.json").write_text("{}") and str(p / "cfg"),
     "folder_no_weights"),
    (lambda p: "", "folder_missing"),
])
def test_bad_local_folders_are_refused(tmp_path, make, code):
    reg = Registry(tmp_path / "cache")
    with pytest.raises(UserError) as err:
        reg.add_local(make(tmp_path))
    assert err.value.code == code


def test_hub_ids_offline(tmp_path):
    reg = Registry(tmp_path, online=False)
    with pytest.raises(UserError) as err:
        reg.add_hub("someone/some-model")
    assert err.value.code == "hub_offline" and "offline" in english(err.value)
    with pytest.raises(UserError) as err:
        reg.add_hub("../../etc/passwd")
    assert err.value.code == "hub_bad_id"


def test_corrupt_registry_file_does_not_stop_the_app(tmp_path):
    (tmp_path / "registry.json").write_text("{not json")
    assert Registry(tmp_path).get("minilm")


def test_parse_bytes():
    assert parse_bytes("4GB") == 4 * 10**9 and parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes(None) is None
    with pytest.raises(ValueError):
        parse_bytes("lots")
    with pytest.raises(ValueError):
        parse_bytes("-1GB")


def test_folder_kinds_decide_the_tasks_offered(tmp_path, tiny_models):
    reg = Registry(tmp_path / "cache")
    marian = reg.add_local(str(tiny_models["marian"]))
    t5 = reg.add_local(str(tiny_models["t5"]))
    llama, gpt2 = reg.add_local(str(tiny_models["llama"])), reg.add_local(str(tiny_models["gpt2"]))
    assert marian.tasks == {"translate", "attention"}          # one direction, no summaries
    assert {"summarize", "translate"} <= t5.tasks
    assert llama.chat and "chat" in llama.tasks                 # has a chat template
    assert not gpt2.chat and "chat" not in gpt2.tasks
