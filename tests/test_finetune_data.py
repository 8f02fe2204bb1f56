"""Reading fine-tuning data: every format, and each bad file gives a clear message."""
from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from models.core.errors import UserError
from models.training.finetune.data import (MAX_ROWS, MAX_TEXT_CHARS, SAMPLES, load, prepare, read_table,
                                  safe_name, split)
from tests.messages import english

ROWS = [("I loved this film", "pos"), ("Terrible food and slow service", "neg"),
        ("What a wonderful day", "pos"), ("The train was late again", "neg"),
        ("这部电影很好看", "pos"), ("服务太差了", "neg")]


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["sentence", "label"])


def write(path, fmt: str):
    df = frame()
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, index=False, sep="\t")
    elif fmt == "json":
        path.write_text(json.dumps(df.to_dict("records"), ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    return path


def code_of(fn, *args, **kwargs) -> UserError:
    with pytest.raises(UserError) as err:
        fn(*args, **kwargs)
    assert english(err.value)                              # a sentence for the user, never empty
    return err.value


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "parquet", "xlsx"])
def test_every_format_reads_the_same_rows(tmp_path, fmt):
    data = load(write(tmp_path / f"d.{fmt}", fmt))
    assert (data.text_column, data.label_column) == ("sentence", "label")
    assert sorted(zip(data.texts, data.labels)) == sorted(ROWS)
    assert data.counts == {"neg": 3, "pos": 3} and data.classes == ["neg", "pos"]


def test_bundled_samples_are_balanced_english_and_chinese():
    from models.training.finetune.data import cjk_share
    english, chinese = load(SAMPLES["sentiment_en"]), load(SAMPLES["sentiment_zh"])
    for data in (english, chinese):
        assert data.counts == {"negative": 88, "positive": 88} and not data.notices
    assert cjk_share(english.texts) == 0 and cjk_share(chinese.texts) == 1


def test_columns_are_guessed_and_can_be_changed(tmp_path):
    df = pd.DataFrame({"id": range(6), "review": [r[0] for r in ROWS], "y": [r[1] for r in ROWS],
                       "stars": [5, 1, 5, 2, 4, 1]})
    df.to_csv(tmp_path / "d.csv", index=False)
    data = load(tmp_path / "d.csv")
    assert (data.text_column, data.label_column) == ("review", "y")
    err = code_of(load, tmp_path / "d.csv", "review", "stars")       # 2 and 4 appear once
    assert err.code == "ft_tiny_class" and "2, 4" in english(err)


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    assert code_of(read_table, tmp_path / "e.csv").code == "ft_empty_file"
    (tmp_path / "h.csv").write_text("text,label\n")
    assert code_of(read_table, tmp_path / "h.csv").code in ("ft_empty_file", "ft_unreadable")


def test_wrong_extension_and_wrong_content(tmp_path):
    (tmp_path / "d.txt").write_text("hello")
    err = code_of(read_table, tmp_path / "d.txt")
    assert err.code == "ft_bad_format" and ".csv" in english(err)
    (tmp_path / "d.parquet").write_text("text,label\na,b\n")       # CSV named .parquet
    assert code_of(read_table, tmp_path / "d.parquet").code == "ft_unreadable"
    (tmp_path / "d.json").write_text("{not json")
    assert code_of(read_table, tmp_path / "d.json").code == "ft_unreadable"


def test_non_utf8_text_is_detected_or_refused(tmp_path):
    text = "text,label\n" + "\n".join(f"{t},{l}" for t, l in ROWS * 3)
    (tmp_path / "gb.csv").write_bytes(text.encode("gb18030"))
    table = read_table(tmp_path / "gb.csv")
    assert "这部电影很好看" in set(table.frame["text"])
    assert [n.code for n in table.notices] == ["encoding"]
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 40)
    err = code_of(read_table, tmp_path / "bin.csv")
    assert err.code in ("ft_not_utf8", "ft_unreadable")


def test_missing_columns_single_class_and_one_example_class(tmp_path):
    path = write(tmp_path / "d.csv", "csv")
    err = code_of(load, path, "sentence", "sentiment")
    assert err.code == "ft_no_column" and "sentiment" in english(err) and "label" in english(err)
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}).to_csv(tmp_path / "one.csv", index=False)
    assert code_of(load, tmp_path / "one.csv").code == "ft_one_class"
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x", "x", "x", "lonely"]}).to_csv(
        tmp_path / "tiny.csv", index=False)
    err = code_of(load, tmp_path / "tiny.csv")
    assert err.code == "ft_tiny_class" and "lonely" in english(err)
    pd.DataFrame({"text": ["only text here"]}).to_csv(tmp_path / "col.csv", index=False)
    assert code_of(load, tmp_path / "col.csv").code == "ft_one_column"


def test_number_labels_and_string_labels_are_one_class(tmp_path):
    (tmp_path / "n.csv").write_text("text,label\na good day,1\na bad day,0\nnice,1.0\nawful,0\n")
    data = load(tmp_path / "n.csv")
    assert data.classes == ["0", "1"] and data.counts == {"0": 2, "1": 2}
    assert "numeric_labels" in [n.code for n in data.notices]
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, 0, 1, 0]}).to_parquet(tmp_path / "n.parquet")
    assert load(tmp_path / "n.parquet").classes == ["0", "1"]


def test_100k_rows_are_sampled_with_a_notice(tmp_path):
    n = 100_000
    pd.DataFrame({"text": [f"sentence number {i}" for i in range(n)],
                  "label": ["a", "b"] * (n // 2)}).to_csv(tmp_path / "big.csv", index=False)
    data = load(tmp_path / "big.csv")
    assert len(data.texts) == MAX_ROWS
    assert any(n.code == "sampled" and str(MAX_ROWS) in english(n) for n in data.notices)


def test_file_over_the_upload_limit(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.truncate(51 * 1024 * 1024)                     # sparse: no real 51 MB written
    err = code_of(read_table, path)
    assert err.code == "ft_too_big" and "50" in english(err)


def test_a_50000_character_text_is_cut_with_a_notice(tmp_path):
    df = frame()
    df.loc[0, "sentence"] = "long " * 10_000
    df.to_csv(tmp_path / "l.csv", index=False)
    data = load(tmp_path / "l.csv")
    assert max(len(t) for t in data.texts) == MAX_TEXT_CHARS
    assert "cut_texts" in [n.code for n in data.notices]


def test_duplicates_empty_rows_and_imbalance_are_reported(tmp_path):
    rows = [("same text", "a")] * 3 + [("", "a"), ("no label", "")] + \
           [(f"a{i}", "a") for i in range(12)] + [("b1", "b"), ("b2", "b")]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "d.csv", index=False)
    data = load(tmp_path / "d.csv")
    codes = [n.code for n in data.notices]
    assert {"duplicates", "empty_rows", "imbalance"} <= set(codes)
    assert data.texts.count("same text") == 1


def test_path_parts_in_a_file_name_are_dropped(tmp_path):
    path = write(tmp_path / "upload.csv", "csv")
    table = read_table(path, display_name="../../x.csv")
    assert table.name == "x.csv"
    assert safe_name("..\\..\\evil.csv") == "evil.csv" and safe_name("..") == "data"
    assert sorted(os.listdir(tmp_path)) == ["upload.csv"]            # nothing written


def test_split_is_stratified_and_reproducible():
    data = load(SAMPLES["sentiment_en"])
    a, b = split(data, 0.2, 7), split(data, 0.2, 7)
    assert a.val_texts == b.val_texts
    assert a.val_labels.count(0) == a.val_labels.count(1) == round(88 * 0.2)
    assert not set(a.val_texts) & set(a.train_texts)
    with pytest.raises(UserError):
        split(data, 0.9, 7)


def test_prepare_refuses_the_same_column_twice(tmp_path):
    table = read_table(write(tmp_path / "d.csv", "csv"))
    assert code_of(prepare, table, "label", "label").code == "ft_same_column"


def test_every_message_of_the_tab_has_english_and_chinese():
    import re
    from pathlib import Path

    from webapp.strings.finetune import STRINGS
    root = Path(__file__).resolve().parent.parent
    models_src = "".join((root / "models" / f).read_text() for f in (
        "training/finetune/loop.py", "training/finetune/data.py", "training/finetune/store.py",
        "training/finetune/job.py", "runners/classification.py"))
    web_src = "".join((root / "webapp" / f).read_text() for f in ("tabs/finetune.py",
                                                                  "views/finetune.py"))
    codes = set(re.findall(r'UserError\("(ft_\w+)"', models_src + web_src))
    assert len(codes) > 15
    missing = [c for c in codes if not STRINGS.get(f"err.{c}", ("", ""))[1]]
    assert not missing, missing
    warnings = set(re.findall(r'Notice\("(\w+)"', models_src)) | set(
        re.findall(r'(?:notices|out).append\(\("(\w+)"', models_src))
    assert {"imbalance", "unknown_tokens", "sampled", "chinese_base", "class_weights"} <= warnings
    assert not [w for w in warnings if not STRINGS.get(f"notice.{w}", ("", ""))[1]]
    keys = set(re.findall(r'"(ft\.[a-z_]+)"', web_src))
    assert not [k for k in keys if k not in STRINGS or not all(STRINGS[k])]
