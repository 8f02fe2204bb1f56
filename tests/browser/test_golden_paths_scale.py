"""Golden path of the Cost of scale tab, as a first-time user in an English and in a Chinese
browser: the figures of the GPT-3 preset are there when the tab opens (3.14·10²³ FLOPs,
175 B parameters); another preset fills the boxes with the right count; a loaded model's preset
matches its real parameter count; the GPU and precision pickers change the peak TFLOP/s and the
time; a bad box gets one message next to the button, in the user's language."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {
    "en": {"tab": "Cost of scale", "flops": "3.14e+23 FLOPs", "loaded": "loaded: all-MiniLM-L6-v2",
           "check": "Checked against the loaded model", "time": r"Time on 1,024 × ([0-9.]+) TFLOP/s",
           "empty": "empty", "gpt2": "GPT-2 small (124M)"},
    "zh": {"tab": "规模的代价", "flops": "3.14e+23 次浮点运算", "loaded": "已加载：all-MiniLM-L6-v2",
           "check": "与已加载的模型核对", "time": r"在 1,024 块 ([0-9.]+) TFLOP/s",
           "empty": "空的", "gpt2": "GPT-2 small（1.24 亿）"},
}


def _pick(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def _days(text: str) -> float:
    return float(re.search(r"[(（]([0-9,]+) (?:GPU-days|GPU·天)[)）]", text).group(1).replace(",", ""))


def test_cost_of_scale_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, WORDS[lang_page.lang]
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from gradio_client import Client
    Client(app_url, verbose=False).predict("minilm", page.lang, api_name="/load_model")
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"], exact=True).click()
    result = page.locator("#scale-result")
    expect(result).to_contain_text(w["flops"], timeout=60_000)        # no click needed
    expect(result).to_contain_text("175 B")
    expect(page.locator("#scale-presets .main-svg").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(artifacts / f"golden-scale-{page.lang}.png"), full_page=True)

    # GPU and precision: the peak TFLOP/s follows the data sheet, the time follows the peak
    a100_days = _days(result.inner_text())
    _pick(page, "#scale-gpu", "NVIDIA H100 SXM")
    expect(page.locator("#scale-tflops input")).to_have_value("989", timeout=30_000)
    expect(result).to_contain_text(re.compile(w["time"].replace("([0-9.]+)", "989")), timeout=30_000)
    h100_days = _days(result.inner_text())
    assert h100_days == pytest.approx(a100_days * 312 / 989, rel=0.02)
    page.locator("#scale-dtype").get_by_label("fp32").check()
    expect(page.locator("#scale-tflops input")).to_have_value("67", timeout=30_000)
    expect(result).to_contain_text(re.compile(w["time"].replace("([0-9.]+)", "67")), timeout=30_000)
    assert _days(result.inner_text()) == pytest.approx(a100_days * 312 / 67, rel=0.02)

    # another preset: its boxes and its exact count (GPT-2 small, tied output layer)
    _pick(page, "#scale-preset", w["gpt2"])
    expect(page.locator("#scale-layers input")).to_have_value("12", timeout=30_000)
    expect(result).to_contain_text("124,439,808", timeout=30_000)

    # the loaded model's preset: the formula's count is the model's real count
    _pick(page, "#scale-preset", w["loaded"])
    check = page.locator("#scale-check")
    expect(check).to_contain_text(w["check"], timeout=30_000)
    formula, real = re.findall(r"([0-9][0-9,]{6,})", check.inner_text())[:2]
    assert formula == real == "22,713,216" and "✓" in check.inner_text()

    # a bad box: one message next to the button, in the user's language
    page.locator("#scale-layers input").fill("")
    page.locator("#scale-run").click()
    expect(page.locator("#scale-msg")).to_contain_text(w["empty"], timeout=30_000)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(result).to_have_text("")
