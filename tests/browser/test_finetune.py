"""The Fine-tune tab in Chromium against the real app with the packaged MiniLM: upload a CSV,
train with small settings, see the loss curve and the confusion matrix, classify a sentence
before/after, reload the page and find the job again; a bad file gets a clear message."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from models.finetune_data import SAMPLES

pytestmark = pytest.mark.browser


def small_csv(path):
    df = pd.read_csv(SAMPLES["sentiment_en_zh"])
    df = df[df["lang"] == "en"].groupby("label").head(20)          # 40 English sentences
    df[["text", "label"]].rename(columns={"text": "review", "label": "feeling"}).to_csv(path, index=False)
    return path


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def test_finetune_tab_end_to_end(page, app_url, artifacts, tmp_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Fine-tune").click()

    # a bad file first: a clear message, and the page keeps working
    (tmp_path / "empty.csv").write_text("")
    page.locator("#ft-upload input[type=file]").set_input_files(str(tmp_path / "empty.csv"))
    expect(page.get_by_text(re.compile("empty.csv is empty"))).to_be_visible(timeout=30_000)
    page.locator("#ft-upload").get_by_role("button", name=re.compile("Clear|Remove")).first.click()

    page.locator("#ft-upload input[type=file]").set_input_files(str(small_csv(tmp_path / "reviews.csv")))
    expect(page.locator("#ft-data-notes")).to_contain_text("40 usable examples in 2 classes",
                                                           timeout=30_000)
    expect(page.locator("#ft-text-col input")).to_have_value("review")
    expect(page.locator("#ft-label-col input")).to_have_value("feeling")
    expect(page.locator("#ft-counts .main-svg").first).to_be_visible()
    expect(page.locator("#ft-preview")).to_contain_text("review")

    set_number(page, "ft-epochs", 2)
    page.locator("#ft-name textarea").fill("browser-model")
    page.locator("#ft-start").click()
    expect(page.locator("#ft-job-id textarea")).to_have_value(re.compile(r"^finetune-\w+"),
                                                             timeout=30_000)
    job_id = page.locator("#ft-job-id textarea").input_value()
    expect(page.locator("#ft-status")).to_contain_text("Finished", timeout=300_000)
    expect(page.locator("#ft-loss .main-svg").first).to_be_visible()
    assert page.locator("#ft-loss .scatterlayer .trace").count() == 2      # train + validation
    expect(page.locator("#ft-confusion .main-svg").first).to_be_visible()
    expect(page.locator("#ft-confusion")).to_contain_text("positive")
    expect(page.locator("#ft-summary")).to_contain_text("browser-model")
    expect(page.locator("#ft-per-class")).to_contain_text("negative")

    page.locator("#ft-probe textarea").fill("The room was dirty and the staff were rude.")
    page.locator("#ft-compare").click()
    for side in ("#ft-before", "#ft-after"):
        expect(page.locator(side)).to_contain_text(re.compile("positive|negative"), timeout=120_000)
    page.locator("#ft-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "finetune.png"), full_page=True)

    # reload: the job id comes back from the browser's storage and the results with it
    page.reload()
    page.get_by_role("tab", name="Fine-tune").click()
    expect(page.locator("#ft-job-id textarea")).to_have_value(job_id, timeout=30_000)
    expect(page.locator("#ft-status")).to_contain_text("Finished", timeout=30_000)
