"""Error messages of the Cost of scale tab, in English and Chinese.

CASES go through /compute_estimate (the tab's Estimate button) with the GPT-3 preset's boxes
and one box changed. DIRECT_CODES cannot be reached by an API call (the family and precision
are radio buttons Gradio checks first; presets are picked from a list; a loaded model of an
unknown architecture is refused when its preset fills the boxes): they are raised by the tab's
handlers here and checked through the translation the UI uses (webapp/common.message_text)."""
from __future__ import annotations

import pytest

from models.runners import scale as sc

from tests.messages import LANG, check_raised, run_cases



def estimate(**change):
    """Arguments of /compute_estimate: GPT-3 on 300B tokens, with `change` applied."""
    args = dict(preset="gpt3", family="gpt2", layers=96, width=12288, heads=96, kv=0, ff=0,
                vocab=50257, context=2048, tied=True, tokens=300, gpus=1024, tflops=312,
                util=40, dtype="bf16", batch=1)
    args.update(change)
    return list(args.values()) + [LANG]


CASES = [
    ("scale_out_of_range", "/compute_estimate", estimate(layers=1e15)),
    ("scale_out_of_range", "/compute_estimate", estimate(gpus=0)),
    ("scale_heads_divide", "/compute_estimate", estimate(width=100, heads=3)),
    ("scale_kv_divide", "/compute_estimate", estimate(kv=5)),
    ("scale_empty_field", "/compute_estimate", estimate(layers=None)),
    ("scale_empty_field", "/compute_estimate", estimate(tokens=None)),
    ("scale_not_whole", "/compute_estimate", estimate(layers=2.5)),
]
DIRECT_CODES = {"scale_bad_family", "scale_bad_dtype", "scale_unknown_arch",
                "scale_unknown_preset"}

WORDS = {
    "scale_out_of_range": ("between", "之间"),
    "scale_heads_divide": ("100", "100"),
    "scale_kv_divide": ("5 key/value heads", "5 个键/值头"),
    "scale_empty_field": ("empty", "空的"),
    "scale_not_whole": ("2.5", "2.5"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_scale_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def test_errors_no_api_call_can_reach(make_manager, tiny_models):
    from webapp.tabs import scale as tab_scale
    manager = make_manager()
    args = estimate()[1:-1]
    check_raised(lambda: tab_scale.estimate_view(manager, "gpt3", "rnn", *args[1:], "en"),
           "scale_bad_family")
    fp8 = estimate(dtype="fp8")[:-1]
    check_raised(lambda: tab_scale.estimate_view(manager, *fp8, "en"), "scale_bad_dtype")
    check_raised(lambda: tab_scale.fill_preset(manager, "gpt-5", "en"), "scale_unknown_preset")
    key = manager.register_local(str(tiny_models["t5"]), "tiny-t5").key
    manager.load(key)
    assert any(k == tab_scale.LOADED + key for _n, k in tab_scale.preset_choices(manager, "en"))
    check_raised(lambda: tab_scale.fill_preset(manager, tab_scale.LOADED + key, "zh"),
           "scale_unknown_arch")
    assert sc.preset("gpt3").arch.n_layers == 96
