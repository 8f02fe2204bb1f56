"""Error messages of the Fine-tune tab's "Label words" sub-tab, in English and Chinese.

CASES go through the running app's API (/tokens_start, /tokens_stop, /tokens_zip) with the small
files in tests/data/tokens_errors/: a CoNLL scheme error names its line, a JSONL span outside its
text names its row. DIRECT_CODES cannot be reached through an API call (Gradio's own file-type
check and upload limit answer first; a file that vanishes between upload and start): the same
handler raises them here and they are checked through the translation the UI uses."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file
from tests.messages import LANG, check_raised, run_cases


DATA = Path(__file__).parent / "data" / "tokens_errors"


def start(file=None, base="minilm", lr="5e-4", epochs=5):
    """Arguments of /tokens_start: the tab's defaults except what a case changes."""
    upload = handle_file(str(DATA / file)) if file else None
    return [upload, base, epochs, lr, 16, 64, 20, 42, "", LANG]


CASES = [
    ("tok_no_data", "/tokens_start", start()),
    ("tok_i_without_b", "/tokens_start", start("i_without_b.conll")),
    ("tok_columns", "/tokens_start", start("three_columns.conll")),
    ("tok_bad_tag", "/tokens_start", start("bad_tag.conll")),
    ("tok_one_column", "/tokens_start", start("one_column.conll")),
    ("tok_no_sentences", "/tokens_start", start("empty.conll")),
    ("tok_too_few", "/tokens_start", start("few.conll")),
    ("tok_no_entities", "/tokens_start", start("no_entities.conll")),
    ("tok_many_types", "/tokens_start", start("many_types.conll")),
    ("tok_span_outside", "/tokens_start", start("span_outside.jsonl")),
    ("tok_bad_json", "/tokens_start", start("bad_json.jsonl")),
    ("tok_no_text", "/tokens_start", start("no_text.jsonl")),
    ("tok_bad_span", "/tokens_start", start("bad_span.jsonl")),
    ("tok_overlap", "/tokens_start", start("overlap.jsonl")),
    ("ft_bad_setting", "/tokens_start", start("good.conll", lr="5")),
    ("ft_not_number", "/tokens_start", start("good.conll", lr="fast")),
    ("ft_not_base", "/tokens_start", start("good.conll", base="smollm2")),
    ("tok_no_job", "/tokens_stop", ["", LANG]),
    ("tok_no_model", "/tokens_zip", ["", LANG]),
]
DIRECT_CODES = {"tok_bad_format", "tok_no_file", "tok_too_big"}

# words each message must contain (English, Chinese): it names the right line, row or thing
WORDS = {
    "tok_i_without_b": ("line 6", "第 6 行"),
    "tok_columns": ("line 3", "第 3 行"),
    "tok_bad_tag": ("line 2", "第 2 行"),
    "tok_one_column": ("line 1", "第 1 行"),
    "tok_span_outside": ("row 2", "第 2 行"),
    "tok_bad_json": ("row 2", "第 2 行"),
    "tok_no_text": ("row 2", "第 2 行"),
    "tok_bad_span": ("row 2", "第 2 行"),
    "tok_overlap": ("row 2", "第 2 行"),
    "tok_too_few": ("1 sentences", "只有 1 个句子"),
    "tok_many_types": ("40 entity types", "40 种实体类型"),
    "tok_no_data": ("Use the sample", "使用示例数据"),
    "tok_no_job": ("Start one first", "请先开始一个"),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_token_errors_through_the_api(app_url, lang):
    run_cases(app_url, CASES, lang, contains=WORDS)


def test_errors_no_api_call_can_reach(make_manager, tmp_path):
    from models.core.jobs import JobRunner
    from webapp.tabs.finetune_tokens import TokenHandlers
    handlers = TokenHandlers(make_manager(), JobRunner("test"))
    big = tmp_path / "big.conll"
    with big.open("wb") as f:                      # sparse: 51 MB on paper, nothing on disk
        f.truncate(51 * 2**20)
    check_raised(lambda: handlers.on_upload(str(big), "en"), "tok_too_big")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "gone.conll"), "en"), "tok_no_file")
    (tmp_path / "data.csv").write_text("a,b\n")
    check_raised(lambda: handlers.on_upload(str(tmp_path / "data.csv"), "en"), "tok_bad_format")


def test_upload_handler_shows_the_data_escaped(make_manager, tmp_path):
    """A word with HTML in it is shown as text in the preview, not run as HTML."""
    from models.core.jobs import JobRunner
    from webapp.tabs.finetune_tokens import TokenHandlers
    handlers = TokenHandlers(make_manager(), JobRunner("test"))
    path = tmp_path / "html.conll"
    path.write_text("<b>Ada</b>\tB-PER\nlives\tO\n\n" * 12, encoding="utf-8")
    notes, preview, _fig = handlers.on_upload(str(path), "zh")
    assert "&lt;b&gt;Ada&lt;/b&gt;" in preview and "<b>Ada" not in preview
    assert "12 个句子" in notes
