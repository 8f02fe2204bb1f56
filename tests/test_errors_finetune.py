"""Error messages of the Fine-tune tab, in English and Chinese.

CASES go through the running app's API with gradio_client (the endpoints the tab's buttons
use: /finetune_start, /finetune_stop, /finetune_zip, /finetune_compare, /classify), with the
small files in tests/data/finetune_errors/. DIRECT_CODES cannot be reached through an API call
(Gradio's own file-type check and upload limit answer before ours, a file vanishes between upload and start, the
command line's output folder, a job that crashes): they are raised by the same handlers and
functions here and checked through the translation the UI uses (webapp/common.message_text)."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file

from models.core.errors import UserError
from tests.messages import LANG, check_message, check_raised, run_cases
from webapp.common import message_text

DATA = Path(__file__).parent / "data" / "finetune_errors"


def start(file=None, text="", label="", base="minilm", lr="2e-4"):
    """Arguments of /finetune_start: the tab's defaults except what a case changes."""
    upload = handle_file(str(DATA / file)) if file else None
    return [upload, text, label, base, 5, lr, 16, 32, 20, 42, False, "", LANG]


CASES = [
    ("ft_no_data", "/finetune_start", start()),
    ("ft_empty_file", "/finetune_start", start("empty.csv")),
    ("ft_unreadable", "/finetune_start", start("broken.parquet")),
    ("ft_not_utf8", "/finetune_start", start("not_text.csv")),
    ("ft_one_column", "/finetune_start", start("one_column.csv")),
    ("ft_no_column", "/finetune_start", start("good.csv", "sentence", "nope")),
    ("ft_same_column", "/finetune_start", start("good.csv", "sentence", "sentence")),
    ("ft_no_rows", "/finetune_start", start("no_rows.csv")),
    ("ft_one_class", "/finetune_start", start("one_class.csv")),
    ("ft_many_classes", "/finetune_start", start("many_classes.csv")),
    ("ft_tiny_class", "/finetune_start", start("tiny_class.csv")),
    ("ft_bad_setting", "/finetune_start", start("good.csv", lr="5")),
    ("ft_not_number", "/finetune_start", start("good.csv", lr="fast")),
    ("ft_not_base", "/finetune_start", start("good.csv", base="smollm2")),
    ("model_missing", "/finetune_start", start("good.csv", base="hub:bert-base-uncased")),
    ("ft_no_job", "/finetune_stop", ["", LANG]),
    ("ft_pick_model", "/finetune_zip", ["", LANG]),
    ("ft_no_model", "/finetune_zip", ["minilm", LANG]),
    ("ft_pick_model", "/finetune_compare", ["", "I loved it", LANG]),
    ("ft_not_classifier", "/classify", ["I loved it", "minilm", LANG]),
]
DIRECT_CODES = {"ft_bad_format", "ft_too_big", "ft_no_file", "ft_out_exists", "ft_no_before",
                "job_bug"}

# words each message must contain (English, Chinese): the message is about the right thing
WORDS = {
    "ft_no_data": ("Use the sample", "使用示例数据"),
    "ft_empty_file": ("empty.csv is empty", "empty.csv 是空的"),
    "ft_not_utf8": ("UTF-8", "UTF-8"),
    "ft_no_column": ("'nope'", "'nope'"),
    "ft_one_class": ("'pos'", "'pos'"),
    "ft_many_classes": ("60 different values", "60 个不同的值"),
    "ft_tiny_class": ("neg", "neg"),
    "ft_bad_setting": ("learning_rate", "learning_rate"),
    "ft_not_number": ("'fast'", "'fast'"),
    "ft_not_base": ("SmolLM2", "SmolLM2"),
    "ft_no_job": ("Start one first", "请先开始一个"),
    "ft_no_model": ("fine-tuned here", "在这里微调"),
    "ft_not_classifier": ("classification head", "分类头"),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_finetune_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def test_errors_no_api_call_can_reach(make_manager, tmp_path):
    from models.runners.classification import BeforeModels
    from models.training.finetune.store import check_out_dir
    from models.core.jobs import JobRunner
    from webapp.tabs.finetune import Handlers
    manager = make_manager()
    handlers = Handlers(manager, JobRunner("test"))
    big = tmp_path / "big.csv"
    with big.open("wb") as f:                      # sparse: 51 MB on paper, nothing on disk
        f.truncate(51 * 2**20)
    check_raised(lambda: handlers.on_upload(str(big), "minilm", "en"), "ft_too_big")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "gone.csv"), "minilm", "en"), "ft_no_file")
    check_raised(lambda: handlers.on_upload(str(DATA / "notes.txt"), "minilm", "en"), "ft_bad_format")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    check_raised(lambda: check_out_dir(tmp_path / "out"), "ft_out_exists")
    check_raised(lambda: BeforeModels(manager).classify("minilm", "I loved it"), "ft_no_before")


def test_a_job_that_crashes_says_what_to_do_in_both_languages():
    from models.core.jobs import JobRunner
    from webapp.views.finetune import status_html
    runner = JobRunner("test")
    job = runner.wait(runner.submit("finetune", "crash", lambda ctx: {}["missing"]), 30)
    assert job.error_code == "job_bug"
    for lang, words in (("en", "Press Start again"), ("zh", "再点一次")):
        text = message_text(UserError(job.error_code, job.error, **job.error_params), lang)
        check_message(text, lang)
        assert words in text and "KeyError" in text and "'missing'" not in text
        st = {"job_id": job.id, "status": job.status, "progress": 0.1, "message": "",
              "queue_position": 0, "eta_seconds": None, "result": None, "error": job.error,
              "error_code": job.error_code, "error_params": job.error_params}
        assert words in status_html(st, lang)          # what the tab's status line shows
