"""models/core/errors.py check_ranges: the one range check every settings object uses."""
from __future__ import annotations

import math

import pytest

from models.core.errors import UserError, check_ranges, in_range
from tests.messages import english


@pytest.mark.parametrize("value, ok", [
    (1, True), (5, True), (10, True), (2.5, True), (0, False), (11, False), (None, False),
    (math.nan, False), (math.inf, False), ("5", False), (b"5", False), ([5], False)])
def test_in_range(value, ok):
    assert in_range(value, 1, 10) is ok


def test_check_ranges_names_the_first_bad_value():
    def error(name, value, low, high):
        return UserError("bad", f"{name}={value} not in {low}-{high}", name=name)

    limits = {"a": (1, 10), "b": (0.5, 1.0), "c": (0, 3)}
    check_ranges({"a": 3, "b": 0.5, "c": 0}, limits, error)             # all fine: no error
    with pytest.raises(UserError) as err:
        check_ranges({"a": 3, "b": 2.0, "c": -1}, limits, error)
    assert err.value.params == {"name": "b"} and english(err.value) == "b=2.0 not in 0.5-1.0"


def test_every_settings_object_uses_it():
    from models.training.pretrain import loop as pt
    from models.runners import scale as sc
    from models.training.finetune.loop import FinetuneConfig
    from models.training.finetune.data import split
    with pytest.raises(UserError) as ft:
        FinetuneConfig(val_fraction=0.9).check()
    with pytest.raises(UserError) as sp:
        split(None, 0.9, 0)                                   # refused before the data is read
    assert (ft.value.code, english(ft.value)) == (sp.value.code, english(sp.value)) == (
        "ft_bad_setting", "val_fraction = 0.9 is out of range; use a value from 0.05 to 0.5.")
    with pytest.raises(UserError) as pre:
        pt.PretrainConfig(steps=0).check()
    assert pre.value.code == "pre_bad_setting" and pre.value.params["field"] == "steps"
    from webapp.i18n import render                            # the setting named in both languages
    assert "训练步数" in render(pre.value, "zh") and "Training steps" in render(pre.value, "en")
    with pytest.raises(UserError) as scale:
        sc.Architecture("gpt2", n_layers=float("nan"), d_model=64, n_heads=4, vocab=100,
                        context=32).check()
    assert scale.value.code == "scale_out_of_range" and scale.value.params["value"] == "nan"


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("   ", None), (3, 3.0), (2.5, 2.5), (" 2e-4 ", 2e-4), ("7", 7.0)])
def test_read_number(value, expected):
    from webapp.common import read_number
    assert read_number(value) == expected


@pytest.mark.parametrize("value", ["fast", "1,5", [1], object()])
def test_read_number_refuses_what_is_not_a_number(value):
    from webapp.common import read_number
    with pytest.raises(ValueError):
        read_number(value)


def test_the_tabs_read_numbers_through_it():
    """Fine-tune, Pre-training and Scale keep their own codes for what read_number refuses."""
    from webapp.tabs import finetune as tab_finetune
    from webapp.tabs import pretrain as tab_pretrain
    from webapp.tabs import scale as tab_scale
    assert tab_finetune._number(" 5 ", "epochs", int) == 5
    for bad in ("fast", None, ""):
        with pytest.raises(UserError) as err:
            tab_finetune._number(bad, "learning_rate")
        assert err.value.code == "ft_not_number"
    with pytest.raises(UserError) as err:                        # an empty box: check() names it
        tab_pretrain.pretrain_config("run", "", 128, 4, 64, 2000, 16, 3e-3, 300, 25, "", 0)
    assert err.value.code == "pre_bad_setting" and err.value.params["field"] == "n_layer"
    assert tab_pretrain.pretrain_config("run", "2", 128, 4, 64, 2000, 16, "3e-3", 300, 25, "",
                                        0).n_layer == 2
    assert tab_scale._whole("n_layers", " 12 ") == 12
    for bad, code in ((None, "scale_empty_field"), ("  ", "scale_empty_field"),
                      ("many", "scale_out_of_range"), (2.5, "scale_not_whole")):
        with pytest.raises(UserError) as err:
            tab_scale._whole("n_layers", bad)
        assert err.value.code == code
