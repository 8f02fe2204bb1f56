"""The table of model families (models/core/families.py): every tiny model the tests build has an
entry, and the registry reads what a family can do from it."""
from __future__ import annotations

import json

import pytest

from models.core.families import FAMILIES, family_of
from models.core.registry import describe_config
from tests.tiny import BUILDERS


def test_every_tiny_model_family_has_an_entry(tiny_models):
    for name, folder in tiny_models.items():
        config = json.loads((folder / "config.json").read_text())
        family = family_of(config)
        assert family is not None, f"tiny {name} ({config['model_type']}) has no family entry"
        kind, _head, _tasks = describe_config(config)
        assert kind == family.kind, name


def test_model_types_are_unique_and_entries_are_consistent():
    seen = [mt for fam in FAMILIES for mt in fam.model_types]
    assert len(seen) == len(set(seen))
    assert {f.scale for f in FAMILIES if f.scale} == {"gpt2", "bert", "llama"}
    assert all(f.kind in ("encoder", "decoder", "seq2seq") for f in FAMILIES)
    assert {name.split("-")[0] for name in BUILDERS} <= {f.name for f in FAMILIES}


def test_one_direction_translators_only_translate():
    _kind, _head, tasks = describe_config({"model_type": "marian", "is_encoder_decoder": True})
    assert tasks == frozenset({"translate", "attention"})


def test_a_misspelt_task_is_an_error_not_an_empty_list(make_manager):
    with pytest.raises(ValueError, match="unknown task"):
        make_manager().registry.for_task("sumarize")
