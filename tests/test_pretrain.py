"""Tiny pre-training: corpus checks, the BPE tokenizer, loss falling within a fixed number of
steps, samples, stop/resume, and the saved model loading through the registry and generating."""
from __future__ import annotations

import json
import time

import pytest
import torch

from models.training.pretrain import loop as pt
from models.core.errors import UserError
from models.core.jobs import JobRunner
from models.runners.generation import GenerationSettings, prepare_prompt, stream_generate

FAST = dict(n_layer=2, n_embd=64, n_head=4, block_size=32, vocab_size=600, batch_size=8,
            learning_rate=3e-3, sample_every=20, sample_tokens=16, seed=0, report_every=5)


@pytest.fixture(scope="module")
def english():
    return pt.read_corpus(pt.bundled_corpora()["english"])


def test_bundled_corpora_read_and_tokenize_both_languages():
    corpora = pt.bundled_corpora()
    assert {"english", "chinese"} <= set(corpora)
    zh = pt.read_corpus(corpora["chinese"])
    tok = pt.train_tokenizer(zh.text, 500)
    line = zh.text.splitlines()[0]
    ids = tok(line, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == line                      # byte-level BPE round-trips Chinese
    assert len(ids) < len(line.encode("utf-8"))         # and merged bytes into larger pieces


def test_bad_corpora_get_clear_messages(tmp_path):
    cases = {"empty.txt": b"   \n\n", "tiny.txt": b"The cat sat on the mat.",
             "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50,
             "latin1.txt": "caf\xe9 cr\xe8me ".encode("latin-1") * 200}
    codes = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UserError) as err:
            pt.read_corpus(tmp_path / name)
        codes[name] = err.value.code
    assert codes == {"empty.txt": "pre_corpus_empty", "tiny.txt": "pre_corpus_small",
                     "image.txt": "pre_corpus_binary", "latin1.txt": "pre_corpus_binary"}


@pytest.mark.parametrize("bad", [{"n_layer": 0}, {"steps": 10**9}, {"n_embd": 100, "n_head": 3},
                                 {"learning_rate": -1.0}, {"name": "  !!  "}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(UserError):
        pt.PretrainConfig(**bad).check()


def test_loss_falls_and_the_saved_model_generates_through_the_registry(make_manager, english):
    manager = make_manager()
    jobs = JobRunner("test")
    cfg = pt.PretrainConfig(name="tiny test", steps=60, **{**FAST, "sample_every": 30})
    jid = jobs.submit("pretrain", "t", lambda ctx: pt.run_pretraining(
        ctx, cfg, english, manager.registry.cache_dir, manager))
    job = jobs.wait(jid, timeout=600)
    assert job.status == "done", job.error
    res = job.result
    assert res.steps_done == 60 and not res.stopped
    assert res.final_loss < res.first_loss - 1.5            # clearly learned something
    losses = [e["loss"] for e in job.events if "loss" in e]
    assert losses[-1] < losses[0] - 1.0
    samples = [e for e in job.events if "sample" in e]
    assert [e["step"] for e in samples] == [0, 30, 60]
    # the registry knows it as a causal LM usable by the Generate and Attention tabs
    spec = manager.registry.get(res.key)
    assert spec.kind == "decoder" and {"generate", "attention"} <= spec.tasks
    with manager.use(res.key) as lm:
        prompt = prepare_prompt(lm, "The cat", chat=False, max_new_tokens=20)
        last = list(stream_generate(lm, prompt, GenerationSettings(max_new_tokens=20, greedy=True)))[-1]
        assert last.n_tokens > 0 and last.text.strip()
        out = lm.model(prompt.input_ids, output_attentions=True)
        assert len(out.attentions) == cfg.n_layer       # eager attention: the Attention tab works


def test_same_seed_same_curve(make_manager, english, tmp_path):
    class Ctx:
        cancelled = False

        def __init__(self):
            self.events = []

        def report(self, progress=None, message=None, **m):
            if "loss" in m:
                self.events.append(round(m["loss"], 5))
    runs = []
    for i in range(2):
        ctx = Ctx()
        pt.run_pretraining(ctx, pt.PretrainConfig(name=f"s{i}", steps=10, **FAST), english, tmp_path)
        runs.append(ctx.events)
    assert runs[0] == runs[1] and len(runs[0]) == 3


def test_stop_saves_and_resume_continues(make_manager, english):
    manager = make_manager()
    jobs = JobRunner("test")
    cache = manager.registry.cache_dir
    cfg = pt.PretrainConfig(name="stopper", steps=200, **FAST)
    jid = jobs.submit("pretrain", "t", lambda ctx: pt.run_pretraining(ctx, cfg, english, cache, manager))
    deadline = time.monotonic() + 300
    while not any(e.get("step", 0) >= 10 and "loss" in e for e in jobs.snapshot(jid).events):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    jobs.cancel(jid)
    job = jobs.wait(jid, timeout=300)
    assert job.status == "cancelled" and job.result.stopped
    stopped_at = job.result.steps_done
    assert 10 <= stopped_at < 200
    assert "stopper" in pt.saved_runs(cache)
    more = pt.PretrainConfig(name="stopper", steps=stopped_at + 10, **FAST)
    jid2 = jobs.submit("pretrain", "r", lambda ctx: pt.run_pretraining(ctx, more, None, cache, manager,
                                                                       resume=True))
    job2 = jobs.wait(jid2, timeout=300)
    assert job2.status == "done", job2.error
    assert job2.result.steps_done == stopped_at + 10
    steps = [e["step"] for e in job2.events if "loss" in e]
    assert steps[0] == 0 and steps == sorted(steps) and steps[-1] == stopped_at + 10
    with pytest.raises(UserError) as err:
        pt.run_pretraining(None, pt.PretrainConfig(name="never-trained"), None, cache, resume=True)
    assert err.value.code == "pre_nothing_to_resume"


def test_corpus_too_short_for_the_context_is_refused(tmp_path):
    text = "The cat sat on the mat and looked at the dog. " * 12     # > 500 chars, few tokens
    cfg = pt.PretrainConfig(name="short", steps=5, **{**FAST, "block_size": 512})
    with pytest.raises(UserError) as err:
        pt.run_pretraining(type("C", (), {"cancelled": False, "report": lambda *a, **k: None})(),
                           cfg, pt.Corpus(text, "t"), tmp_path)
    # the message names the real reason (tokens for this context), not "500 characters"
    assert err.value.code == "pre_corpus_few_tokens"
    from webapp.i18n import render
    for lang in ("en", "zh"):
        text = render(err.value, lang)
        assert "512" in text and "1025" in text and "500" not in text and "{" not in text


def test_big_corpus_is_capped_with_a_notice_in_both_languages(tmp_path):
    from webapp.i18n import render
    big = tmp_path / "big.txt"
    big.write_text("The cat sat on the mat. " * 220_000, encoding="utf-8")   # ~5.3 MB
    corpus = pt.read_corpus(big)
    assert corpus.notice.code == "pre_corpus_capped" and len(corpus.text) <= 5_000_000
    assert "5 MB" in render(corpus.notice, "en")
    assert "超过 5 MB" in render(corpus.notice, "zh")
    # a job shows it as a notice event, translated in the status line
    from models.core.jobs import Job
    from webapp.tabs.pretrain import status_line
    job = Job("pretrain-x", "pretrain", "t", status="running", message="tokenizer",
              events=[{"type": "notice", "code": corpus.notice.code,
                       "message": corpus.notice.message, "params": corpus.notice.params}])
    line = status_line(job, "zh")
    assert "正在训练分词器" in line and "超过 5 MB" in line and "training" not in line


def test_samples_show_whole_characters_only(make_manager):
    """An untrained byte-level model emits any byte: the step-0 sample shows no "�" and no
    control characters, and is never empty."""
    zh = pt.read_corpus(pt.bundled_corpora()["chinese"])
    cfg = pt.PretrainConfig(name="zh", **{**FAST, "sample_tokens": 48})
    tok = pt.train_tokenizer(zh.text, cfg.vocab_size)
    model = pt.build_model(cfg, tok)
    for step in range(5):
        text = pt.sample(model, tok, cfg, step)
        assert text.strip() and "\ufffd" not in text
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text)


def test_lr_schedule_warms_up_then_decays():
    cfg = pt.PretrainConfig(steps=300)
    lrs = [pt.lr_at(s, cfg) for s in range(300)]
    peak = lrs.index(max(lrs))
    assert 0 < peak < 50 and lrs[0] < lrs[peak] and lrs[-1] < 0.2 * lrs[peak]
    assert torch.isclose(torch.tensor(max(lrs)), torch.tensor(cfg.learning_rate))


def test_a_run_saved_under_the_old_naming_rule_is_still_found(tmp_path):
    """Before models/core/files.py slug, a run named '_old_run_' was saved as pretrained/_old_run_;
    the one rule now says 'old_run', so the run is found by the name its settings recorded."""
    legacy = tmp_path / "pretrained" / "_old_run_"
    legacy.mkdir(parents=True)
    (legacy / pt.CONFIG_FILE).write_text(json.dumps({"name": "_old_run_"}), "utf-8")
    assert pt.model_dir(tmp_path, "_old_run_") == legacy
    assert not pt.has_saved_run(tmp_path, "_old_run_")
    (legacy / pt.STATE_FILE).write_bytes(b"")
    assert pt.has_saved_run(tmp_path, "_old_run_")
    assert pt.model_dir(tmp_path, "new run") == tmp_path / "pretrained" / "new-run"
