"""The Fine-tune tab's other controls in Chromium against the real app (packaged MiniLM), each
checked by what the user sees: a bad file after a good one (no stale preview), the column
dropdowns, real public data (a multi-line TSV, many unbalanced classes, Chinese), Stop pressed
on a running job (a second Start before it gives the same job, not another; the saved model
then classifies and downloads), following a job from another browser with the Attach button,
and head-only training."""
from __future__ import annotations

import re
import zipfile

import pandas as pd
import pytest
from gradio_client import Client
from playwright.sync_api import expect

from bench.bench_finetune import public_file

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3000)]
TRAIN_TIMEOUT = 2400_000


def open_tab(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Fine-tune").click()
    expect(page.locator("#ft-sample")).to_be_visible()


def upload(page, path):
    """Upload as a user does: remove the file shown in the box first (its × button)."""
    clear = page.locator("#ft-upload").get_by_role("button", name=re.compile("Clear|Remove|清除|删除"))
    if clear.count():
        clear.first.click()
        expect(page.locator("#ft-upload input[type=file]")).to_have_count(1)
    page.locator("#ft-upload input[type=file]").set_input_files(str(path))


def set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def pick(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_data_section_bad_file_columns_and_public_data(page, app_url, tmp_path, artifacts):
    open_tab(page, app_url)
    # a good file with an extra column, then the column dropdowns
    bbc = public_file("bbc_news", tmp_path, 30)
    df = pd.read_csv(bbc, sep="\t")
    df["title"] = df["text"].str.split("\n").str[0]
    df["source"] = "BBC"
    df[["title", "text", "label", "source"]].to_csv(tmp_path / "news.tsv", sep="\t", index=False)
    upload(page, tmp_path / "news.tsv")
    notes = page.locator("#ft-data-notes")
    expect(notes).to_contain_text(f"{len(df)} usable examples in 5 classes", timeout=120_000)
    expect(page.locator("#ft-text-col input")).to_have_value("text")
    expect(page.locator("#ft-label-col input")).to_have_value("label")
    expect(page.locator("#ft-maxlen input[type=number]")).to_have_value("256")   # long articles
    expect(page.locator("#ft-preview")).to_contain_text("title")
    pick(page, "ft-text-col", "title")                       # short titles: a shorter max length
    expect(page.locator("#ft-maxlen input[type=number]")).to_have_value("32", timeout=60_000)
    expect(notes).to_contain_text("max length is set to 32")
    pick(page, "ft-label-col", "source")                     # one value: not something to learn
    expect(page.locator("#ft-data-msg")).to_contain_text("Every row has the label 'BBC'",
                                                         timeout=60_000)
    pick(page, "ft-label-col", "label")
    expect(page.locator("#ft-data-msg")).to_be_hidden(timeout=60_000)
    expect(notes).to_contain_text("5 classes")

    # a bad file after the good one: a clear message, and nothing of the old file stays
    (tmp_path / "empty.csv").write_text("")
    upload(page, tmp_path / "empty.csv")
    expect(page.locator("#ft-data-msg")).to_contain_text("empty.csv is empty", timeout=60_000)
    expect(page.locator("#ft-data-box")).to_be_hidden()
    expect(page.locator("#ft-text-col input")).to_have_value("")
    expect(notes).not_to_contain_text("usable examples")

    # real public data of other shapes: what the notes say before any training
    upload(page, public_file("chatterbot", tmp_path, 240))
    expect(notes).to_contain_text("class weights", timeout=120_000)
    expect(page.locator("#ft-data-box")).to_be_visible()
    upload(page, public_file("reviews_zh", tmp_path, 60))
    expect(notes).to_contain_text("Most of these texts are Chinese", timeout=120_000)
    expect(notes).to_contain_text("bert-base-chinese")
    page.screenshot(path=str(artifacts / "finetune-chinese-data.png"), full_page=True)


def test_stop_a_running_job_then_classify_zip_and_attach(page, app_url, tmp_path, browser, artifacts):
    open_tab(page, app_url)
    upload(page, public_file("bbc_news", tmp_path, 100))     # long texts: a job that runs a while
    expect(page.locator("#ft-data-notes")).to_contain_text("usable examples", timeout=120_000)
    page.locator("#ft-name textarea").fill("stopped-news")
    page.locator("#ft-start").click()
    status = page.locator("#ft-status")
    expect(status).to_contain_text(re.compile(r"step [1-9]"), timeout=TRAIN_TIMEOUT)
    running = page.locator("#ft-job-id textarea").input_value()
    page.locator("#ft-start").click()        # Start again with the same settings: no second job
    expect(page.locator("#ft-train-notes")).to_contain_text("Start was pressed again",
                                                            timeout=60_000)
    expect(page.locator("#ft-job-id textarea")).to_have_value(running)
    same = [r["job_id"] for r in Client(app_url, verbose=False).predict(api_name="/my_jobs")
            if r["title"] == "stopped-news"]
    assert same == [running]
    page.locator("#ft-stop").click()
    expect(page.locator("#ft-stop-note")).to_contain_text("Stopping after the current step")
    expect(status).to_contain_text("Stopped. The best weights so far are saved.",
                                   timeout=TRAIN_TIMEOUT)
    expect(page.locator("#ft-summary")).to_contain_text("Stopped early")
    expect(page.locator("#ft-confusion .main-svg").first).to_be_visible()
    job_id = page.locator("#ft-job-id textarea").input_value()

    client = Client(app_url, verbose=False)
    st = client.predict(job_id, "en", api_name="/finetune_status")
    assert st["status"] == "cancelled" and st["result"]["stopped"]
    assert len(st["steps"]) < st["epochs"][-1]["step"] + 1 and st["epochs"][-1]["partial"]
    key = st["result"]["key"]
    probs = client.predict("The minister promised new laws before the election.", key, "en",
                           api_name="/classify")
    assert sorted(probs) == ["business", "entertainment", "politics", "sports", "tech"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)
    path = client.predict(key, "en", api_name="/finetune_zip")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert any(n.endswith("model.safetensors") for n in names)
    assert any(n.endswith("README.md") for n in names)          # the model card
    page.locator("#ft-zip").click()                              # the same through the button
    expect(page.locator("#ft-zip-file")).to_contain_text(".zip", timeout=120_000)

    # another computer (no stored job id): paste the id and press the Attach button
    other = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    try:
        second = other.new_page()
        open_tab(second, app_url)
        expect(second.locator("#ft-job-id textarea")).to_have_value("")
        second.locator("#ft-job-id textarea").fill(job_id)
        second.locator("#ft-attach").click()
        expect(second.locator("#ft-status")).to_contain_text("Stopped.", timeout=60_000)
        expect(second.locator("#ft-summary")).to_contain_text("stopped-news")
        expect(second.locator("#ft-per-class")).to_contain_text("politics")
        second.screenshot(path=str(artifacts / "finetune-attached.png"), full_page=True)
    finally:
        other.close()
    # and a reload here finds the job again by itself
    page.reload()
    page.get_by_role("tab", name="Fine-tune").click()
    expect(page.locator("#ft-job-id textarea")).to_have_value(job_id, timeout=60_000)
    expect(page.locator("#ft-status")).to_contain_text("Stopped.", timeout=60_000)


def test_head_only_training_changes_only_the_head(page, app_url, real_cache):
    open_tab(page, app_url)
    page.locator("#ft-sample").click()
    expect(page.locator("#ft-data-notes")).to_contain_text("176 usable", timeout=120_000)
    page.locator("#ft-head-only input").check()
    pick(page, "ft-lr", "1e-3")                               # as the checkbox suggests
    set_number(page, "ft-epochs", 3)
    page.locator("#ft-name textarea").fill("head-only")
    page.locator("#ft-start").click()
    expect(page.locator("#ft-status")).to_contain_text("Finished", timeout=TRAIN_TIMEOUT)
    expect(page.locator("#ft-summary")).to_contain_text("head-only")
    expect(page.locator("#ft-epochs-table")).to_contain_text("3")

    import torch
    from safetensors.torch import load_file
    from models.core.registry import Registry
    registry = Registry(real_cache, online=False)
    saved = max((real_cache / "finetuned").glob("head-only*"), key=lambda p: p.stat().st_mtime)
    tuned = load_file(str(saved / "model.safetensors"))
    base = load_file(str(registry.files_dir(registry.get("minilm")) / "model.safetensors"))
    shared = [k for k in tuned if k.removeprefix("bert.") in base]
    assert len(shared) > 50
    assert all(torch.equal(tuned[k], base[k.removeprefix("bert.")]) for k in shared)
    assert {"classifier.weight", "classifier.bias"} <= set(tuned)
