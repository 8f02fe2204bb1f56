"""Checkpoints of the training loops (models/training/checkpoint.py): a run killed after a
checkpoint and resumed from it ends with the same weights and metric as a run that was never
interrupted (same seed), as transformers' Trainer does with resume_from_checkpoint."""
from __future__ import annotations

import pytest
import torch

from models.training.checkpoint import Checkpointer
from models.training.finetune.data import split
from models.training.finetune.loop import FinetuneConfig, train
from tests.test_finetune import FAST, Recorder, separable


class Killed(Exception):
    """Stands for the server dying in the middle of a run."""


def kill_after(rec: Recorder, steps: int):
    def should_stop() -> bool:
        if len(rec.steps) >= steps:
            raise Killed()
        return False
    return should_stop


def same_weights(a, b) -> float:
    """The largest absolute difference between two models' weights."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return max(float((sa[k].float() - sb[k].float()).abs().max()) for k in sa)


@pytest.fixture
def bert_folder(tiny_models):
    return tiny_models["bert"]


def test_finetune_resumed_mid_epoch_ends_like_an_uninterrupted_run(bert_folder, tmp_path):
    cfg = FinetuneConfig(base_model=str(bert_folder), **FAST)
    parts = split(separable(), cfg.val_fraction, cfg.seed)
    whole_rec = Recorder()
    whole = train(cfg, parts, bert_folder, whole_rec)
    total = len(whole_rec.steps)
    assert total == 30                      # 36 training texts / 8 = 5 batches x 6 epochs

    folder = tmp_path / "jobs" / "j1" / "checkpoint"
    first = Recorder()
    with pytest.raises(Killed):             # saved at steps 7 and 14, killed after step 17
        train(cfg, parts, bert_folder, first, kill_after(first, 17),
              checkpoint=Checkpointer(folder, every_steps=7, every_seconds=1e9))
    assert (folder / "state.pt").exists()
    again = Recorder()
    resumed = train(cfg, parts, bert_folder, again,
                    checkpoint=Checkpointer(folder, every_steps=7, every_seconds=1e9))
    # the resumed run takes steps 15..30 with the same batches: the same losses step by step
    assert [s.step for s in again.steps] == list(range(15, total + 1))
    assert [s.loss for s in again.steps] == pytest.approx(
        [s.loss for s in whole_rec.steps[14:]], abs=1e-5)
    diff = same_weights(whole.model, resumed.model)
    print(f"\nfinetune: uninterrupted accuracy {whole.report.accuracy:.4f} loss "
          f"{whole.report.loss:.6f}; resumed accuracy {resumed.report.accuracy:.4f} loss "
          f"{resumed.report.loss:.6f}; largest weight difference {diff:.2e}")
    assert diff < 1e-5
    assert resumed.report.accuracy == whole.report.accuracy
    assert resumed.report.loss == pytest.approx(whole.report.loss, abs=1e-5)
    assert resumed.best_epoch == whole.best_epoch
    assert [h["epoch"] for h in resumed.history] == list(range(1, 7))


def test_without_a_checkpoint_folder_nothing_is_saved(tmp_path):
    saver = Checkpointer(None)
    assert not saver.due(10_000) and not saver.exists()
    saver.save(1, torch.nn.Linear(2, 2))
    assert list(tmp_path.iterdir()) == []
