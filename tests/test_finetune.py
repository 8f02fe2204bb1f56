"""Fine-tuning on a tiny random BERT: it learns, stops cleanly, saves, reloads, queues."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from models.core.errors import UserError
from cli.finetune import main as cli_main
from models.training.finetune.loop import Callback, FinetuneConfig, train
from models.training.finetune.data import LabelledData, split
from models.runners.classification import BeforeModels, classify
from models.training.finetune.job import finetune_and_save, start_job, status_dict
from models.training.finetune.store import finetuned_dir, save_model, zip_model
from models.core.jobs import JobRunner
from models.core.registry import Registry
from tests.conftest import until
from tests.messages import english

# Two classes a tiny model can separate from words alone (all in tests/tiny.py's vocabulary).
ANIMALS = ["the cat sat on the mat", "a dog ran in the park", "the quick brown fox",
           "the lazy dog sat", "a cat in the park", "the fox jumps over the dog"]
CITIES = ["paris is the capital of france", "berlin is the capital of germany",
          "the capital of france", "berlin in germany", "paris and berlin", "germany and france"]


def separable(n_per_class: int = 24) -> LabelledData:
    texts, labels = [], []
    for i in range(n_per_class):
        texts += [f"{ANIMALS[i % 6]} {ANIMALS[(i + 1) % 6]}"[: 40 + i],
                  f"{CITIES[i % 6]} {CITIES[(i + 2) % 6]}"[: 40 + i]]
        labels += ["animal", "city"]
    texts = [f"{t} {i}" for i, t in enumerate(texts)]          # unique rows
    return LabelledData(texts, labels, ["animal", "city"], {"animal": n_per_class, "city": n_per_class},
                        source="synthetic.csv", rows_read=len(texts))


FAST = dict(epochs=6, learning_rate=1e-2, batch_size=8, max_length=32, val_fraction=0.25, seed=1)


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


def test_training_lowers_loss_and_learns_then_is_listed_after_restart(tiny_manager):
    manager, key = tiny_manager
    rec = Recorder()
    result = finetune_and_save(manager, FinetuneConfig(base_model=key, **FAST), separable(),
                               "../../animals vs cities", rec)
    first = sum(s.loss for s in rec.steps[:4]) / 4
    last = sum(s.loss for s in rec.steps[-4:]) / 4
    assert last < first * 0.7, (first, last)
    assert result.report["accuracy"] >= 0.9
    assert result.report["accuracy"] > result.report["majority_baseline"]
    assert [e.epoch for e in rec.epochs] == list(range(1, 7))
    folder = manager.registry.cache_dir / "finetuned"
    saved = list(folder.iterdir())
    assert [p.name for p in saved] == ["animals-vs-cities"]          # path parts removed
    for name in ("model.safetensors", "config.json", "README.md", "finetune.json",
                 "initial_head.safetensors"):
        assert (saved[0] / name).exists(), name
    card = (saved[0] / "README.md").read_text()
    assert "synthetic.csv" in card and f"{result.report['accuracy']:.3f}" in card
    # A new registry on the same data dir (a server restart) still lists the model.
    again = Registry(manager.registry.cache_dir, online=False)
    spec = again.get(result.key)
    assert {"classify", "attention"} <= set(spec.tasks) and spec.head == "classification"


def test_saved_model_reloads_with_the_same_predictions(tiny_manager, tmp_path):
    manager, key = tiny_manager
    data = separable()
    cfg = FinetuneConfig(base_model=key, **FAST)
    outcome = train(cfg, split(data, cfg.val_fraction, cfg.seed),
                    manager.registry.files_dir(manager.registry.get(key)))
    out = save_model(outcome, cfg, data, tmp_path / "saved", key, "tiny", tmp_path)
    spec = manager.register_local(str(out), name="reloaded")
    for text in data.texts[:6]:
        enc = outcome.tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            expected = outcome.model(**enc).logits.softmax(-1)[0].tolist()
        got = classify(manager, spec.key, text)
        assert got.labels == ["animal", "city"]
        assert got.probs == pytest.approx(expected, abs=1e-5)


def test_stop_mid_run_keeps_a_usable_checkpoint(tiny_manager):
    manager, key = tiny_manager
    rec = Recorder(stop_after=3)
    result = finetune_and_save(manager, FinetuneConfig(base_model=key, **FAST), separable(),
                               "stopped", rec, should_stop=rec.stop)
    assert result.stopped and len(rec.steps) == 3
    assert result.history and result.history[-1]["partial"]
    probs = classify(manager, result.key, "the cat sat on the mat")
    assert sum(probs.probs) == pytest.approx(1.0, abs=1e-4)


def test_before_is_the_untrained_head_and_after_is_sharper(tiny_manager):
    manager, key = tiny_manager
    data = separable()
    result = finetune_and_save(manager, FinetuneConfig(base_model=key, **FAST), data, "ba")
    before = BeforeModels(manager)
    gain = []
    for text, label in list(zip(data.texts, data.labels))[:10]:
        b = before.classify(result.key, text).as_dict()[label]
        a = classify(manager, result.key, text).as_dict()[label]
        gain.append(a - b)
    assert sum(gain) / len(gain) > 0.2                    # fine-tuning made the right class likelier
    with pytest.raises(UserError) as err:                 # the base has no classifier head
        classify(manager, key, "the cat")
    assert err.value.code == "ft_not_classifier"
    zipped = zip_model(result.folder)
    assert zipped.suffix == ".zip" and zipped.stat().st_size > 1000


def test_queue_runs_one_job_at_a_time_and_reports_status(tiny_manager):
    manager, key = tiny_manager
    jobs = JobRunner("cpu")
    cfg = FinetuneConfig(base_model=key, **dict(FAST, epochs=2))
    first = start_job(manager, jobs, cfg, separable(), "first")
    second = start_job(manager, jobs, cfg, separable(), "second")
    third = start_job(manager, jobs, cfg, separable(), "third")
    assert jobs.snapshot(second).queue_position >= 1
    assert jobs.cancel(third) and jobs.snapshot(third).status == "cancelled"
    running_together = []

    def both_finished() -> bool:
        snaps = [jobs.snapshot(j) for j in (first, second)]
        running_together.append(sum(s.status == "running" for s in snaps))
        return all(s.status in ("done", "failed", "cancelled") for s in snaps)
    until(both_finished, 300, "the two jobs to finish", pause=0.02)
    assert max(running_together) == 1
    for job_id in (first, second):
        status = status_dict(jobs.snapshot(job_id))
        assert status["status"] == "done", status["error"]
        assert status["steps"] and len(status["epochs"]) == 2
        assert status["result"]["key"].startswith("local:")
    a, b = jobs.snapshot(first), jobs.snapshot(second)
    assert a.finished <= b.started


def test_a_failing_job_reports_its_error_and_frees_the_queue(tiny_manager):
    manager, key = tiny_manager
    jobs = JobRunner("cpu")
    # a base that does not exist is refused at once, before anything is queued
    with pytest.raises(UserError) as err:
        start_job(manager, jobs, FinetuneConfig(base_model="minilm-nope", **FAST), separable(), "x")
    assert err.value.code == "unknown_model"
    # a base whose files disappear while its job waits in the queue fails inside the job
    doomed = shutil.copytree(manager.registry.files_dir(manager.registry.get(key)),
                             manager.registry.cache_dir / "doomed-base")
    doomed_key = manager.register_local(str(doomed)).key
    first = start_job(manager, jobs, FinetuneConfig(base_model=key, **dict(FAST, epochs=1)),
                      separable(), "first")
    bad = start_job(manager, jobs, FinetuneConfig(base_model=doomed_key, **FAST), separable(), "x")
    shutil.rmtree(doomed)
    good = start_job(manager, jobs, FinetuneConfig(base_model=key, **dict(FAST, epochs=1)),
                     separable(), "y")
    failed = jobs.wait(bad, 120)
    assert failed.status == "failed" and failed.error_code == "model_missing"
    assert jobs.wait(first, 120).status == "done" and jobs.wait(good, 120).status == "done"


def test_settings_out_of_range_are_refused():
    with pytest.raises(UserError) as err:
        FinetuneConfig(learning_rate=5.0).check()
    assert err.value.code == "ft_bad_setting" and "learning_rate" in english(err.value)


def test_saved_folder_never_leaves_the_data_dir(tmp_path):
    for name in ("../../x", "/etc/passwd", "..", "a/../../b", "情感 模型"):
        path = finetuned_dir(tmp_path, name)
        assert path.resolve().is_relative_to((tmp_path / "finetuned").resolve()), name


def test_command_line_trains_and_saves(tiny_models, tmp_path, capsys):
    csv = tmp_path / "d.csv"
    data = separable(16)
    csv.write_text("sentence,y\n" + "\n".join(f"{t},{l}" for t, l in zip(data.texts, data.labels)))
    code = cli_main(["--data", str(csv), "--text-column", "sentence", "--label-column", "y",
                     "--out", str(tmp_path / "out"), "--base", str(tiny_models["bert"]),
                     "--epochs", "3", "--lr", "1e-2", "--cache-dir", str(tmp_path / "cache"),
                     "--cpu"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "accuracy" in out.out and (tmp_path / "out" / "model.safetensors").exists()
    meta = json.loads((tmp_path / "out" / "finetune.json").read_text())
    assert meta["classes"] == ["animal", "city"] and meta["data"]["text_column"] == "sentence"
    code = cli_main(["--data", str(csv), "--label-column", "nope", "--out", str(tmp_path / "o2"),
                     "--base", str(tiny_models["bert"]), "--cache-dir", str(tmp_path / "cache")])
    assert code == 2 and "nope" in capsys.readouterr().err


def test_a_fine_tuned_classifier_can_be_the_base_for_new_classes(tiny_manager):
    manager, key = tiny_manager
    first = finetune_and_save(manager, FinetuneConfig(base_model=key, **dict(FAST, epochs=1)),
                              separable(), "two classes")
    data = separable(8)
    ml = ["language models predict the next token", "attention is all you need",
          "students learn how transformers work"]
    data.texts += [f"{ml[i % 3]} {i}" for i in range(8)]
    data.labels += ["ml"] * 8
    data.classes, data.counts = ["animal", "city", "ml"], {"animal": 8, "city": 8, "ml": 8}
    second = finetune_and_save(manager, FinetuneConfig(base_model=first.key, **dict(FAST, epochs=1)),
                               data, "three classes")
    assert second.classes == ["animal", "city", "ml"]
    assert classify(manager, second.key, "attention is all you need").labels == ["animal", "city", "ml"]
    assert BeforeModels(manager).classify(second.key, "the cat").labels == ["animal", "city", "ml"]


def test_a_job_whose_data_raises_notices_finishes_through_the_apps_own_job_path(tiny_manager):
    """The app's job path (start_job -> JobCallback -> JobContext), no callback of the test's
    own: texts longer than max_length raise a "truncated" notice during training. This is the
    path that failed at 1 % with "report() got multiple values for argument 'message'"."""
    manager, key = tiny_manager
    jobs = JobRunner("cpu")
    cfg = FinetuneConfig(base_model=key, **dict(FAST, epochs=1, max_length=8))
    job_id = start_job(manager, jobs, cfg, separable(), "with notices")
    status = status_dict(jobs.wait(job_id, 120))
    assert status["status"] == "done", (status["error"], status["detail"])
    truncated = [n for n in status["notices"] if n["code"] == "truncated"]
    assert truncated and truncated[0]["params"]["max_length"] == 8
    assert status["result"]["notices"]                       # kept with the result too


def test_max_length_follows_the_token_lengths_of_the_data():
    from models.training.finetune.loop import suggest_max_length
    assert suggest_max_length([12] * 100) == 32                       # room for a longer probe
    assert suggest_max_length([100] * 95 + [400] * 5) == 112          # 95 % covered, x16
    assert suggest_max_length([100] * 90 + [400] * 10) == 256         # capped
    assert suggest_max_length([]) == 32


def test_class_weights_switch_on_for_unbalanced_classes_and_say_so(tiny_manager):
    from models.training.finetune.loop import wants_class_weights
    assert wants_class_weights({"a": 30, "b": 5}) == (True, 6.0)
    assert wants_class_weights({"a": 10, "b": 9})[0] is False
    assert wants_class_weights({"a": 30, "b": 5}, "off")[0] is False
    assert wants_class_weights({"a": 10, "b": 9}, "on")[0] is True
    manager, key = tiny_manager
    data = separable(24)
    keep = [i for i, y in enumerate(data.labels) if y == "animal" or i % 8 == 1]   # 24 vs 6
    data.texts, data.labels = [data.texts[i] for i in keep], [data.labels[i] for i in keep]
    data.counts = {"animal": data.labels.count("animal"), "city": data.labels.count("city")}

    class Notes(Recorder):
        notices: list = []

        def on_notice(self, code, message, **params):
            self.notices.append((code, params))
    rec = Notes()
    result = finetune_and_save(manager, FinetuneConfig(base_model=key, **dict(FAST, epochs=2)),
                               data, "unbalanced", rec)
    codes = dict(rec.notices)
    assert "class_weights" in codes and float(codes["class_weights"]["ratio"]) >= 3
    assert any(n["code"] == "class_weights" for n in result.notices)
    rec = Notes()
    rec.notices = []
    finetune_and_save(manager, FinetuneConfig(base_model=key, class_weights="off",
                                              **dict(FAST, epochs=1)), data, "unweighted", rec)
    assert "class_weights" not in dict(rec.notices)


def test_chinese_text_is_recognised():
    from models.training.finetune.data import cjk_share
    assert cjk_share(["服务员很热情。", "The food was great.", "这部电影真的太无聊了 so boring",
                      "a film 很 boring", ""]) == 0.4
    assert cjk_share([]) == 0.0
