"""Golden path of the Attention tab, as a first-time user in an English and in a Chinese
browser: the pre-filled example and "Show attention" draw a heatmap whose rows are the weights
the model computed (read back through /attention) and sum to 1; the layer/head sliders and the
heatmap are on screen together at 1400×900; typing a head number and pressing Enter redraws;
the overview's metric, bertviz's model view and the walkthrough (with another query token)
work; an empty text gives one message next to the button and clears the old picture. A second
test presses the view radio (encoder / decoder / cross) of a small encoder-decoder."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = {
    "en": {"tab": "Attention", "shape": "6 layers × 12 heads", "title": "self-attention · layer {l} · head {h}",
           "overview": "Overview of all heads", "previous": "weight on the previous token",
           "bertviz": "bertviz", "model_view": "model view", "walk": "Formula walkthrough",
           "verified": "Verified", "empty": "empty", "heat": "Heatmap",
           "cross": "cross (output → input)", "encoder": "encoder (self)", "walk_head": "query token 3"},
    "zh": {"tab": "注意力", "shape": "6 层 × 12 个头", "title": "自注意力 · 第 {l} 层 · 第 {h} 个头",
           "overview": "所有头总览", "previous": "放在前一个词元上的权重",
           "bertviz": "bertviz", "model_view": "模型视图", "walk": "公式逐步演算",
           "verified": "已验证", "empty": "文本为空", "heat": "热力图",
           "cross": "交叉（输出 → 输入）", "encoder": "编码器（自注意力）", "walk_head": "查询词元 3"},
}
EXAMPLE = "The cat sat on the mat because it was tired."
DRAWN = """() => { const g = document.querySelector('#att-heatmap .js-plotly-plot');
  if (!g || !g._fullData || !g._fullData[0]) return null;
  return {z: g._fullData[0].z.map(r => Array.from(r)), title: g._fullLayout.title.text,
          y: Array.from(g._fullLayout.yaxis.ticktext || [])}; }"""


def _client(app_url):
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from gradio_client import Client
    return Client(app_url, verbose=False)


def _drawn(page, title: str) -> dict:
    expect(page.locator("#att-heatmap .gtitle")).to_have_text(title, timeout=60_000)
    return page.evaluate(DRAWN)


def _in_view(page, selector: str) -> tuple[float, float]:
    """(top, bottom) of an element in viewport coordinates."""
    box = page.locator(selector).bounding_box()
    return box["y"], box["y"] + box["height"]


def test_attention_golden_path(lang_page, app_url, artifacts):
    page, w = lang_page, WORDS[lang_page.lang]
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"], exact=True).click()
    expect(page.locator("#att-text textarea")).to_have_value(EXAMPLE)
    page.locator("#att-run").click()

    # the heatmap of the example, layer 0 head 0, in the user's language
    expect(page.locator("#att-info")).to_contain_text(w["shape"], timeout=180_000)
    drawn = _drawn(page, w["title"].format(l=0, h=0))
    z = np.array(drawn["z"])
    assert drawn["y"][:3] == ["[CLS]", "the", "cat"] and z.shape == (13, 13)
    np.testing.assert_allclose(z.sum(1), 1.0, atol=5e-3)           # every row adds up to 1
    api = _client(app_url).predict("minilm", EXAMPLE, "", 0, 0, "", page.lang,
                                   api_name="/attention")
    assert api["query_tokens"][:3] == ["[CLS]", "the", "cat"]
    np.testing.assert_allclose(z, np.array(api["weights"]), atol=2e-3)   # what the model computed

    # sliders and heatmap on screen together (1400×900): the page brought them into view
    page.wait_for_timeout(800)
    vh = page.viewport_size["height"]
    s_top, s_bottom = _in_view(page, "#att-head")
    h_top, h_bottom = _in_view(page, "#att-heatmap")
    assert 0 <= s_top and s_bottom <= vh, (s_top, s_bottom)
    assert h_top < vh and min(h_bottom, vh) - max(h_top, 0) > 0.6 * (h_bottom - h_top)
    page.screenshot(path=str(artifacts / f"golden-attention-{page.lang}.png"))

    # typing a head number and pressing Enter redraws that head
    box = page.locator("#att-head input[type=number]")
    box.fill("5")
    box.press("Enter")
    z5 = np.array(_drawn(page, w["title"].format(l=0, h=5))["z"])
    api5 = _client(app_url).predict("minilm", EXAMPLE, "", 0, 5, "", page.lang, api_name="/attention")
    np.testing.assert_allclose(z5, np.array(api5["weights"]), atol=2e-3)
    assert np.abs(z5 - z).max() > 0.05                              # another head, another picture

    # overview: switching the metric to "previous token" gives weights (0..1), not entropies
    page.get_by_role("tab", name=w["overview"]).click()
    grid = page.locator("#att-overview")
    expect(grid).to_contain_text("H11")

    def cells() -> list[float]:
        return [float(x) for x in re.findall(r"\b\d+\.\d{3}\b", grid.inner_text())]
    entropies = cells()
    assert len(entropies) >= 72 and max(entropies) > 1.0            # bits: above 1 somewhere
    page.locator("#att-metric input").click()
    page.get_by_role("option", name=w["previous"]).click()
    expect(grid).not_to_contain_text(f"{max(entropies):.3f}", timeout=30_000)
    previous = cells()
    assert len(previous) >= 72 and max(previous) <= 1.0 and max(previous) > 0.3

    # bertviz model view: every head of every layer as thumbnails, offline
    page.get_by_role("tab", name=w["bertviz"], exact=True).click()
    page.get_by_label(w["model_view"]).check()
    page.locator("#att-bv-draw").click()
    frame = page.frame_locator("#att-bv-frame iframe")
    expect(frame.locator("svg").first).to_be_visible(timeout=60_000)
    expect(frame.locator("#vis svg .attention-heads, #vis svg rect").first).to_be_attached()

    # walkthrough for another query token: verified against the model's own weights
    page.get_by_role("tab", name=w["walk"]).click()
    page.locator("#att-query input").click()
    page.get_by_role("option", name="3: sat").click()
    page.locator("#att-walk-run").click()
    verify = page.locator("#att-verify")
    expect(verify).to_contain_text(w["verified"], timeout=120_000)
    diff = float(re.search(r"(\d\.\d+e[+-]\d+)", verify.inner_text()).group(1))
    assert diff < 1e-4
    expect(page.locator("#att-walk-md")).to_contain_text(w["walk_head"])

    # an empty text: one message next to the button, the old results are gone, no pop-up
    page.get_by_role("tab", name=w["heat"]).click()
    page.locator("#att-text textarea").fill("")
    page.locator("#att-run").click()
    expect(page.locator("#att-run-msg")).to_contain_text(w["empty"], timeout=30_000)
    expect(page.locator("#att-heatmap .main-svg")).to_have_count(0)
    expect(page.locator("#att-info")).to_have_text("")
    expect(page.locator(".toast-body")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / f"golden-attention-error-{page.lang}.png"))


def test_attention_views_of_an_encoder_decoder(lang_page, app_url, tiny_models):
    """The view radio of a seq2seq model (a tiny T5 added as a local folder): cross attention
    is target × source, the encoder's view is source × source."""
    page, w = lang_page, WORDS[lang_page.lang]
    added = _client(app_url).predict(str(tiny_models["t5"]), page.lang, api_name="/add_model")
    key = re.search(r"`(local:[^`]+)`", added[0]).group(1)
    page.goto(app_url)
    page.get_by_role("tab", name=w["tab"], exact=True).click()
    model = page.locator("#att-model input")
    model.fill(key)
    model.press("Enter")
    page.locator("#att-text textarea").fill("the cat sat on the mat")
    page.locator("#att-target textarea").fill("the dog ran")
    page.locator("#att-run").click()
    view = page.locator("#att-view")
    expect(view).to_contain_text(w["cross"], timeout=120_000)
    expect(page.locator("#att-heatmap .gtitle")).to_contain_text(w["cross"], timeout=30_000)
    cross = page.evaluate(DRAWN)
    page.get_by_label(w["encoder"]).check()
    expect(page.locator("#att-heatmap .gtitle")).to_contain_text(w["encoder"], timeout=30_000)
    enc = page.evaluate(DRAWN)
    n_src = len(enc["z"])
    assert len(enc["z"][0]) == n_src                                 # source × source
    assert len(cross["z"][0]) == n_src and len(cross["z"]) != n_src  # target × source
    np.testing.assert_allclose(np.array(cross["z"]).sum(1), 1.0, atol=5e-3)
