"""Error messages of "Teach the language model" (Fine-tune → LoRA), in English and Chinese.

CASES go through the running app's API with gradio_client (/sft_start, /sft_stop, /sft_try,
/sft_zip), with the small files in tests/data/sft_errors/. DIRECT_CODES cannot be reached
through an API call (Gradio's own file-type check and upload limit answer first, a file vanishes,
errors raised inside the job once training started, the command line's output folder): they are
raised by the same functions here and checked through the translation the UI uses
(webapp/common.message_text)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import handle_file
from tests.messages import LANG, check_raised, run_cases


DATA = Path(__file__).parent / "data" / "sft_errors"


def start(file=None, base="smollm2", lr="2e-3", targets=("q_proj", "v_proj")):
    """Arguments of /sft_start: the tab's defaults except what a case changes."""
    upload = handle_file(str(DATA / file)) if file else None
    return [upload, "What is 5 plus 5?", base, "", 8, 16, 0.05, list(targets), lr, 60, 8, 256,
            20, "adapter", LANG]


CASES = [
    ("sft_no_data", "/sft_start", start()),
    ("sft_empty_file", "/sft_start", start("empty.jsonl")),
    ("sft_not_utf8", "/sft_start", start("latin1.csv")),
    ("sft_no_columns", "/sft_start", start("cols.csv")),
    ("sft_no_pairs", "/sft_start", start("nopairs.csv")),
    ("sft_bad_json", "/sft_start", start("bad.jsonl")),
    ("sft_bad_chat", "/sft_start", start("nomsgs.jsonl")),
    ("sft_bad_role", "/sft_start", start("role.jsonl")),
    ("sft_role_order", "/sft_start", start("order.jsonl")),
    ("sft_bad_setting", "/sft_start", start("good.jsonl", lr="5")),
    ("sft_not_number", "/sft_start", start("good.jsonl", lr="fast")),
    ("sft_no_targets", "/sft_start", start("good.jsonl", targets=())),
    ("sft_not_causal", "/sft_start", start("good.jsonl", base="minilm")),
    ("model_missing", "/sft_start", start("good.jsonl", base="hub:gpt2")),
    ("sft_no_job", "/sft_stop", ["", LANG]),
    ("sft_pick_model", "/sft_zip", ["", LANG]),
    ("sft_pick_model", "/sft_try", ["", "hello", LANG]),
    ("sft_no_model", "/sft_zip", ["minilm", LANG]),
]
DIRECT_CODES = {"sft_bad_format", "sft_too_big", "sft_no_file", "sft_unreadable", "sft_too_long",
                "sft_bad_targets", "sft_out_exists", "sft_empty_prompt"}

# words each message must contain (English, Chinese): the message is about the right thing
WORDS = {
    "sft_no_data": ("Use the sample", "使用示例数据"),
    "sft_empty_file": ("empty.jsonl is empty", "empty.jsonl 是空的"),
    "sft_not_utf8": ("UTF-8", "UTF-8"),
    "sft_no_columns": ("prompt and", "prompt 和 response"),
    "sft_bad_json": ("Line 2", "第 2 行"),
    "sft_bad_role": ("'bot'", "bot"),
    "sft_role_order": ("Line 2", "第 2 行"),
    "sft_bad_setting": ("learning_rate", "learning_rate"),
    "sft_not_number": ("'fast'", "fast"),
    "sft_not_causal": ("causal LM", "因果语言模型"),
    "sft_no_job": ("Start one first", "请先开始一个"),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sft_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def test_errors_no_api_call_can_reach(make_manager, tiny_models, tmp_path):
    from models.core.jobs import JobRunner
    from models.training.sft.job import ask_both
    from models.training.sft.loop import SFTConfig, check_targets, encode_all, load_causal
    from models.training.sft.store import check_out_dir
    from webapp.tabs.sft import Handlers
    manager = make_manager()
    handlers = Handlers(manager, JobRunner("test"))
    big = tmp_path / "big.jsonl"
    with big.open("wb") as f:                      # sparse: 51 MB on paper, nothing on disk
        f.truncate(51 * 2**20)
    check_raised(lambda: handlers.on_upload(str(big), "smollm2", "en"), "sft_too_big")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "gone.csv"), "smollm2", "en"), "sft_no_file")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "notes.txt"), "smollm2", "en"),
           "sft_bad_format")
    (tmp_path / "huge_field.csv").write_text("prompt,response\n" + "x" * 200_000 + ",y\n",
                                             encoding="utf-8")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "huge_field.csv"), "smollm2", "en"),
           "sft_unreadable")
    model, tok = load_causal(tiny_models["llama"])
    long = [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": "the cat sat on the mat " * 40}]
    check_raised(lambda: encode_all(tok, [long], max_length=64), "sft_too_long")
    check_raised(lambda: check_targets(model, SFTConfig(target_modules=("c_attn",))), "sft_bad_targets")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    check_raised(lambda: check_out_dir(tmp_path / "out"), "sft_out_exists")
    # a model taught here (its folder has sft.json), asked with an empty prompt
    base = manager.register_local(str(tiny_models["llama"]), name="tiny")
    taught = tmp_path / "taught"
    taught.mkdir()
    for item in Path(tiny_models["llama"]).iterdir():
        (taught / item.name).write_bytes(item.read_bytes())
    (taught / "sft.json").write_text(json.dumps({"base_key": base.key}), encoding="utf-8")
    key = manager.register_local(str(taught), name="taught").key
    check_raised(lambda: ask_both(manager, key, "   "), "sft_empty_prompt")
