"""Error messages of the Pre-training tab (embedding space, what the model predicts, train a
tiny model), in English and Chinese.

CASES go through the running app's API (/embed, /token_surprisal, /pretrain_start,
/pretrain_resume, /pretrain_stop: the endpoints of the tab's buttons), with the small files in
tests/data/pretrain_errors/. A corpus too short for the training context is found inside the
job: that test starts the job through the API and reads the failed job's status line.
DIRECT_CODES cannot be reached by an API call (the map method is a radio button Gradio checks
first): raised here and checked through the translation the UI uses."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from gradio_client import handle_file
from tests.messages import LANG, _client, check_message, check_raised, run_cases


DATA = Path(__file__).parent / "data" / "pretrain_errors"


def embed(text="The cat sat.\nA dog ran.", file=None, method="pca"):
    return ["minilm", text, handle_file(str(DATA / file)) if file else None, method, "", LANG]


def start(corpus="english", file=None, **change):
    """Arguments of /pretrain_start: the tab's defaults except what a case changes."""
    settings = dict(name="err-test", layers=2, width=128, heads=4, context=64, vocab=2000,
                    batch=16, lr=3e-3, steps=300, every=25, prompt="", seed=0)
    settings.update(change)
    return [corpus, handle_file(str(DATA / file)) if file else None, *settings.values(), LANG]


def resume(**change):
    return start(**change)[2:]


CASES = [
    ("pre_no_sentences", "/embed", embed("   \n  ")),
    ("pre_one_sentence", "/embed", embed("Only one sentence.")),
    ("pre_tsne_small", "/embed", embed("a\nb\nc", method="tsne")),
    ("pre_binary_file", "/embed", embed(file="image.txt")),
    ("pre_binary_file", "/embed", embed(file="latin1.csv")),
    ("empty_text", "/token_surprisal", ["smollm2", "  ", LANG]),
    ("wrong_task", "/token_surprisal", ["minilm", "The cat sat.", LANG]),
    ("pre_bad_setting", "/pretrain_start", start(steps=0)),
    ("pre_bad_setting", "/pretrain_start", start(layers=None)),
    ("pre_heads_divide", "/pretrain_start", start(width=100, heads=3)),
    ("pre_bad_name", "/pretrain_start", start(name="  !!  ")),
    ("pre_corpus_empty", "/pretrain_start", start(corpus="nope")),
    ("pre_corpus_small", "/pretrain_start", start(file="tiny.txt")),
    ("pre_corpus_binary", "/pretrain_start", start(file="image.txt")),
    ("pre_nothing_to_resume", "/pretrain_resume", resume(name="never-trained-here")),
    ("job_unknown", "/pretrain_stop", ["pretrain-0000000000", LANG]),
]
DIRECT_CODES = {"pre_bad_method", "pre_corpus_few_tokens"}

WORDS = {
    "pre_one_sentence": ("only one sentence", "只有一个句子"),
    "pre_tsne_small": ("4 sentences", "4 个句子"),
    "pre_bad_setting": ("between", "之间"),
    "pre_heads_divide": ("100", "100"),
    "pre_corpus_small": ("23 characters", "23 个字符"),
    "pre_corpus_empty": ("corpus is empty", "语料是空的"),
    "pre_nothing_to_resume": ("never-trained-here", "never-trained-here"),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pretrain_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_corpus_too_short_for_the_context_fails_the_job_with_the_real_reason(app_url, lang):
    """The bundled Chinese corpus has ~660 characters, more than the 500 a corpus needs, but
    too few tokens for a 512-token context: the message says so (not "500 characters")."""
    client = _client(app_url)
    job = client.predict(*[lang if a is LANG else a
                           for a in start("chinese", name=f"short-{lang}", context=512)],
                         api_name="/pretrain_start")
    deadline = time.monotonic() + 300
    while True:
        status, _plot, _samples, data = client.predict(job, lang, api_name="/pretrain_status")[:4]
        if data["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert data["status"] == "failed"
    check_message(status, lang)
    assert "512" in status and "1025" in status and "500" not in status


def test_errors_no_api_call_can_reach():
    from models.runners import embeddings as emb
    import numpy as np
    check_raised(lambda: emb.project(np.eye(5, 8, dtype=np.float32), "umap"), "pre_bad_method")
