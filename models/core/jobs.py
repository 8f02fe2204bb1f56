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
import hashlib
import json
import logging
import os
import shutil
import socket
import sqlite3
import threading
import time
import traceback
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from models.core.accounts import can_see, current_user
from models.core.errors import UserError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
# left queued or running by a process that is gone (a crash, a restart): `JobRunner.resume`
INTERRUPTED = "interrupted"
SAVE_EVERY = 1.0        # seconds: a running job's row is written at most this often

log = logging.getLogger("llm_explorer")

# The `jobs` table of the cache folder's store (models/core/store.py): what a later process
# needs to list a job and rebuild it (`settings`, from the job's kind: `JobRunner.register`).
JOBS_TABLE = """CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, owner TEXT NOT NULL,
    status TEXT NOT NULL, progress REAL NOT NULL, message TEXT NOT NULL, settings TEXT,
    checkpoint TEXT, created REAL NOT NULL, updated REAL NOT NULL, error_code TEXT,
    error_params TEXT, process TEXT NOT NULL)"""


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
    dedupe_key: str = ""        # the settings it was started with ("" = never merged)
    resumed_at: float = 0.0     # progress it had when resumed (JobRunner.resume), for the ETA

    @property
    def stopping(self) -> bool:
        """Stop was pressed and the job has not ended yet (it ends within one step)."""
        return self.status == RUNNING and self.cancel_requested

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far; None when not running or stopping (no estimate
        once Stop is pressed: the job ends at its next step)."""
        done = self.progress - self.resumed_at          # this run's share of the work
        if self.status != RUNNING or self.stopping or not self.started or done <= 0.01:
            return None
        elapsed = time.time() - self.started
        return elapsed * (1 - self.progress) / done


class JobContext:
    """What a job function sees. Thread-safe; cheap to call every step."""

    def __init__(self, runner: "JobRunner", job: Job):
        self._runner, self._job = runner, job

    @property
    def job_id(self) -> str:
        return self._job.id

    @property
    def checkpoint_dir(self) -> Path | None:
        """Where this job keeps its training checkpoint (`<cache_dir>/jobs/<id>/checkpoint`,
        models/training/checkpoint.py), or None for a runner without a store (nothing to
        resume from after a restart, so nothing is saved)."""
        return self._runner.job_dir(self._job.id) / "checkpoint" \
            if self._runner.store is not None else None

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
        self._runner._save(self._job, throttle=True)


    def notice(self, code: str, message: str = "", /, **params) -> None:
        """Something the user should know about this run (not an error): an event of type
        "notice" with a stable code and its params (the UI words it, webapp/text.py `render`);
        `message` is only a developer's note for logs."""
        with self._runner._lock:
            self._job.events.append({"type": "notice", "code": str(code), "message": str(message),
                                     "params": dict(params), "time": time.time()})


BUG_CODE = "job_bug"
ALREADY_RUNNING = "job_already_running"

# the job whose function is running (set in the job's own context): the registry records it
# as the job that made a model (models/core/registry.py)
CURRENT_JOB: contextvars.ContextVar[str] = contextvars.ContextVar("llm_explorer_job", default="")


def current_job_id() -> str:
    return CURRENT_JOB.get()


# the settings of the Start being handled (see `same_start`); read by `JobRunner.submit`
START_KEY: contextvars.ContextVar[str] = contextvars.ContextVar("llm_explorer_start", default="")


@contextmanager
def same_start(*settings):
    """Around a Start handler: jobs submitted inside are keyed by `settings` (everything the
    user chose: file, columns, numbers, name), so a second click with the same settings while
    the first job is queued or running returns that job instead of starting another."""
    digest = hashlib.sha256(repr(settings).encode("utf-8", "backslashreplace")).hexdigest()
    token = START_KEY.set(digest[:32])
    try:
        yield
    finally:
        START_KEY.reset(token)


def bug_error(exc: BaseException) -> UserError:
    """What a user is told when a job fails with a bug: what happened, in plain words, and
    what to do. The exception's name is a parameter so a report can quote it."""
    return UserError(BUG_CODE, what=type(exc).__name__)


class JobRunner:
    """The device's queue of jobs. With a `store` (models/core/store.py) every job is also a
    row of its `jobs` table, written on submit, at most once a second while it reports, and at
    its end; a runner that starts marks the rows left queued or running by a process that is
    gone as INTERRUPTED, lists them with its own jobs, and `resume` rebuilds one from its kind's
    factory (`register`) and stored settings: it continues from its last checkpoint
    (`JobContext.checkpoint_dir`)."""

    def __init__(self, name: str = "device", keep: int = 200, store=None):
        self.name = name
        self._keep = keep                      # finished jobs remembered for status queries
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[tuple[Job, Callable]] = deque()
        self._wake = threading.Condition(self._lock)
        self.paused = False                    # the Teacher tab's switch (see set_paused)
        self._resume = threading.Event()
        self.store = store
        self._factories: dict[str, Callable[[dict], Callable[[JobContext], Any]]] = {}
        self._saved_at: dict[str, float] = {}
        self._process = f"{socket.gethostname()}:{os.getpid()}"
        if store is not None:
            store.ensure("jobs", JOBS_TABLE)
            self._mark_interrupted()
        self._worker = threading.Thread(target=self._run, name=f"jobs-{name}", daemon=True)
        self._worker.start()

    # ---- jobs that outlive the process -----------------------------------------------
    def register(self, kind: str, factory: Callable[[dict], Callable[[JobContext], Any]]) -> None:
        """How to rebuild a job of `kind` after a restart: `factory(settings)` returns its job
        function (each training kind registers one, models/training/resume.py)."""
        self._factories[kind] = factory

    def keep_settings(self, job_id: str, settings: dict) -> None:
        """Store what `register`'s factory needs to rebuild the job (plain JSON data)."""
        if self.store is None:
            return
        try:
            with self.store.write() as db:
                db.execute("UPDATE jobs SET settings=?, checkpoint=? WHERE id=?",
                           (json.dumps(settings, ensure_ascii=False),
                            str(self.job_dir(job_id) / "checkpoint"), job_id))
        except sqlite3.Error:
            log.exception("could not store the settings of job %s", job_id)

    def job_dir(self, job_id: str) -> Path:
        """`<cache_dir>/jobs/<job_id>`: the job's own files (its checkpoint)."""
        return Path(self.store.path).parent / "jobs" / job_id

    def resume(self, job_id: str) -> str:
        """Queue an interrupted job again under its id: its kind's factory rebuilds it from
        the stored settings and the training continues from its checkpoint."""
        job_id = (job_id or "").strip()
        row = self._row(job_id)
        if row is None:
            raise UserError("job_unknown", job_id=job_id)
        if row["status"] != INTERRUPTED:
            raise UserError("job_not_interrupted", job_id=job_id, status=row["status"])
        factory = self._factories.get(row["kind"])
        if factory is None or not row["settings"]:
            raise UserError("job_cannot_resume", job_id=job_id)
        fn = factory(json.loads(row["settings"]))
        with self.store.write() as db:           # one process takes it, never two
            taken = db.execute("UPDATE jobs SET status=?, process=?, updated=? WHERE id=? AND "
                               "status=?", (QUEUED, self._process, time.time(), job_id,
                                            INTERRUPTED)).rowcount
        if not taken:
            raise UserError("job_not_interrupted", job_id=job_id, status=QUEUED)
        job = Job(id=job_id, kind=row["kind"], title=row["title"], owner=row["owner"],
                  progress=row["progress"], created=row["created"], resumed_at=row["progress"])
        run_as = contextvars.copy_context()
        run_as.run(CURRENT_JOB.set, job.id)          # what it registers names this job
        with self._lock:
            self._jobs[job.id] = job
            self._queue.append((job, lambda ctx: run_as.run(fn, ctx)))
            self._renumber()
            self._wake.notify()
        return job.id

    def _mark_interrupted(self) -> None:
        """Rows left queued or running by a process of this computer that is gone (or by an
        earlier runner of this very process) become INTERRUPTED."""
        host = socket.gethostname()

        def gone(process: str) -> bool:
            where, _, pid = (process or "").rpartition(":")
            if where != host or not pid.isdigit():
                return False             # another computer's process: it may be alive
            if int(pid) == os.getpid():
                return True
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return True
            except OSError:
                return False
            return False
        with self.store.write() as db:
            rows = db.execute("SELECT id, process FROM jobs WHERE status IN (?, ?)",
                              (QUEUED, RUNNING)).fetchall()
            db.executemany("UPDATE jobs SET status=?, updated=? WHERE id=?",
                           [(INTERRUPTED, time.time(), jid) for jid, proc in rows if gone(proc)])

    def _row(self, job_id: str) -> dict | None:
        """The stored row of a job the user asking may see, as a dict; None otherwise."""
        if self.store is None or not job_id:
            return None
        cur = self.store.db().execute("SELECT * FROM jobs WHERE id=?", (job_id,))
        values = cur.fetchone()
        if values is None:
            return None
        row = dict(zip([c[0] for c in cur.description], values))
        return row if can_see(row["owner"]) else None

    @staticmethod
    def _from_row(row: dict) -> Job:
        job = Job(id=row["id"], kind=row["kind"], title=row["title"], status=row["status"],
                  progress=row["progress"], message=row["message"], owner=row["owner"],
                  created=row["created"], error_code=row["error_code"],
                  error_params=json.loads(row["error_params"] or "{}"))
        job.finished = row["updated"] if row["status"] in FINISHED + (INTERRUPTED,) else None
        if job.error_code:
            job.error = job.error_code
        return job

    def _stored(self, kind: str | None) -> list[Job]:
        """Stored jobs this runner does not hold (interrupted ones, other processes')."""
        if self.store is None:
            return []
        cur = self.store.db().execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?",
                                      (self._keep,))
        names = [c[0] for c in cur.description]
        rows = [dict(zip(names, v)) for v in cur.fetchall()]
        with self._lock:
            held = set(self._jobs)
        return [self._from_row(r) for r in rows if r["id"] not in held
                and (kind is None or r["kind"] == kind) and can_see(r["owner"])]

    def _save(self, job: Job, throttle: bool = False) -> None:
        """Write the job's row (at most once per SAVE_EVERY seconds when `throttle`). A
        database that cannot be written is logged; the job goes on."""
        if self.store is None:
            return
        now = time.time()
        if throttle and now - self._saved_at.get(job.id, 0.0) < SAVE_EVERY:
            return
        self._saved_at[job.id] = now
        try:
            with self.store.write() as db:
                db.execute(
                    "INSERT INTO jobs (id, kind, title, owner, status, progress, message, created, "
                    "updated, error_code, error_params, process) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
                    "progress=excluded.progress, message=excluded.message, "
                    "updated=excluded.updated, error_code=excluded.error_code, "
                    "error_params=excluded.error_params, process=excluded.process",
                    (job.id, job.kind, job.title, job.owner, job.status, job.progress,
                     job.message, job.created, now, job.error_code,
                     json.dumps(job.error_params, ensure_ascii=False, default=str),
                     self._process))
        except sqlite3.Error:
            log.exception("could not store job %s", job.id)

    def submit(self, kind: str, title: str, fn: Callable[[JobContext], Any],
               dedupe_key: str | None = None) -> str:
        """Queue `fn`; returns the job's id at once. With a `dedupe_key` (default: the one
        `same_start` set), a job of the same owner, kind and key still queued or running is
        returned instead of a new one (see the module's docstring)."""
        user = current_user()
        job = Job(id=f"{kind}-{uuid.uuid4().hex[:10]}", kind=kind, title=title,
                  owner=user.name if user else "",
                  dedupe_key=START_KEY.get() if dedupe_key is None else str(dedupe_key))
        if user is not None and not user.is_teacher:
            job.time_limit = 60.0 * user.limits.training_minutes
            job.step_limit = int(user.limits.training_steps)
        # the job runs as its submitter: what it saves is theirs (models/core/accounts.py)
        run_as = contextvars.copy_context()
        run_as.run(CURRENT_JOB.set, job.id)          # what it registers names this job
        with self._lock:
            twin = job.dedupe_key and next(
                (j for j in self._jobs.values() if j.status not in FINISHED and j.kind == kind
                 and j.owner == job.owner and j.dedupe_key == job.dedupe_key), None)
            if twin:
                twin.events.append({"type": "notice", "code": ALREADY_RUNNING, "message": "",
                                    "params": {"job_id": twin.id}, "time": time.time()})
                return twin.id
            if user is not None and not user.is_teacher and user.limits.concurrent_jobs:
                mine = [j for j in self._jobs.values()
                        if j.owner == user.name and j.status not in FINISHED]
                if len(mine) >= user.limits.concurrent_jobs:
                    raise UserError("quota_jobs", count=len(mine), job_id=mine[0].id)
            self._jobs[job.id] = job
            self._queue.append((job, lambda ctx: run_as.run(fn, ctx)))
            self._renumber()
            self._wake.notify()
        self._save(job)
        return job.id

    def snapshot(self, job_id: str) -> Job:
        """A copy of the job's state (a stored one, such as an interrupted job, when this
        runner does not hold it). Unknown id -> UserError."""
        with self._lock:
            job = self._jobs.get((job_id or "").strip())
            if job is not None and can_see(job.owner):
                return self._copy(job)
        row = self._row((job_id or "").strip()) if job is None else None
        if row is None:                                  # another student's: as if missing
            raise UserError("job_unknown", job_id=job_id)
        return self._from_row(row)

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop. A queued job is dropped; a running one stops at its next step;
        an interrupted one (stored) is given up: stopped, its checkpoint deleted."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return self._give_up(job_id)
        with self._lock:
            if job.status in FINISHED or not can_see(job.owner):
                return False
            job.cancel_requested = True
            dropped = job.status == QUEUED
            if dropped:
                self._queue = deque((j, f) for j, f in self._queue if j.id != job_id)
                # message: a phase key like every job's status line (no words in models/)
                job.status, job.finished, job.message = CANCELLED, time.time(), "cancelled"
                self._renumber()
        if dropped:
            self._save(job)
        return True

    def _give_up(self, job_id: str) -> bool:
        row = self._row(job_id)
        if row is None or row["status"] != INTERRUPTED:
            return False
        with self.store.write() as db:
            db.execute("UPDATE jobs SET status=?, message=?, updated=? WHERE id=? AND status=?",
                       (CANCELLED, "cancelled", time.time(), job_id, INTERRUPTED))
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        return True

    def jobs(self, kind: str | None = None) -> list[Job]:
        """This runner's jobs, then the stored ones it does not hold (interrupted jobs,
        other processes' jobs on the same cache folder)."""
        with self._lock:
            mine = [self._copy(j) for j in self._jobs.values()
                    if (kind is None or j.kind == kind) and can_see(j.owner)]
        return mine + self._stored(kind)

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
            self._save(job)
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
            self._save(job)
            self._saved_at.pop(job.id, None)
            if self.store is not None:       # ended: its checkpoint will not be needed again
                shutil.rmtree(self.job_dir(job.id), ignore_errors=True)

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
           "stopping": job.stopping, "progress": round(job.progress, 4),
           "eta_seconds": job.eta_seconds,
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
