"""The classroom's one gate (`python app.py --classroom`): logins, who is asking, who is here,
and the checks every event goes through.

`Classroom.guard(demo)` runs once the UI is built and wraps every event handler of the app
(buttons, timers, page loads, API endpoints). Around each call — each step, for a streaming
handler — it:
  * finds the logged-in user of the request (Gradio's auth cookie), with the class settings;
  * sets `models.core.accounts.CURRENT_USER`, which the job runner and the model registry read
    to answer another student's job id or model key exactly like a missing one (so no handler
    repeats an ownership check);
  * refuses teacher actions (TEACHER_ONLY, and anything the Teacher tab wires) to students;
  * refuses every action (API endpoints, buttons, model runs) to someone still on the one-time
    password a teacher handed out, until they choose their own (`password_change` handlers);
    the page itself still loads, and shows them the new-password box first;
  * counts a student's model runs (the events in the device group, webapp/common.py HEAVY)
    against the class limit per minute, and checks the size of files they send;
  * moves every file a person uploads out of Gradio's shared upload folder into their own
    folder in the cache (`uploads/u-<name>-<hash>/`, which the server does not serve): the
    handler reads their copy, nobody else can fetch it by its upload address, and a person's
    folder keeps at most KEEP_UPLOADS times the upload limit (the oldest files go first);
  * remembers which sessions are open, for the Teacher tab's "who is connected".
A streaming handler whose browser goes away is closed by Gradio; closing it here closes the
generation under it, which stops the model and gives the device back
(models/runners/generation.py `stream_generate`).

Without --classroom nothing here runs: the app is one person's, as before.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
import time
from collections import deque

import gradio as gr
from gradio.context import LocalContext

from models.core.accounts import CURRENT_USER, Accounts, User, retry_after
from models.core.errors import UserError
from models.core.jobs import JobRunner
from models.core.manager import ModelManager

from webapp.common import _as_gr_error, _lang_of

# Endpoints (and their UI twins "<name>_ui", see webapp/common.py wire_action) only a teacher
# may call: they change what every student has (loaded models, the model list, files on disk).
TEACHER_ONLY = {"load_model", "unload_model", "add_model", "delete_model"}
SEEN_WINDOW = 120.0            # a session not heard from for this long no longer counts as here
KEEP_UPLOADS = 5               # a person's uploads folder holds this many times the upload limit


def teacher_only(fn):
    """Mark a handler as a teacher action (the Teacher tab's handlers)."""
    fn._teacher_only = True
    return fn


def password_change(fn):
    """Mark the handler that sets a new password: the one action open to someone still on a
    one-time password."""
    fn._password_change = True
    return fn


def is_action(block_fn) -> bool:
    """An event that does something (an API endpoint, a wired button, a model run), as
    opposed to the page's own redraws (page load, timers, tab changes)."""
    return (getattr(block_fn, "api_visibility", "public") != "private"
            or block_fn.concurrency_id == "device"
            or (block_fn.api_name or "").endswith("_ui"))


class Classroom:
    """Logins and per-request checks for a class. One per app (app.py builds it)."""

    def __init__(self, accounts: Accounts, manager: ModelManager, jobs: JobRunner):
        self.accounts, self.manager, self.jobs = accounts, manager, jobs
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}           # session hash -> {user, first, last}
        self._runs: dict[str, deque] = {}              # user -> times of model runs (last minute)
        self._uploads: dict[tuple[str, str], str] = {}  # (user, upload address) -> their copy
        self.uploads_root = accounts.path.parent / "uploads"
        jobs.set_paused(accounts.training_paused())

    # ---- logging in ----------------------------------------------------------------------
    async def auth(self, name: str, password: str) -> bool:
        """Gradio's login check (launch(auth=...)). Argon2 takes a moment: off the event loop."""
        return await asyncio.to_thread(self.accounts.check, name, password)

    # ---- who is here ------------------------------------------------------------------------
    def _seen(self, user: User, session: str | None) -> None:
        if not session:
            return
        now = time.time()
        with self._lock:
            row = self._sessions.setdefault(session, {"user": user.name, "role": user.role,
                                                      "first": now})
            row["last"] = now

    def left(self, session: str | None) -> None:
        with self._lock:
            self._sessions.pop(session or "", None)

    def connected(self) -> list[dict]:
        """[{name, role, sessions, since, last}] of users with a page open (heard from lately)."""
        now = time.time()
        out: dict[str, dict] = {}
        with self._lock:
            for row in self._sessions.values():
                if now - row["last"] > SEEN_WINDOW:
                    continue
                entry = out.setdefault(row["user"], {"name": row["user"], "role": row["role"],
                                                     "sessions": 0, "since": row["first"],
                                                     "last": row["last"]})
                entry["sessions"] += 1
                entry["since"] = min(entry["since"], row["first"])
                entry["last"] = max(entry["last"], row["last"])
        return sorted(out.values(), key=lambda r: (r["role"] != "teacher", r["name"]))

    # ---- the checks ----------------------------------------------------------------------------
    def _who(self) -> tuple[User, str | None]:
        request = LocalContext.request.get(None)
        name = getattr(request, "username", None) if request is not None else None
        user = self.accounts.user(name) if name else None
        if user is None:
            raise UserError("login_needed")
        return user, getattr(request, "session_hash", None)

    def _count_run(self, user: User) -> None:
        limit = user.limits.requests_per_minute
        if user.is_teacher or not limit:
            return
        now = time.time()
        with self._lock:
            runs = self._runs.setdefault(user.name, deque())
            while runs and now - runs[0] > 60:
                runs.popleft()
            if len(runs) >= limit:
                wait = retry_after(runs[0], now)
                raise UserError("quota_rate", limit=limit, seconds=wait)
            runs.append(now)

    @staticmethod
    def _check_files(user: User, args, kwargs) -> None:
        limit_mb = user.limits.upload_mb
        if user.is_teacher or not limit_mb:
            return
        for value in list(args) + list(kwargs.values()):
            paths = value if isinstance(value, (list, tuple)) else [value]
            for item in paths:
                path = item.get("path") if isinstance(item, dict) else item
                if not isinstance(path, str) or len(path) > 4096:
                    continue
                try:
                    size = os.path.getsize(path) if os.path.isfile(path) else 0
                except (OSError, ValueError):
                    continue
                if size > limit_mb * 1024 * 1024:
                    raise UserError("quota_upload", size=f"{size / 2**20:.1f}", limit=limit_mb)

    # ---- uploads ----------------------------------------------------------------------------
    def _own_uploads(self, user: User, args, kwargs) -> tuple[tuple, dict]:
        """Files in Gradio's upload folder among the arguments -> the person's own copies (the
        upload itself is removed). A later event that sends the same upload address again (a
        second button on the same file) gets the same copy; someone else's gets nothing."""
        from gradio.utils import get_upload_folder
        root = os.path.realpath(get_upload_folder())

        def own(value):
            if isinstance(value, (list, tuple)):
                return type(value)(own(v) for v in value)
            if isinstance(value, dict) and isinstance(value.get("path"), str):
                moved = own(value["path"])
                return value if moved == value["path"] else dict(value, path=moved)
            if not isinstance(value, str) or len(value) > 4096:
                return value
            try:
                real = os.path.realpath(value)
            except (OSError, ValueError):
                return value
            if not real.startswith(root + os.sep):
                return value
            key = (user.name, real)
            with self._lock:
                known = self._uploads.get(key)
                # Gradio names an upload by a hash of its bytes (with the server's secret
                # seed): two people who upload the same file get the same address, and the
                # first one's event has already moved it. The second gets a copy of the same
                # bytes; nobody can name that address without having uploaded them.
                same = next((v for (who, r), v in self._uploads.items()
                             if r == real and who != user.name and os.path.isfile(v)), None)
            if known and os.path.isfile(known) and not os.path.isfile(real):
                return known
            if not os.path.isfile(real):
                return self._keep_upload(user, same, address=real) if same else value
            return self._keep_upload(user, real)

        return own(tuple(args)), {k: own(v) for k, v in kwargs.items()}

    def _keep_upload(self, user: User, real: str, address: str | None = None) -> str:
        """Copy `real` into the person's folder; remove it when it is the upload itself
        (`address` None), else remember the copy under `address`."""
        import secrets
        import shutil
        from models.core.accounts import folder_for
        folder = folder_for(self.uploads_root, user.name)
        dest = folder / f"{time.time_ns():020d}-{secrets.token_hex(4)}" / os.path.basename(real)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real, dest)
        if address is None:
            try:
                os.remove(real)               # no longer reachable at its upload address
            except OSError:
                pass
        with self._lock:
            self._uploads[(user.name, address or real)] = str(dest)
        self._prune_uploads(user, folder, keep=dest)
        return str(dest)

    def _prune_uploads(self, user: User, folder, keep) -> None:
        """Oldest first, until the folder fits in KEEP_UPLOADS x the upload limit."""
        import shutil
        limit = user.limits.upload_mb * 1024 * 1024 * KEEP_UPLOADS
        if not limit:
            return
        files = sorted((p for p in folder.glob("*/*") if p.is_file()),
                       key=lambda p: p.parent.name)
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= limit or path == keep:
                break
            total -= path.stat().st_size
            shutil.rmtree(path.parent, ignore_errors=True)
            with self._lock:
                for key in [k for k, v in self._uploads.items() if v == str(path)]:
                    del self._uploads[key]

    def uploads_bytes(self, name: str) -> int:
        from models.core.accounts import folder_for
        folder = folder_for(self.uploads_root, name)
        return sum(p.stat().st_size for p in folder.glob("*/*") if p.is_file()) \
            if folder.is_dir() else 0

    def _enter(self, fn, block_fn, args, kwargs) -> tuple[User, tuple, dict]:
        user, session = self._who()
        self._seen(user, session)
        if user.must_change and not getattr(fn, "_password_change", False) \
                and is_action(block_fn):
            raise UserError("password_change_needed")
        if not user.is_teacher:
            name = (block_fn.api_name or "").removesuffix("_ui")
            if name in TEACHER_ONLY or getattr(fn, "_teacher_only", False):
                raise UserError("teacher_only")
            if block_fn.concurrency_id == "device":
                self._count_run(user)
            self._check_files(user, args, kwargs)
        args, kwargs = self._own_uploads(user, args, kwargs)
        return user, args, kwargs

    def _refuse(self, exc: Exception, fn, args, kwargs) -> gr.Error:
        return _as_gr_error(exc, _lang_of(fn, args, kwargs))

    def wrap(self, block_fn) -> None:
        fn = block_fn.fn
        if fn is None or getattr(fn, "_classroom_guarded", False) \
                or getattr(fn, "_classroom_open", False):
            return
        room = self

        if inspect.isasyncgenfunction(fn):
            @functools.wraps(fn)
            async def guarded(*args, **kwargs):
                try:
                    user, args, kwargs = room._enter(fn, block_fn, args, kwargs)
                except UserError as exc:
                    raise room._refuse(exc, fn, args, kwargs) from None
                token = CURRENT_USER.set(user)
                try:
                    async for out in fn(*args, **kwargs):
                        yield out
                finally:
                    CURRENT_USER.reset(token)
        elif inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def guarded(*args, **kwargs):
                try:
                    user, args, kwargs = room._enter(fn, block_fn, args, kwargs)
                except UserError as exc:
                    raise room._refuse(exc, fn, args, kwargs) from None
                iterator = fn(*args, **kwargs)
                try:
                    while True:
                        token = CURRENT_USER.set(user)   # each step may run on another thread
                        try:
                            out = next(iterator)
                        except StopIteration:
                            return
                        finally:
                            CURRENT_USER.reset(token)
                        yield out
                finally:
                    # the browser left (Gradio closes this generator) or the run ended: close
                    # the handler too, so a generation stops and gives the device back
                    token = CURRENT_USER.set(user)
                    try:
                        iterator.close()
                    finally:
                        CURRENT_USER.reset(token)
        elif inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def guarded(*args, **kwargs):
                try:
                    user, args, kwargs = room._enter(fn, block_fn, args, kwargs)
                except UserError as exc:
                    raise room._refuse(exc, fn, args, kwargs) from None
                token = CURRENT_USER.set(user)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    CURRENT_USER.reset(token)
        else:
            @functools.wraps(fn)
            def guarded(*args, **kwargs):
                try:
                    user, args, kwargs = room._enter(fn, block_fn, args, kwargs)
                except UserError as exc:
                    raise room._refuse(exc, fn, args, kwargs) from None
                token = CURRENT_USER.set(user)
                try:
                    return fn(*args, **kwargs)
                finally:
                    CURRENT_USER.reset(token)
        guarded._classroom_guarded = True
        block_fn.fn = guarded

    def guard(self, demo: gr.Blocks) -> None:
        """Put every event handler of `demo` behind the checks above (call once, after the UI
        is built). Also notes when a page closes."""
        def page_closed(request: gr.Request):
            self.left(getattr(request, "session_hash", None))
        page_closed._classroom_open = True       # runs after a logout too: no user needed
        demo.unload(page_closed)
        for block_fn in demo.fns.values():
            self.wrap(block_fn)

    # ---- what the page shows to whom ---------------------------------------------------------
    @staticmethod
    def role_of_current() -> str | None:
        from models.core.accounts import current_user
        user = current_user()
        return user.role if user else None
