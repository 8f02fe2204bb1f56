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


def test_every_reader_follows_the_table(tiny_models, make_manager):
    """The walkthrough finds Q, K, V for every tiny model whose family names an attention
    layout; the calculator counts exactly the parameters of every family with a formula; a
    model whose family has neither gets the readers' clear messages."""
    from models.core.errors import UserError
    from models.runners import scale as sc
    from models.runners.walkthrough import walkthrough
    manager = make_manager()
    for name, folder in tiny_models.items():
        config = json.loads((folder / "config.json").read_text())
        fam = family_of(config)
        key = manager.register_local(str(folder), f"tiny-{name}").key
        with manager.use(key) as lm:
            if fam.attention:
                w = walkthrough(lm, "the cat sat on the mat", "it slept" if fam.kind == "seq2seq"
                                else "", "self" if fam.kind != "seq2seq" else "encoder", 0, 0)
                assert w.max_abs_diff < 1e-4, name
                assert (w.step("rope") is not None) == fam.rope, name
                assert (w.step("scaled") is not None) == fam.scaled, name
            else:
                with pytest.raises(UserError, match="att_walk_unsupported"):
                    walkthrough(lm, "the cat sat", "", "self", 0, 0)
            if fam.scale:
                counted = sc.count_params(sc.from_config(config)).total
                assert counted == sum(p.numel() for p in lm.model.parameters()), name
            else:
                with pytest.raises(UserError):
                    sc.from_config(config)
