"""Background jobs for long work (fine-tuning, pre-training a tiny model).

One queue per device: jobs run one at a time in a worker thread, in the order submitted,
so two trainings never fight over the same GPU or CPU cores. A job function receives a
`JobContext`: it reports progress and metrics, checks `ctx.cancelled` between steps, and
returns its result. A job that raises is marked failed with a message; the worker and the
server keep running. Snapshots are plain copies, so the UI can poll them from any request
(a page reload, another computer with the job id) without touching the running job.

The runner does not know who listens: the UI polls `snapshot(job_id)`.

In a classroom (models/core/accounts.py) a job belongs to whoever submitted it: the job runs
with its submitter as the current user (so the model it saves is theirs), and `snapshot`,
`cancel` and `jobs` treat another student's job exactly like an id that does not exist. A
student may have `Limits.concurrent_jobs` jobs queued or running; a running job stops after
`Limits.training_minutes` or `Limits.training_steps` (the training loops count their steps
through `JobContext.count_step`); `set_paused(True)` (the Teacher tab) holds every job at its next
step (`JobContext.cancelled` waits while paused) and starts no new one until it is lifted.

Events are plain dicts in `Job.events`: metrics (`report(progress, message, **metrics)`) and
notices (`notice(code, **params)`: something the user should know, such as texts cut to the
maximum length; `type="notice"`, worded by the UI from its code). A failed job keeps its
UserError's code and params (`error_code`, `error_params`; `error` is only their developer form
for logs): the web layer words them in the user's language (webapp/text.py `job_error_text`,
`localize_status` for the status JSON). A job that fails
with a bug (any exception that is not a `UserError`) is recorded with the code `job_bug`, so
the UI shows a translated message that says what to do, never a Python exception; the
exception's name stays in `Job.detail` and its traceback in the server log.
"""
from __future__ import annotations

import contextvars
import copy
import dataclasses
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from models.core.accounts import can_see, current_user
from models.core.errors import UserError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)


@dataclass
class Job:
    id: str
    kind: str                   # "finetune", "pretrain", ...
    title: str
    status: str = QUEUED
    progress: float = 0.0       # 0..1
    message: str = ""
    events: list = field(default_factory=list)   # metric dicts in the order reported
    result: Any = None
    error: str | None = None        # developer form of the error (code(params)), for logs
    error_code: str | None = None   # UserError code, so the UI can show the error translated
    error_params: dict = field(default_factory=dict)
    detail: str | None = None       # for a bug: the exception's type and text (server side)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    queue_position: int = 0     # 0 = running or finished; 1 = next to run
    cancel_requested: bool = False
    owner: str = ""             # classroom: the user who submitted it ("" = no classroom)
    time_limit: float = 0.0     # seconds it may run (0 = no limit), from the owner's limits
    step_limit: int = 0         # training steps it may take (0 = no limit), likewise
    steps: int = 0              # training steps taken so far (JobContext.count_step)

    @property
    def eta_seconds(self) -> float | None:
        if self.status != RUNNING or not self.started or self.progress <= 0.01:
            return None
        elapsed = time.time() - self.started
        return elapsed * (1 - self.progress) / self.progress


class JobContext:
    """What a job function sees. Thread-safe; cheap to call every step."""

    def __init__(self, runner: "JobRunner", job: Job):
        self._runner, self._job = runner, job

    @property
    def job_id(self) -> str:
        return self._job.id

    @property
    def cancelled(self) -> bool:
        """Checked by every job between steps: True once someone pressed Stop or the owner's
        time limit is spent. While the teacher has paused training it waits here."""
        job = self._job
        paused_note = False
        while self._runner.paused and not job.cancel_requested:
            if not paused_note:
                self.notice("training_paused")
                paused_note = True
            self._runner._resume.wait(0.5)
        if job.time_limit and job.started and not job.cancel_requested \
                and time.time() - job.started > job.time_limit:
            minutes = round(job.time_limit / 60)
            self.notice("training_time_limit", minutes=minutes)
            job.cancel_requested = True
        if job.step_limit and job.steps >= job.step_limit and not job.cancel_requested:
            self.notice("training_step_limit", steps=job.step_limit)
            job.cancel_requested = True
        return job.cancel_requested

    def count_step(self, step: int) -> None:
        """The training loop has finished step number `step` (1-based), for the class's step
        limit (checked at the next `cancelled`)."""
        with self._runner._lock:
            self._job.steps = max(self._job.steps, int(step))

    def report(self, progress: float | None = None, message: str | None = None, /,
               **metrics) -> None:
        """Progress (0..1, None = unchanged), a short status line, and metrics to append as
        one event. progress and message are positional-only, so a metric may be called
        anything (even "message") without clashing with them."""
        with self._runner._lock:
            if progress is not None:
                self._job.progress = max(0.0, min(1.0, float(progress)))
            if message is not None:
                self._job.message = message
            if metrics:
                self._job.events.append(dict(metrics, time=time.time()))


    def notice(self, code: str, message: str = "", /, **params) -> None:
        """Something the user should know about this run (not an error): an event of type
        "notice" with a stable code and its params (the UI words it, webapp/text.py `render`);
        `message` is only a developer's note for logs."""
        with self._runner._lock:
            self._job.events.append({"type": "notice", "code": str(code), "message": str(message),
                                     "params": dict(params), "time": time.time()})


BUG_CODE = "job_bug"


def bug_error(exc: BaseException) -> UserError:
    """What a user is told when a job fails with a bug: what happened, in plain words, and
    what to do. The exception's name is a parameter so a report can quote it."""
    return UserError(BUG_CODE, what=type(exc).__name__)


class JobRunner:
    def __init__(self, name: str = "device", keep: int = 200):
        self.name = name
        self._keep = keep                      # finished jobs remembered for status queries
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[tuple[Job, Callable]] = deque()
        self._wake = threading.Condition(self._lock)
        self.paused = False                    # the Teacher tab's switch (see set_paused)
        self._resume = threading.Event()
        self._worker = threading.Thread(target=self._run, name=f"jobs-{name}", daemon=True)
        self._worker.start()

    def submit(self, kind: str, title: str, fn: Callable[[JobContext], Any]) -> str:
        user = current_user()
        job = Job(id=f"{kind}-{uuid.uuid4().hex[:10]}", kind=kind, title=title,
                  owner=user.name if user else "")
        if user is not None and not user.is_teacher:
            job.time_limit = 60.0 * user.limits.training_minutes
            job.step_limit = int(user.limits.training_steps)
        # the job runs as its submitter: what it saves is theirs (models/core/accounts.py)
        run_as = contextvars.copy_context()
        with self._lock:
            if user is not None and not user.is_teacher and user.limits.concurrent_jobs:
                mine = [j for j in self._jobs.values()
                        if j.owner == user.name and j.status not in FINISHED]
                if len(mine) >= user.limits.concurrent_jobs:
                    raise UserError("quota_jobs", count=len(mine), job_id=mine[0].id)
            self._jobs[job.id] = job
            self._queue.append((job, lambda ctx: run_as.run(fn, ctx)))
            self._renumber()
            self._wake.notify()
        return job.id

    def snapshot(self, job_id: str) -> Job:
        """A copy of the job's state. Unknown id -> UserError."""
        with self._lock:
            job = self._jobs.get((job_id or "").strip())
            if job is None or not can_see(job.owner):    # another student's: as if missing
                raise UserError("job_unknown", job_id=job_id)
            return self._copy(job)

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop. A queued job is dropped; a running one stops at its next step."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status in FINISHED or not can_see(job.owner):
                return False
            job.cancel_requested = True
            if job.status == QUEUED:
                self._queue = deque((j, f) for j, f in self._queue if j.id != job_id)
                # message: a phase key like every job's status line (no words in models/)
                job.status, job.finished, job.message = CANCELLED, time.time(), "cancelled"
                self._renumber()
            return True

    def jobs(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            return [self._copy(j) for j in self._jobs.values()
                    if (kind is None or j.kind == kind) and can_see(j.owner)]

    def set_paused(self, paused: bool) -> None:
        """Pause (True) or resume training for everyone: running jobs wait at their next step,
        queued jobs do not start."""
        with self._lock:
            self.paused = bool(paused)
            if self.paused:
                self._resume.clear()
            else:
                self._resume.set()
                self._wake.notify_all()

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until a job finishes (for tests and the command line)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.snapshot(job_id)
            if job.status in FINISHED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    # ---- internals -------------------------------------------------------------------
    @staticmethod
    def _copy(job: Job) -> Job:
        snap = copy.copy(job)
        snap.events = list(job.events)
        return snap

    def _renumber(self) -> None:
        for pos, (job, _) in enumerate(self._queue, start=1):
            job.queue_position = pos

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue or self.paused:
                    self._wake.wait(1.0 if self.paused else None)
                job, fn = self._queue.popleft()
                job.status, job.started, job.queue_position = RUNNING, time.time(), 0
                self._renumber()
            ctx = JobContext(self, job)
            try:
                result = fn(ctx)
                status, error = (CANCELLED if job.cancel_requested else DONE), None
            except UserError as exc:
                result, status, error = None, FAILED, str(exc)   # code(params), for logs
                job.error_code, job.error_params = exc.code, dict(exc.params)
            except Exception as exc:  # a bug in the job: log it, keep the worker alive
                traceback.print_exc()
                bug = bug_error(exc)
                result, status, error = None, FAILED, str(bug)
                job.error_code, job.error_params = bug.code, dict(bug.params)
                job.detail = f"{type(exc).__name__}: {exc}"[:500]
            with self._lock:
                job.result, job.status, job.error, job.finished = result, status, error, time.time()
                if status == DONE:
                    job.progress = 1.0
                self._forget_old()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINISHED]
        for job in sorted(finished, key=lambda j: j.finished or 0)[: max(0, len(finished) - self._keep)]:
            del self._jobs[job.id]


def status_json(job: "Job", result_type: type | None = None, **series) -> dict:
    """A job snapshot as plain JSON: what the /<kind>_status endpoints return. Its state, the
    total steps its "begin" event announced, its notices, one list per `series` entry
    (name=(event type, keys): e.g. steps=("step", ("step", "loss"))), and its result as a dict
    when it is a `result_type` dataclass."""
    begin = next((e for e in job.events if e.get("type") == "begin"), None)
    out = {"job_id": job.id, "kind": job.kind, "title": job.title, "status": job.status,
           "progress": round(job.progress, 4), "eta_seconds": job.eta_seconds,
           "queue_position": job.queue_position, "message": job.message, "error": job.error,
           "error_code": job.error_code, "error_params": job.error_params, "detail": job.detail,
           "total_steps": begin.get("total_steps") if begin else None,
           "notices": [{"code": e["code"], "message": e["message"], "params": e["params"]}
                       for e in job.events if e.get("type") == "notice"]}
    for name, (kind, keys) in series.items():
        out[name] = [{k: e.get(k) for k in keys} for e in job.events if e.get("type") == kind]
    result = job.result
    out["result"] = (dataclasses.asdict(result) if result_type is not None
                     and isinstance(result, result_type) else None)
    return out
