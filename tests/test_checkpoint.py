"""Checkpoints of the training loops (models/training/checkpoint.py): a run killed after a
checkpoint and resumed from it ends with the same weights and metric as a run that was never
interrupted (same seed), as transformers' Trainer does with resume_from_checkpoint."""
from __future__ import annotations

import pytest
import torch

from models.training.checkpoint import Checkpointer
from models.training.finetune.data import split
from models.training.finetune.loop import FinetuneConfig, train
from models.training.sft.loop import Callback as SFTCallback
from models.training.sft.loop import train as sft_train
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


class SFTRecorder(SFTCallback):
    def __init__(self):
        self.steps, self.evals = [], []

    def on_step(self, info):
        self.steps.append(info)

    def on_eval(self, info):
        self.evals.append(info)


def test_lora_resumed_mid_epoch_ends_like_an_uninterrupted_run(tiny_models, tmp_path):
    from tests.test_sft import PAIRS, conv, tiny_cfg
    llama = tiny_models["llama"]
    examples = [conv(p, a) for p, a in PAIRS]          # 16 pairs: 4 batches of 4 per epoch
    cfg = tiny_cfg("x", steps=14, eval_every=5, dropout=0.1)    # dropout: the RNG matters
    heldout = ["what did the cat do"]
    whole_rec = SFTRecorder()
    whole = sft_train(cfg, examples, llama, heldout, whole_rec)
    folder = tmp_path / "checkpoint"
    first = SFTRecorder()
    with pytest.raises(Killed):              # saved at steps 5 and 10, killed after step 12
        sft_train(cfg, examples, llama, heldout, first, kill_after(first, 12),
                  checkpoint=Checkpointer(folder, every_steps=5, every_seconds=1e9))
    again = SFTRecorder()
    resumed = sft_train(cfg, examples, llama, heldout, again,
                        checkpoint=Checkpointer(folder, every_steps=5, every_seconds=1e9))
    assert [s.step for s in again.steps] == [11, 12, 13, 14]
    assert [s.loss for s in again.steps] == pytest.approx(
        [s.loss for s in whole_rec.steps[10:]], abs=1e-5)
    diff = same_weights(whole.model, resumed.model)
    print(f"\nLoRA: uninterrupted last loss {whole.losses[-1]:.6f}, resumed {resumed.losses[-1]:.6f}; "
          f"largest weight difference {diff:.2e}")
    assert diff < 1e-5
    assert resumed.losses == pytest.approx(whole.losses, abs=1e-5)
    assert [e["step"] for e in resumed.evals] == [e["step"] for e in whole.evals] == [0, 5, 10, 14]
    assert resumed.evals[-1]["tuned"] == whole.evals[-1]["tuned"]


def test_a_stop_ends_lora_training_within_one_step_without_a_last_evaluation(tiny_models):
    from tests.test_sft import PAIRS, conv, tiny_cfg
    rec = SFTRecorder()
    out = sft_train(tiny_cfg("x", steps=50, eval_every=100), [conv(p, a) for p, a in PAIRS],
                    tiny_models["llama"], ["what did the cat do"], rec,
                    should_stop=lambda: len(rec.steps) >= 3)
    assert out.stopped and out.steps == 3 and [s.step for s in rec.steps] == [1, 2, 3]
    assert [e["step"] for e in out.evals] == [0]       # no evaluation after the Stop


def test_token_tagger_resumed_ends_like_an_uninterrupted_run(tiny_models, tmp_path):
    from models.training.tokens.data import split as token_split
    from models.training.tokens.loop import TokenConfig
    from models.training.tokens.loop import train as token_train
    from tests.test_tokens import FAST as TOKEN_FAST
    from tests.test_tokens import places
    bert = tiny_models["bert"]
    cfg = TokenConfig(base_model=str(bert), **TOKEN_FAST)
    parts = token_split(places(), cfg.val_fraction, cfg.seed)
    whole_rec = Recorder()
    whole = token_train(cfg, parts, bert, whole_rec)
    folder = tmp_path / "checkpoint"
    first = Recorder()
    with pytest.raises(Killed):
        token_train(cfg, parts, bert, first, kill_after(first, 14),
                    checkpoint=Checkpointer(folder, every_steps=4, every_seconds=1e9))
    again = Recorder()
    resumed = token_train(cfg, parts, bert, again,
                          checkpoint=Checkpointer(folder, every_steps=4, every_seconds=1e9))
    assert again.steps[0].step == 13 and again.steps[-1].step == whole_rec.steps[-1].step
    diff = same_weights(whole.model, resumed.model)
    print(f"\ntokens: uninterrupted entity F1 {whole.report.f1:.4f}, resumed {resumed.report.f1:.4f}; "
          f"largest weight difference {diff:.2e}")
    assert diff < 1e-5 and resumed.report.f1 == whole.report.f1
