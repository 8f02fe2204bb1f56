"""The Pre-training tab (embedding space, what the model predicts, a tiny model trained from
scratch) and the Cost of scale tab, in Chromium against the real app with the packaged models."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=alert(1)>"


def _open(page, app_url, sub: str | None = None):
    page.goto(app_url)
    page.get_by_role("tab", name="Pre-training").click()
    if sub:
        page.get_by_role("tab", name=sub).click()


def test_embedding_space(page, app_url, artifacts):
    _open(page, app_url)
    page.locator("#pre-ex-en").click()
    expect(page.locator("#pre-sentences textarea")).to_have_value(re.compile("kitten"))
    page.locator("#pre-query textarea").fill("A cat is resting on a couch.")
    page.locator("#pre-embed-run").click()
    expect(page.locator("#pre-heatmap .main-svg").first).to_be_visible(timeout=120_000)
    expect(page.locator("#pre-map .main-svg").first).to_be_visible()
    expect(page.locator("#pre-map")).to_contain_text("animals")          # legend by label
    first = page.locator("#pre-neighbours tbody tr").first
    expect(first).to_contain_text(re.compile("sofa|couch"))
    expect(page.locator("#pre-embed-notice")).to_contain_text("384 dimensions")
    page.screenshot(path=str(artifacts / "pretrain_embed.png"), full_page=True)
    # one sentence: nothing to compare
    page.locator("#pre-sentences textarea").fill("Just one sentence.")
    page.locator("#pre-embed-run").click()
    expect(page.get_by_text("only one sentence").first).to_be_visible(timeout=30_000)


def test_what_the_model_predicts(page, app_url, artifacts):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, app_url, "What the model predicts")
    page.locator("#pre-text textarea").fill(f"The capital of France is Paris. {EVIL}")
    page.locator("#pre-score").click()
    expect(page.locator("#pre-ppl")).to_contain_text("Perplexity", timeout=180_000)
    tokens = page.locator("#pre-tokens .pre-tok")
    expect(tokens.first).to_be_visible()
    expect(page.locator("#pre-tokens")).to_contain_text("Paris")
    expect(page.locator("#pre-tokens")).to_contain_text("<img")        # shown as text...
    assert page.locator("img[src='x']").count() == 0                    # ...never an element
    expect(page.locator("#pre-topk .main-svg").first).to_be_visible(timeout=30_000)
    expect(page.locator("#pre-actual")).to_contain_text("actual next token")
    page.screenshot(path=str(artifacts / "pretrain_predict.png"), full_page=True)
    assert dialogs == []


ZEBRA = "\n\n".join(f"The zebra number {i} eats green grass by the river, and the zebra "
                    "sleeps under the old tree." for i in range(30))


def test_train_a_tiny_model(page, app_url, artifacts, tmp_path):
    """An uploaded corpus (about zebras) is the one the model learns from."""
    corpus = tmp_path / "zebras.txt"
    corpus.write_text(ZEBRA, encoding="utf-8")
    _open(page, app_url, "Train a tiny model")
    page.locator("#pre-upload-corpus input[type=file]").set_input_files(str(corpus))
    expect(page.locator("#pre-upload-corpus")).to_contain_text("zebras.txt")
    page.get_by_text("Model and training settings").click()
    name = page.get_by_label("Name of the model")
    expect(name).to_have_value("tiny-gpt")       # the opened accordion has rendered its default
    page.wait_for_timeout(500)                   # a just-mounted textbox can drop a fill
    name.fill("browser-tiny")
    name.press("Tab")                            # blur: Gradio commits the value
    expect(name).to_have_value("browser-tiny")
    page.locator("#pre-steps input").fill("40")
    page.locator("#pre-every input").fill("20")
    page.locator("#pre-start").click()
    expect(page.locator("#pre-job-id textarea, #pre-job-id input").first).to_have_value(
        re.compile("^pretrain-"), timeout=60_000)
    status = page.locator("#pre-status")
    expect(status).to_contain_text("Done", timeout=300_000)
    expect(status).to_contain_text("local:browser-tiny")
    expect(page.locator("#pre-loss .main-svg").first).to_be_visible()
    expect(page.locator("#pre-samples tr")).to_have_count(4)            # header + steps 0, 20, 40
    expect(page.locator("#pre-samples tr").nth(1)).to_contain_text("zebra")  # step 40: its corpus
    page.screenshot(path=str(artifacts / "pretrain_train.png"), full_page=True)
    # after a page reload the job id re-attaches to the finished job
    jid = page.locator("#pre-job-id textarea, #pre-job-id input").first.input_value()
    _open(page, app_url, "Train a tiny model")
    box = page.locator("#pre-job-id textarea, #pre-job-id input").first
    box.fill(jid)
    box.press("Enter")
    expect(page.locator("#pre-status")).to_contain_text("local:browser-tiny", timeout=30_000)
    expect(page.locator("#pre-samples tr")).to_have_count(4)
    # a run with a bad setting gets a message, not a crash
    page.get_by_text("Model and training settings").click()
    steps = page.locator("#pre-steps input")
    expect(steps).to_have_value(re.compile(r"^\d+$"))  # the opened accordion has rendered its value
    page.wait_for_timeout(500)                       # a just-mounted input can drop a fill
    steps.fill("0")
    steps.press("Tab")
    expect(steps).to_have_value("0")
    page.locator("#pre-start").click()
    expect(page.get_by_text("Training steps must be between").first).to_be_visible(timeout=30_000)


def test_cost_of_scale(page, app_url, artifacts):
    page.goto(app_url)
    page.get_by_role("tab", name="Cost of scale").click()
    page.locator("#scale-run").click()                                  # GPT-3 preset
    result = page.locator("#scale-result")
    expect(result).to_contain_text("3.14e+23", timeout=60_000)
    expect(result).to_contain_text("175 B")
    expect(page.locator("#scale-memory .main-svg").first).to_be_visible()
    expect(page.locator("#scale-presets")).to_contain_text("GPT-3")
    page.screenshot(path=str(artifacts / "scale.png"), full_page=True)
    page.locator("#scale-layers input").fill("1e15")
    page.locator("#scale-run").click()
    expect(page.get_by_text("must be between").first).to_be_visible(timeout=30_000)
