"""Jobs in the cache folder's store (models/core/jobs.py with models/core/store.py): a job cut
off by its process is listed as interrupted by the next runner on the same store and resumes
from its checkpoint to the same result as an uninterrupted run; Stop ends a job within one
step, with no time estimate once pressed."""
from __future__ import annotations

import time

import pytest

from models.core.errors import UserError
from models.core.jobs import CANCELLED, DONE, INTERRUPTED, JobRunner
from models.core.store import Store
from models.training.finetune.job import finetune_and_save, start_job, status_dict
from models.training.finetune.loop import FinetuneConfig
from models.training.resume import register_all
from tests.test_finetune import FAST, separable


def wait_for(check, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def tiny_manager(make_manager, tiny_models):
    manager = make_manager()
    return manager, manager.register_local(str(tiny_models["bert"]), name="tiny-bert").key


def test_a_job_cut_off_is_listed_as_interrupted_and_resumes_from_its_checkpoint(
        tiny_manager, monkeypatch):
    manager, key = tiny_manager
    monkeypatch.setenv("LLM_EXPLORER_CHECKPOINT_STEPS", "7")
    cfg = FinetuneConfig(base_model=key, **FAST)          # 30 steps, 5 per epoch
    reference = finetune_and_save(manager, FinetuneConfig(base_model=key, **FAST), separable(),
                                  "reference")
    store = Store(manager.registry.cache_dir)
    first = JobRunner("first", store=store)
    register_all(first, manager)
    job_id = start_job(manager, first, cfg, separable(), "resumed")
    checkpoint = first.job_dir(job_id) / "checkpoint" / "state.pt"
    wait_for(lambda: first.snapshot(job_id).steps >= 10, what="step 10")
    first.set_paused(True)               # the job waits at its next step: "the process died"
    assert checkpoint.exists()           # saved at step 7
    try:
        again = JobRunner("again", store=Store(manager.registry.cache_dir))   # the restart
        register_all(again, manager)
        listed = {j.id: j for j in again.jobs()}
        assert listed[job_id].status == INTERRUPTED and listed[job_id].title == "resumed"
        assert again.snapshot(job_id).status == INTERRUPTED
        assert again.resume(job_id) == job_id
        with pytest.raises(UserError) as err:          # a second Resume does not start it twice
            again.resume(job_id)
        assert err.value.code == "job_not_interrupted"
        job = again.wait(job_id, timeout=300)
        st = status_dict(job)
        assert st["status"] == DONE, st["error"]
        steps = [s["step"] for s in st["steps"]]
        assert steps[0] == 8 and steps[-1] == 30       # continued after the checkpoint
        resumed = st["result"]["report"]
        print(f"\nuninterrupted: accuracy {reference.report['accuracy']:.4f}, val loss "
              f"{reference.report['loss']:.6f}; resumed after a restart: accuracy "
              f"{resumed['accuracy']:.4f}, val loss {resumed['loss']:.6f}")
        assert resumed["accuracy"] == reference.report["accuracy"]
        assert resumed["loss"] == pytest.approx(reference.report["loss"], abs=1e-5)
        assert not first.job_dir(job_id).exists()      # a finished job's checkpoint is gone
        # a third runner lists it done, from the store
        third = JobRunner("third", store=Store(manager.registry.cache_dir))
        assert third.snapshot(job_id).status == DONE
    finally:
        first.cancel(job_id)
        first.set_paused(False)


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    store = Store(tmp_path)
    first = JobRunner("first", store=store)
    first.set_paused(True)
    waiting = first.submit("nobody-rebuilds-this", "queued", lambda ctx: None)
    again = JobRunner("again", store=Store(tmp_path))
    assert again.snapshot(waiting).status == INTERRUPTED
    errors = {}
    for job_id in (waiting, "finetune-nosuchjob"):
        with pytest.raises(UserError) as err:
            again.resume(job_id)
        errors[job_id] = err.value.code
    assert errors == {waiting: "job_cannot_resume", "finetune-nosuchjob": "job_unknown"}
    first.cancel(waiting)


def test_stop_ends_a_job_within_one_step_and_says_stopping_without_an_estimate(tiny_manager):
    manager, key = tiny_manager
    jobs = JobRunner("stop")
    cfg = FinetuneConfig(base_model=key, **{**FAST, "epochs": 40})      # 200 steps
    job_id = start_job(manager, jobs, cfg, separable(), "stopped")
    wait_for(lambda: jobs.snapshot(job_id).steps >= 3 and
             status_dict(jobs.snapshot(job_id))["eta_seconds"] is not None, what="an estimate")
    jobs.cancel(job_id)
    st = status_dict(jobs.snapshot(job_id))
    at_stop = jobs.snapshot(job_id).steps
    if st["status"] == "running":                      # ended already: nothing to say "stopping"
        assert st["stopping"] and st["eta_seconds"] is None
    job = jobs.wait(job_id, timeout=120)
    assert job.status == CANCELLED and job.result is not None and job.result.stopped
    assert job.steps <= at_stop + 1                    # at most the step under way
    assert not status_dict(job)["stopping"] and status_dict(job)["eta_seconds"] is None


def test_a_pretraining_job_cut_off_resumes_to_the_same_final_loss(make_manager, monkeypatch):
    from models.training.pretrain import loop as pt
    from tests.test_pretrain import FAST as PRE_FAST
    monkeypatch.setenv("LLM_EXPLORER_CHECKPOINT_STEPS", "7")
    manager = make_manager()
    corpus = pt.read_corpus(pt.bundled_corpora()["english"])
    settings = {**PRE_FAST, "steps": 40, "sample_every": 20}
    plain = JobRunner("plain")
    reference = plain.wait(plain.submit("pretrain", "reference", pt.job_function(
        pt.PretrainConfig(name="reference", **settings), corpus, manager)), timeout=300)
    assert reference.status == DONE, reference.error
    first = JobRunner("first", store=Store(manager.registry.cache_dir))
    job_id = first.submit("pretrain", "cut off", pt.job_function(
        pt.PretrainConfig(name="cut-off", **settings), corpus, manager))
    first.keep_settings(job_id, pt.job_settings(pt.PretrainConfig(name="cut-off", **settings),
                                                corpus))
    wait_for(lambda: first.snapshot(job_id).steps >= 10, what="step 10")
    first.set_paused(True)
    try:
        again = JobRunner("again", store=Store(manager.registry.cache_dir))
        register_all(again, manager)
        assert again.snapshot(job_id).status == INTERRUPTED
        job = again.wait(again.resume(job_id), timeout=300)
        assert job.status == DONE, job.error
        print(f"\npre-training: uninterrupted final loss {reference.result.final_loss:.6f}, "
              f"resumed {job.result.final_loss:.6f}")
        assert job.result.steps_done == 40
        assert job.result.final_loss == pytest.approx(reference.result.final_loss, abs=1e-5)
    finally:
        first.cancel(job_id)
        first.set_paused(False)


def test_stop_gives_up_an_interrupted_job_and_a_dropped_queued_job_stays_stopped(tmp_path):
    first = JobRunner("first", store=Store(tmp_path))
    first.set_paused(True)
    cut_off = first.submit("finetune", "cut off", lambda ctx: None)
    dropped = first.submit("finetune", "dropped", lambda ctx: None)
    assert first.cancel(dropped)                        # Stop while queued
    (first.job_dir(cut_off) / "checkpoint").mkdir(parents=True)
    again = JobRunner("again", store=Store(tmp_path))
    assert again.snapshot(dropped).status == CANCELLED  # not "interrupted" after the restart
    assert again.snapshot(cut_off).status == INTERRUPTED
    from webapp.tabs.my_jobs import stop_job
    from webapp.text import t
    said = stop_job(again, cut_off, "zh")               # My jobs' Stop on it: given up
    assert said == t("myjobs.given_up", "zh", job_id=cut_off)
    assert again.snapshot(cut_off).status == CANCELLED
    assert not again.job_dir(cut_off).exists()
    assert not again.cancel(cut_off)                    # nothing left to stop
    first.cancel(cut_off)
