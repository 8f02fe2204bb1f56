"""Background jobs for long work (fine-tuning, pre-training a tiny model).

One queue per device: jobs run one at a time in a worker thread, in the order submitted,
so two trainings never fight over the same GPU or CPU cores. A job function receives a
`JobContext`: it reports progress and metrics, checks `ctx.cancelled` between steps, and
returns its result. A job that raises is marked failed with a message; the worker and the
server keep running. Snapshots are plain copies, so the UI can poll them from any request
(a page reload, another computer with the job id) without touching the running job.

The runner does not know who listens: the UI polls `snapshot(job_id)`.

Events are plain dicts in `Job.events`: metrics (`report(progress, message, **metrics)`) and
notices (`notice(code, message, **params)`: something the user should know, such as texts cut
to the maximum length; `type="notice"`, translated by the UI from its code). A job that fails
with a bug (any exception that is not a `UserError`) is recorded with the code `job_bug`, so
the UI shows a translated message that says what to do, never a Python exception; the
exception's name stays in `Job.detail` and its traceback in the server log.
"""
from __future__ import annotations

import copy
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

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
    error: str | None = None
    error_code: str | None = None   # UserError code, so the UI can show the error translated
    error_params: dict = field(default_factory=dict)
    detail: str | None = None       # for a bug: the exception's type and text (server side)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    queue_position: int = 0     # 0 = running or finished; 1 = next to run
    cancel_requested: bool = False

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
        return self._job.cancel_requested

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


    def notice(self, code: str, message: str, **params) -> None:
        """Something the user should know about this run (not an error): an event of type
        "notice" with a stable code (the UI translates it), the English message and params."""
        with self._runner._lock:
            self._job.events.append({"type": "notice", "code": str(code), "message": str(message),
                                     "params": dict(params), "time": time.time()})


BUG_CODE = "job_bug"


def bug_error(exc: BaseException) -> UserError:
    """What a user is told when a job fails with a bug: what happened, in plain words, and
    what to do. The exception's name is a parameter so a report can quote it."""
    return UserError(BUG_CODE, f"The job stopped because of a problem inside the app "
                     f"({type(exc).__name__}), not because of your data or settings. Press Start "
                     "again; if it fails the same way, try other settings (a smaller batch size "
                     "or max length) and report the problem with this job's id.",
                     what=type(exc).__name__)


class JobRunner:
    def __init__(self, name: str = "device", keep: int = 200):
        self.name = name
        self._keep = keep                      # finished jobs remembered for status queries
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[tuple[Job, Callable]] = deque()
        self._wake = threading.Condition(self._lock)
        self._worker = threading.Thread(target=self._run, name=f"jobs-{name}", daemon=True)
        self._worker.start()

    def submit(self, kind: str, title: str, fn: Callable[[JobContext], Any]) -> str:
        job = Job(id=f"{kind}-{uuid.uuid4().hex[:10]}", kind=kind, title=title)
        with self._lock:
            self._jobs[job.id] = job
            self._queue.append((job, fn))
            self._renumber()
            self._wake.notify()
        return job.id

    def snapshot(self, job_id: str) -> Job:
        """A copy of the job's state. Unknown id -> UserError."""
        with self._lock:
            job = self._jobs.get((job_id or "").strip())
            if job is None:
                raise UserError("job_unknown", f"There is no job {job_id!r} on this server. It may "
                                "have finished before a restart; start a new one.", job_id=job_id)
            return self._copy(job)

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop. A queued job is dropped; a running one stops at its next step."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status in FINISHED:
                return False
            job.cancel_requested = True
            if job.status == QUEUED:
                self._queue = deque((j, f) for j, f in self._queue if j.id != job_id)
                job.status, job.finished, job.message = CANCELLED, time.time(), "cancelled before it started"
                self._renumber()
            return True

    def jobs(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            return [self._copy(j) for j in self._jobs.values() if kind is None or j.kind == kind]

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
                while not self._queue:
                    self._wake.wait()
                job, fn = self._queue.popleft()
                job.status, job.started, job.queue_position = RUNNING, time.time(), 0
                self._renumber()
            ctx = JobContext(self, job)
            try:
                result = fn(ctx)
                status, error = (CANCELLED if job.cancel_requested else DONE), None
            except UserError as exc:
                result, status, error = None, FAILED, exc.message
                job.error_code, job.error_params = exc.code, dict(exc.params)
            except Exception as exc:  # a bug in the job: log it, keep the worker alive
                traceback.print_exc()
                bug = bug_error(exc)
                result, status, error = None, FAILED, bug.message
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
