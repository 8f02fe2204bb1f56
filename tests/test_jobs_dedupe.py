"""One start per click (models/core/jobs.py `same_start` / `submit(dedupe_key=...)`): a second
Start with the same settings while the first job is queued or running returns that job and
tells the user so, in English and Chinese; other settings, other owners and a finished job
start anew."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from models.core.accounts import CURRENT_USER, Limits, User
from models.core.jobs import ALREADY_RUNNING, DONE, FINISHED, JobRunner, same_start
from tests.messages import check_message
from webapp.text import render

DATA = Path(__file__).parent / "data" / "finetune_errors" / "good.csv"


def _held(gate: threading.Event):
    """A job function that runs until `gate` is set (so it is "running" while we click)."""
    def work(ctx):
        gate.wait(30)
        return "made"
    return work


def _notices(runner: JobRunner, job_id: str) -> list[dict]:
    return [e for e in runner.snapshot(job_id).events if e.get("type") == "notice"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_second_start_with_the_same_settings_returns_the_running_job(lang):
    runner, gate = JobRunner("dedupe"), threading.Event()
    try:
        with same_start("data.csv", 5, "2e-4", "my model"):
            first = runner.submit("finetune", "my model", _held(gate))
        with same_start("data.csv", 5, "2e-4", "my model"):
            second = runner.submit("finetune", "my model", _held(gate))
        assert second == first
        assert len(runner.jobs("finetune")) == 1
        [note] = _notices(runner, first)
        assert note["code"] == ALREADY_RUNNING and note["params"] == {"job_id": first}
        text = render(note, lang)
        check_message(text, lang)
        assert first in text
        # other settings are another job
        with same_start("data.csv", 5, "1e-4", "my model"):
            other = runner.submit("finetune", "my model", _held(gate))
        assert other != first
    finally:
        gate.set()
    assert runner.wait(first, 30).status == DONE and runner.wait(other, 30).status == DONE
    # the first job has finished: the same settings now start a new job
    with same_start("data.csv", 5, "2e-4", "my model"):
        again = runner.submit("finetune", "my model", lambda ctx: "made")
    assert again != first and runner.wait(again, 30).status == DONE


def test_without_settings_every_submit_is_a_job():
    runner, gate = JobRunner("dedupe"), threading.Event()
    try:
        ids = {runner.submit("demo", "same title", _held(gate)) for _ in range(2)}
        assert len(ids) == 2
    finally:
        gate.set()


def test_two_clicks_at_once_make_one_job():
    runner, gate = JobRunner("dedupe"), threading.Event()
    runner.set_paused(True)                    # keep whatever is submitted in the queue
    ids, start = [], threading.Barrier(8)

    def click():
        start.wait(10)
        ids.append(runner.submit("finetune", "t", _held(gate), dedupe_key="k"))

    threads = [threading.Thread(target=click) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    try:
        assert len(ids) == 8 and len(set(ids)) == 1 and len(runner.jobs()) == 1
        assert len(_notices(runner, ids[0])) == 7
    finally:
        runner.cancel(ids[0])
        runner.set_paused(False)
        gate.set()


def test_same_settings_of_two_students_are_two_jobs_and_a_double_click_is_not_over_quota():
    runner, gate = JobRunner("dedupe"), threading.Event()
    limits = Limits(concurrent_jobs=1)
    made = {}
    try:
        for name in ("amy", "ben"):
            token = CURRENT_USER.set(User(name, "student", limits=limits))
            try:
                first = runner.submit("sft", "t", _held(gate), dedupe_key="k")
                # the second click would be over the one-job limit: it is the same job instead
                assert runner.submit("sft", "t", _held(gate), dedupe_key="k") == first
                made[name] = first
            finally:
                CURRENT_USER.reset(token)
        assert made["amy"] != made["ben"]
    finally:
        gate.set()


def test_the_finetune_tab_double_click_starts_one_job(make_manager):
    """The tab's own Start handler (webapp/tabs/finetune.py), called twice with the same
    inputs while the first job waits in the queue."""
    from webapp.tabs.finetune import Handlers
    runner = JobRunner("dedupe")
    runner.set_paused(True)                    # queued: nothing trains in this test
    handlers = Handlers(make_manager(), runner)
    inputs = [str(DATA), "sentence", "label", "minilm", 1, "2e-4", 16, 32, 20, 42, True,
              "double", "en"]
    try:
        first = handlers.start_training(*inputs)
        assert handlers.start_training(*inputs) == first
        assert [j.id for j in runner.jobs("finetune")] == [first]
        assert [n["code"] for n in _notices(runner, first)] == [ALREADY_RUNNING]
        changed = list(inputs)
        changed[5] = "1e-4"                    # another learning rate: another job
        assert handlers.start_training(*changed) != first
    finally:
        for job in runner.jobs():
            runner.cancel(job.id)
        runner.set_paused(False)
    assert all(j.status in FINISHED for j in runner.jobs())
