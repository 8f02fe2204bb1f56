"""Token classification (named entities) on a tiny random BERT: word tags go on the first word
piece only, seqeval's entity scores on a worked example, CoNLL / JSONL mistakes named by line or
row, training lowers the loss, stops cleanly, saves, registers as a tagger and predicts."""
from __future__ import annotations

import json
import zipfile

import pytest
import torch

from models.core.errors import UserError
from models.core.jobs import JobRunner
from models.core.registry import Registry
from models.training.finetune.loop import Callback
from models.training.tokens.data import (SAMPLES, TokenData, load, read_conll, read_jsonl, split,
                                         to_conll, words_of)
from models.training.tokens.evaluate import entity_scores, lookup_tagger, token_report
from models.training.tokens.job import start_job, status_dict, tokens_and_save
from models.training.tokens.loop import IGNORE, TokenConfig, align_labels, encode, tag_sentences
from tests.messages import english

# Places a tiny model can learn from the words around them (all in tests/tiny.py's vocabulary).
PLACES = ["paris", "berlin", "france", "germany"]
FRAMES = ["the cat sat in {}", "a dog ran in {}", "{} is nice today", "hello {}", "i love {}",
          "the weather in {} is nice"]


def places(n: int = 48) -> TokenData:
    words, tags = [], []
    for i in range(n):
        frame = FRAMES[i % len(FRAMES)]
        at = frame.split().index("{}")
        sent = frame.format(PLACES[i % len(PLACES)]).split()
        words.append(sent)
        tags.append(["B-LOC" if j == at else "O" for j in range(len(sent))])
    return TokenData(words, tags, ["LOC"], {"LOC": n}, source="places.conll")


FAST = dict(epochs=6, learning_rate=5e-3, batch_size=8, max_length=32, val_fraction=0.25, seed=1)


@pytest.fixture
def tiny_manager(make_manager, tiny_models):
    manager = make_manager()
    spec = manager.register_local(str(tiny_models["bert"]), name="tiny-bert")
    return manager, spec.key


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None):
        self.steps, self.epochs, self.stop_after = [], [], stop_after

    def on_step(self, info):
        self.steps.append(info)

    def on_epoch(self, info):
        self.epochs.append(info)

    def stop(self) -> bool:
        return self.stop_after is not None and len(self.steps) >= self.stop_after


# ---- alignment of word tags to word pieces -------------------------------------------------
def test_only_the_first_piece_of_each_word_is_labelled(tiny_models):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tiny_models["bert"])
    words = ["paris", "zxqwv", "transformers", "capitalisation"]   # two unknown-ish words split
    label2id = {"O": 0, "B-LOC": 1, "I-LOC": 2}
    row = encode(tok, [words], [["B-LOC", "O", "O", "B-LOC"]], label2id, 64)[0]
    pieces = tok.convert_ids_to_tokens(row["input_ids"])
    assert sum(1 for p in pieces if p.startswith("##")) >= 2          # some words really split
    kept = [(p, lab) for p, lab in zip(pieces, row["labels"]) if lab != IGNORE]
    assert [lab for _p, lab in kept] == [1, 0, 0, 1]                   # one label per word, in order
    assert not any(p.startswith("##") or p in ("[CLS]", "[SEP]") for p, _ in kept)
    assert all(lab == IGNORE for p, lab in zip(pieces, row["labels"]) if p.startswith("##"))


def test_align_labels_by_word_ids():
    assert align_labels([None, 0, 1, 1, 1, 2, None], [5, 6, 7]) == [IGNORE, 5, 6, IGNORE,
                                                                    IGNORE, 7, IGNORE]


# ---- seqeval figures on a worked example ---------------------------------------------------
def test_entity_scores_on_a_known_example():
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    # 3 true entities (PER, LOC, ORG), 3 predicted (PER, ORG, a LOC that is not there): 2 right
    p, r, f1, per_type = entity_scores(true, pred)
    assert (p, r, f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    by_type = {row["type"]: row for row in per_type}
    assert by_type["PER"]["f1"] == 1.0 and by_type["ORG"]["f1"] == 1.0
    assert by_type["LOC"]["precision"] == 0.0 and by_type["LOC"]["recall"] == 0.0
    assert by_type["LOC"]["support"] == 1
    # half a name is a miss and a false alarm, not half a hit
    p, r, f1, _ = entity_scores([["B-PER", "I-PER"]], [["B-PER", "O"]])
    assert (p, r, f1) == (0.0, 0.0, 0.0)


def test_report_lists_wrong_sentences_and_the_lookup_baseline():
    train_words, train_tags = [["ada", "lives", "in", "paris"]], [["B-PER", "O", "O", "B-LOC"]]
    tag = lookup_tagger(train_words, train_tags)
    assert tag(["Paris", "and", "rome"]) == ["B-LOC", "O", "O"]
    words = [["paris", "is", "big"], ["ada", "sings"]]
    true = [["B-LOC", "O", "O"], ["B-PER", "O"]]
    pred = [["B-LOC", "O", "O"], ["O", "O"]]
    rep = token_report(words, true, pred, 0.5, train_words, train_tags)
    assert rep.f1 == pytest.approx(2 / 3) and rep.baseline_f1 == 1.0
    assert rep.n == 2 and rep.entities == 2
    assert [w["words"] for w in rep.wrong] == [["ada", "sings"]]


# ---- reading files: mistakes named by line or row ------------------------------------------
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "".join(f"Ada\tB-PER\nLovelace\tI-PER\nlived\tO\nin\tO\nLondon\tB-LOC\n.\tO\n\n" for _ in range(12))


def test_conll_reads_sentences_and_the_last_of_many_columns(tmp_path):
    data = load(write(tmp_path, "good.conll", "-DOCSTART- O\n\n" + GOOD))
    assert len(data.words) == 12 and data.types == ["LOC", "PER"]
    assert data.counts == {"LOC": 12, "PER": 12}
    assert data.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    four = GOOD.replace("\tB-PER", "\tNNP\tB-NP\tB-PER").replace("\tI-PER", "\tNNP\tI-NP\tI-PER") \
        .replace("\tB-LOC", "\tNNP\tB-NP\tB-LOC").replace("\tO\n", "\tX\tO\tO\n")
    data = load(write(tmp_path, "conll2003.txt", four))
    assert data.tags[0] == ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    assert [n.code for n in data.notices] == ["tok_columns"]


@pytest.mark.parametrize("text, code, line", [
    ("Ada\tB-PER\nLovelace\tI-PER\n\nin\tO\nLondon\tI-LOC\n", "tok_i_without_b", 5),
    ("Ada\tB-PER\nin\tO\tO\n", "tok_columns", 2),
    ("Ada\tB-PER\nLondon\tLOC\n", "tok_bad_tag", 2),
    ("Ada\n", "tok_one_column", 1),
])
def test_conll_mistakes_name_the_line(tmp_path, text, code, line):
    with pytest.raises(UserError) as err:
        read_conll(text, "mine.conll")
    assert err.value.code == code
    assert f"line {line}" in english(err.value)


def test_i_tag_after_another_type_is_a_scheme_error():
    with pytest.raises(UserError) as err:
        read_conll("Ada\tB-PER\nLondon\tI-LOC\n", "x.conll")
    assert err.value.code == "tok_i_without_b" and "B-LOC" in english(err.value)


def test_jsonl_spans_become_word_tags():
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "Ada Lovelace lived in London.", "entities": [[0, 12, "PER"], [22, 28, "LOC"]]},
        {"text": "张伟在北京工作。", "entities": [{"start": 0, "end": 2, "label": "PER"},
                                          {"start": 3, "end": 5, "label": "LOC"}]}])
    words, tags, _ = read_jsonl(text, "x.jsonl")
    assert words[0] == ["Ada", "Lovelace", "lived", "in", "London", "."]
    assert tags[0] == ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    assert words[1] == list("张伟在北京工作。")
    assert tags[1] == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O", "O"]


@pytest.mark.parametrize("row, code", [
    ({"text": "Ada lives here", "entities": [[4, 40, "LOC"]]}, "tok_span_outside"),
    ({"text": "Ada lives here", "entities": [[0, 3, "PER"], [0, 9, "ORG"]]}, "tok_overlap"),
    ({"text": "Ada lives here", "entities": [["a", "b"]]}, "tok_bad_span"),
    ({"sentence": "Ada"}, "tok_no_text"),
])
def test_jsonl_mistakes_name_the_row(row, code):
    good = json.dumps({"text": "Ada lives here", "entities": [[0, 3, "PER"]]})
    with pytest.raises(UserError) as err:
        read_jsonl(good + "\n" + json.dumps(row) + "\n", "x.jsonl")
    assert err.value.code == code and "row 2" in english(err.value)
    with pytest.raises(UserError) as err:
        read_jsonl(good + "\n{not json\n", "x.jsonl")
    assert err.value.code == "tok_bad_json" and "row 2" in english(err.value)


def test_file_level_checks(tmp_path):
    for name, text, code in [("few.conll", "Ada\tB-PER\n", "tok_too_few"),
                             ("none.conll", "a\tO\n\n" * 12, "tok_no_entities"),
                             ("empty.conll", "\n\n", "tok_no_sentences"),
                             ("data.csv", "a,b\n", "tok_bad_format")]:
        with pytest.raises(UserError) as err:
            load(write(tmp_path, name, text))
        assert err.value.code == code, name


def test_samples_read_cleanly():
    en, zh = load(SAMPLES["ner_en"]), load(SAMPLES["ner_zh"])
    assert len(en.words) >= 150 and en.types == ["DATE", "LOC", "ORG", "PER"] and not en.notices
    assert len(zh.words) >= 100 and zh.types == ["DATE", "LOC", "ORG", "PER"]
    assert all(len(w) == 1 for s in zh.words for w in s)          # one character a word
    assert to_conll(en.words[:2], en.tags[:2]).count("\n\n") == 1
    assert [w for w, _s, _e in words_of("Hi, Ada!")] == ["Hi", ",", "Ada", "!"]


# ---- training, saving, registering, predicting ---------------------------------------------
def test_training_lowers_loss_saves_registers_and_predicts(tiny_manager):
    manager, key = tiny_manager
    rec = Recorder()
    data = places()
    result = tokens_and_save(manager, TokenConfig(base_model=key, **FAST), data, "../places", rec)
    first = sum(s.loss for s in rec.steps[:3]) / 3
    last = sum(s.loss for s in rec.steps[-3:]) / 3
    assert last < first * 0.5, (first, last)
    assert result.report["f1"] >= 0.8, result.report
    assert [e.epoch for e in rec.epochs] == list(range(1, 7))
    folder = manager.registry.cache_dir / "finetuned" / "places"
    for name in ("model.safetensors", "config.json", "README.md", "finetune.json"):
        assert (folder / name).exists(), name
    assert f"{result.report['f1']:.3f}" in (folder / "README.md").read_text()
    # registered as a token classifier that Analyse meaning lists, also after a restart
    again = Registry(manager.registry.cache_dir, online=False)
    spec = again.get(result.key)
    assert spec.head == "token-classification" and "analyze" in spec.tasks
    assert result.key in [s.key for s in manager.registry.for_task("analyze")]
    with manager.use(result.key) as lm:
        assert type(lm.model).__name__ == "BertForTokenClassification"
        tags = tag_sentences(lm.model, lm.tokenizer, [["i", "love", "berlin"],
                                                      ["the", "cat", "sat", "in", "paris"]])
    assert tags == [["O", "O", "B-LOC"], ["O", "O", "O", "O", "B-LOC"]]
    with zipfile.ZipFile(__import__("models.training.finetune.store", fromlist=["x"])
                         .zip_model(result.folder)) as z:
        assert "places/model.safetensors" in z.namelist()


def test_stop_keeps_the_best_so_far_and_the_job_reports(tiny_manager):
    manager, key = tiny_manager
    rec = Recorder(stop_after=2)
    result = tokens_and_save(manager, TokenConfig(base_model=key, **FAST), places(), "stopped",
                             rec, should_stop=rec.stop)
    assert result.stopped and len(rec.steps) == 2 and result.history[-1]["partial"]
    jobs = JobRunner("test")
    job_id = start_job(manager, jobs, TokenConfig(base_model=key, **dict(FAST, epochs=2)),
                       places(), "job")
    job = jobs.wait(job_id, timeout=300)
    st = status_dict(job)
    assert st["status"] == "done", st["error"]
    assert len(st["epochs"]) == 2 and st["steps"] and st["result"]["labels"] == ["O", "B-LOC",
                                                                                "I-LOC"]
    assert {"f1", "precision", "recall"} <= set(st["epochs"][0])


def test_a_base_that_cannot_be_fine_tuned_is_refused(tiny_manager):
    manager, _key = tiny_manager
    with pytest.raises(UserError) as err:
        tokens_and_save(manager, TokenConfig(base_model="smollm2", **FAST), places(), "x")
    assert err.value.code == "ft_not_base"


def test_split_keeps_sentences_whole():
    data = places(20)
    parts = split(data, 0.25, 3)
    assert len(parts.val_words) == 5 and len(parts.train_words) == 15
    assert sorted(map(tuple, parts.train_words + parts.val_words)) == sorted(map(tuple, data.words))
    assert torch.tensor(0).item() == 0


# ---- the command line (cli/tokens.py) and the weighted loss ---------------------------------
def test_command_line_trains_saves_and_reports(tmp_path, tiny_models, capsys):
    from cli.tokens import main as cli_main
    data = places()
    path = tmp_path / "places.conll"
    path.write_text(to_conll(data.words, data.tags), encoding="utf-8")
    code = cli_main(["--data", str(path), "--out", str(tmp_path / "out"), "--base",
                     str(tiny_models["bert"]), "--epochs", "6", "--lr", "5e-3", "--batch-size", "8",
                     "--max-length", "32", "--val-split", "0.25", "--seed", "1", "--o-weight", "0.5",
                     "--cache-dir", str(tmp_path / "cache"), "--cpu", "--register"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "epoch 6:" in out.out and "entity F1" in out.out and "baseline" in out.out
    meta = json.loads((tmp_path / "out" / "finetune.json").read_text())
    assert meta["kind"] == "tokens" and meta["config"]["o_weight"] == 0.5
    assert meta["metrics"]["f1"] >= 0.8, meta["metrics"]
    f1 = float(out.out.split("entity F1 ")[-1].split()[0])
    assert abs(f1 - meta["metrics"]["f1"]) < 1e-3            # what is printed is what was saved
    spec = Registry(tmp_path / "cache", online=False).get("local:out")
    assert spec.head == "token-classification"
    # a mistake in the file: the line is named, nothing is saved, exit code 2
    bad = tmp_path / "bad.conll"
    bad.write_text("Ada\tI-PER\n", encoding="utf-8")
    code = cli_main(["--data", str(bad), "--out", str(tmp_path / "o2"), "--base",
                     str(tiny_models["bert"]), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and "error:" in err and "1" in err and not (tmp_path / "o2").exists()
    code = cli_main(["--data", str(path), "--out", str(tmp_path / "o3"), "--o-weight", "2",
                     "--base", str(tiny_models["bert"]), "--cache-dir", str(tmp_path / "cache")])
    assert code == 2 and "o_weight" in capsys.readouterr().err


def test_o_weight_is_a_weighted_mean_over_the_tagged_pieces():
    from models.training.tokens.loop import token_loss
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 3.0], [1.0, 1.0, 1.0]]])
    gold = torch.tensor([[0, 1, 0, IGNORE]])                 # O, B-, O, a piece not scored
    nll = -torch.log_softmax(logits[0, :3], -1)[torch.arange(3), gold[0, :3]]
    assert torch.isclose(token_loss(logits, gold), nll.mean())
    weight = torch.tensor([0.2, 1.0, 1.0])                   # O counts a fifth
    expected = (0.2 * nll[0] + nll[1] + 0.2 * nll[2]) / (0.2 + 1.0 + 0.2)
    assert torch.isclose(token_loss(logits, gold, weight), expected)
