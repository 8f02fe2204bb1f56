"""The background job runner: one job at a time per device, progress, cancel, failures."""
from __future__ import annotations

import threading
import time

import pytest

from models.core.errors import UserError
from models.core.jobs import CANCELLED, DONE, FAILED, JobRunner
from webapp.text import job_error_text


def test_jobs_run_one_at_a_time_in_order_and_report_progress():
    runner = JobRunner("test")
    running, overlaps, order = [], [], []
    lock = threading.Lock()

    gate = threading.Event()

    def make(name):
        def job(ctx):
            if name == "a":
                gate.wait(10)               # hold the device until the queue is checked
            with lock:
                running.append(name)
                overlaps.append(len(running))
            for step in range(5):
                ctx.report((step + 1) / 5, f"step {step}", loss=1.0 / (step + 1))
                time.sleep(0.01)
            with lock:
                running.remove(name)
            order.append(name)
            return name.upper()
        return job
    ids = [runner.submit("test", n, make(n)) for n in "abc"]
    deadline = time.monotonic() + 10
    while runner.snapshot(ids[0]).status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [runner.snapshot(i).queue_position for i in ids] == [0, 1, 2]   # waiting their turn
    assert runner.snapshot(ids[1]).status == "queued"
    gate.set()
    jobs = [runner.wait(i, timeout=30) for i in ids]
    assert order == ["a", "b", "c"] and max(overlaps) == 1
    assert all(j.status == DONE and j.progress == 1.0 for j in jobs)
    assert [j.result for j in jobs] == ["A", "B", "C"]
    assert [round(e["loss"], 3) for e in jobs[0].events] == [1.0, 0.5, 0.333, 0.25, 0.2]


def test_cancel_stops_a_running_job_and_drops_a_queued_one():
    runner = JobRunner("test")
    started = threading.Event()

    def slow(ctx):
        started.set()
        steps = 0
        while not ctx.cancelled and steps < 1000:
            steps += 1
            time.sleep(0.01)
        return {"steps": steps}            # a stopped job still returns what it has
    first = runner.submit("t", "slow", slow)
    second = runner.submit("t", "queued", slow)
    started.wait(10)
    assert runner.cancel(second) and runner.snapshot(second).status == CANCELLED
    assert runner.cancel(first)
    job = runner.wait(first, timeout=30)
    assert job.status == CANCELLED and job.result["steps"] < 1000
    assert runner.cancel(first) is False   # already finished


def test_a_crashing_job_reports_its_error_and_the_next_one_runs():
    runner = JobRunner("test")
    bad = runner.submit("t", "bad", lambda ctx: 1 / 0)
    user = runner.submit("t", "user", lambda ctx: (_ for _ in ()).throw(UserError("x", "fix the data")))
    good = runner.submit("t", "good", lambda ctx: "fine")
    crashed = runner.wait(bad, 30)
    # a bug is shown as a message that says what to do, never as a raw Python exception
    assert crashed.status == FAILED and crashed.error_code == "job_bug"
    shown = job_error_text(crashed.error, crashed.error_code, crashed.error_params, "en")
    assert "Press Start again" in shown and "division by zero" not in shown
    assert crashed.error_params == {"what": "ZeroDivisionError"}
    assert crashed.detail == "ZeroDivisionError: division by zero"     # kept for the log/report
    failed = runner.wait(user, 30)
    assert failed.error_code == "x" and failed.error_params == {}       # code kept for translation
    # a code with no words (here a made-up one) still shows the library's description
    assert "fix the data" in job_error_text(failed.error, failed.error_code, failed.error_params,
                                            "en")
    assert runner.wait(good, 30).result == "fine"


def test_unknown_job_id():
    with pytest.raises(UserError) as err:
        JobRunner("test").snapshot("finetune-nope")
    assert err.value.code == "job_unknown"


def test_notices_are_their_own_event_kind_and_metric_names_never_clash():
    """A notice (code, message, params) is an event of type "notice"; report() takes progress
    and message positionally, so a metric called "message" or "progress" is just a metric."""
    runner = JobRunner("test")

    def job(ctx):
        ctx.report(0.5, "half way", message="a metric named message", progress=3)
        ctx.notice("truncated", "12 texts are longer than 64 tokens", n=12, max_length=64)
        return "ok"
    job_id = runner.submit("t", "notices", job)
    done = runner.wait(job_id, 30)
    assert done.status == DONE, done.detail
    metric, notice = done.events
    assert metric["message"] == "a metric named message" and metric["progress"] == 3
    assert notice["type"] == "notice" and notice["code"] == "truncated"
    assert notice["params"] == {"n": 12, "max_length": 64}
