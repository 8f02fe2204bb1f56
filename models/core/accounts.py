"""Classroom accounts: who may log in, with which role, and the class settings a teacher sets.

The users and settings are two tables of the cache folder's one database
(models/core/store.py: `classroom.sqlite3`, WAL mode, one connection per thread), because many
requests and processes read and write them at once (logins, quotas, the Teacher tab). Passwords are stored as Argon2 hashes (argon2-cffi), never in clear.

Who is asking: `CURRENT_USER` holds the `User` of the request being served (set by the web
layer, webapp/access.py, around every event handler; background jobs keep their submitter's).
`None` means no classroom: one person, everything visible. The rules "a student sees only their
own jobs and models" live in `can_see` and are applied by the registry and the job runner, so
every tab gets them through the one place they already use.

The command line that manages these logins (`python app.py users add|remove|list`) is
cli/users.py.
"""
from __future__ import annotations

import contextvars
import csv
import io
import json
import math
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.core.errors import UserError
from models.core.store import DB_NAME, Store

ROLES = ("teacher", "student")
MAX_FAILURES = 5              # wrong passwords in a row before logins are slowed down
FIRST_DELAY = 30.0            # seconds refused after the fifth wrong password; doubles each time
MAX_DELAY = 15 * 60.0
MAX_NAME = 40


@dataclass(frozen=True)
class Limits:
    """Per-student limits a teacher sets (0 = no limit)."""
    requests_per_minute: int = 20     # model runs (generate, attention, ...) per minute
    concurrent_jobs: int = 1          # training jobs queued or running at once
    upload_mb: int = 20               # largest upload
    training_minutes: int = 15        # a training job is stopped after this long
    training_steps: int = 0           # ... or after this many training steps

    def as_dict(self) -> dict:
        return {"requests_per_minute": self.requests_per_minute,
                "concurrent_jobs": self.concurrent_jobs, "upload_mb": self.upload_mb,
                "training_minutes": self.training_minutes,
                "training_steps": self.training_steps}


@dataclass(frozen=True)
class User:
    """The person a request is served for. `allowed`: model keys a student may use besides
    their own (None = every model); `limits`: the class limits when they logged in;
    `must_change`: still on the one-time password a teacher handed out (nothing but choosing
    a new one is allowed, webapp/access.py)."""
    name: str
    role: str
    allowed: frozenset | None = None
    limits: Limits = field(default_factory=Limits)
    must_change: bool = False

    @property
    def is_teacher(self) -> bool:
        return self.role == "teacher"


CURRENT_USER: contextvars.ContextVar[User | None] = contextvars.ContextVar(
    "llm_explorer_user", default=None)


def current_user() -> User | None:
    return CURRENT_USER.get()


def can_see(owner: str | None, shared: bool = False, user: User | None = None) -> bool:
    """May the current user see a job or model owned by `owner`? No classroom (no user), a
    teacher, the owner, or anything without an owner or published to the class: yes."""
    user = user if user is not None else current_user()
    if user is None or user.is_teacher or not owner or shared:
        return True
    return owner == user.name


def user_folder(root: Path) -> Path:
    """Where the current user's made models go under `root`: `root` itself outside a
    classroom, else a folder of their own (`root/u-<name>-<hash>`), so two students who pick
    the same model name never write into each other's folder."""
    user = current_user()
    if user is None:
        return Path(root)
    return folder_for(root, user.name)


def folder_for(root: Path, name: str) -> Path:
    """`root/u-<name>-<hash>`: a person's own folder under `root` (see `user_folder`)."""
    import hashlib
    import re
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:20] or "user"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return Path(root) / f"u-{readable}-{digest}"


def check_name(name: str) -> str:
    """A user name: 1-40 printable characters, no leading/trailing spaces. Any script is
    fine (names are always shown escaped)."""
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    if not name or len(name) > MAX_NAME or any(unicodedata.category(c)[0] == "C" for c in name) \
            or "," in name or ":" in name:
        raise UserError("user_bad_name", name=str(name)[:60])
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError("user_bad_role", role=str(role))
    return role


def new_password() -> str:
    """A one-time password easy to read aloud and type: three groups of four letters/digits
    without look-alikes (0/O, 1/l/I)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


class Accounts:
    """The users and class settings in `<cache_dir>/classroom.sqlite3`. Thread-safe."""

    def __init__(self, cache_dir: Path, clock: Callable[[], float] = time.time,
                 store: Store | None = None):
        self.store = store or Store(cache_dir)
        self.path = self.store.path
        self._clock = clock
        self._hasher = PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(8))   # same cost for unknown names
        self.store.ensure(
            "users",
            "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash "
            "TEXT NOT NULL, created REAL, failures INTEGER DEFAULT 0, locked_until REAL DEFAULT "
            "0, must_change INTEGER DEFAULT 0)",
            "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT)")
        # users files made before one-time passwords had to be changed: add the column
        self.store.add_column("users", "must_change", "INTEGER DEFAULT 0")

    # ---- users -------------------------------------------------------------------------
    def add(self, name: str, password: str, role: str, must_change: bool = False) -> str:
        """Add a login. `must_change`: a one-time password, to be replaced at first login."""
        name, role = check_name(name), check_role(role)
        if len(password or "") < 8:
            raise UserError("user_short_password")
        digest = self._hasher.hash(password)
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise UserError("user_exists", name=name)
            db.execute("INSERT INTO users (name, role, hash, created, must_change) VALUES "
                       "(?,?,?,?,?)", (name, role, digest, self._clock(), int(bool(must_change))))
        return name

    def set_password(self, name: str, password: str) -> None:
        """A new password (it is no longer a one-time one)."""
        if len(password or "") < 8:
            raise UserError("user_short_password")
        with self.store.write() as db:
            done = db.execute("UPDATE users SET hash=?, failures=0, locked_until=0, "
                              "must_change=0 WHERE name=?",
                              (self._hasher.hash(password), name)).rowcount
        if not done:
            raise UserError("user_unknown", name=name)

    def must_change(self, name: str) -> bool:
        row = self.store.db().execute("SELECT must_change FROM users WHERE name=?",
                                      (name,)).fetchone()
        return bool(row and row[0])

    def change_password(self, name: str, new: str, again: str) -> None:
        """The user's own new password, typed twice; it must differ from the current one
        (a one-time password handed out on paper is not a password to keep)."""
        if (new or "") != (again or ""):
            raise UserError("user_password_mismatch")
        if len(new or "") < 8:
            raise UserError("user_short_password")
        row = self.store.db().execute("SELECT hash FROM users WHERE name=?", (name,)).fetchone()
        if row is None:
            raise UserError("user_unknown", name=name)
        try:
            same = self._hasher.verify(row[0], new)
        except (VerificationError, InvalidHashError):
            same = False
        if same:
            raise UserError("user_same_password")
        self.set_password(name, new)

    def remove(self, name: str) -> None:
        with self.store.write() as db:
            done = db.execute("DELETE FROM users WHERE name=?", (str(name or "").strip(),)).rowcount
        if not done:
            raise UserError("user_unknown", name=str(name))

    def role(self, name: str) -> str | None:
        row = self.store.db().execute("SELECT role FROM users WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def users(self) -> list[dict]:
        rows = self.store.db().execute(
            "SELECT name, role, created, failures, locked_until, must_change FROM users ORDER "
            "BY role DESC, name").fetchall()
        return [{"name": n, "role": r, "created": c, "failures": f, "locked_until": lu,
                 "must_change": bool(mc)} for n, r, c, f, lu, mc in rows]

    def add_many(self, names: list[str], role: str = "student") -> list[tuple[str, str]]:
        """Add every name with a fresh one-time password: [(name, password)] to print.
        Names already there are skipped (their password is not changed)."""
        out = []
        for raw in names:
            name = check_name(raw)
            if self.role(name) is not None or name in {n for n, _ in out}:
                continue
            password = new_password()
            self.add(name, password, role, must_change=True)
            out.append((name, password))
        return out

    # ---- logging in ----------------------------------------------------------------------
    def seconds_locked(self, name: str) -> float:
        row = self.store.db().execute("SELECT locked_until FROM users WHERE name=?",
                                      (name,)).fetchone()
        return max(0.0, (row[0] or 0) - self._clock()) if row else 0.0

    def check(self, name: str, password: str) -> bool:
        """True when the password is right and the name is not locked. Five wrong passwords in
        a row lock the name for 30 s, then 60 s, 120 s ... up to 15 minutes; while locked,
        every attempt is refused, even the right password."""
        name = unicodedata.normalize("NFC", str(name or "")).strip()
        row = self.store.db().execute("SELECT hash, failures, locked_until FROM users WHERE "
                                      "name=?", (name,)).fetchone()
        if row is None:
            try:   # the same work as a real check, so timing does not tell which names exist
                self._hasher.verify(self._dummy, password or "")
            except (VerificationError, InvalidHashError):
                pass
            return False
        digest, failures, locked_until = row
        if (locked_until or 0) > self._clock():
            return False
        try:
            self._hasher.verify(digest, password or "")
            ok = True
        except (VerificationError, InvalidHashError):
            ok = False
        with self.store.write() as db:
            if ok:
                db.execute("UPDATE users SET failures=0, locked_until=0 WHERE name=?", (name,))
            else:
                failures = (failures or 0) + 1
                until = 0.0
                if failures >= MAX_FAILURES:
                    until = self._clock() + min(MAX_DELAY,
                                                FIRST_DELAY * 2 ** (failures - MAX_FAILURES))
                db.execute("UPDATE users SET failures=?, locked_until=? WHERE name=?",
                           (failures, until, name))
        return ok

    # ---- class settings -----------------------------------------------------------------
    def _get(self, key: str, default):
        row = self.store.db().execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def _set(self, key: str, value) -> None:
        with self.store.write() as db:
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO "
                       "UPDATE SET value=excluded.value", (key, json.dumps(value)))

    def limits(self) -> Limits:
        saved = self._get("limits", {})
        return Limits(**{k: int(v) for k, v in saved.items() if k in Limits().as_dict()})

    def set_limits(self, limits: Limits) -> None:
        self._set("limits", limits.as_dict())

    def allowed_models(self) -> frozenset | None:
        keys = self._get("allowed_models", None)
        return None if keys is None else frozenset(keys)

    def set_allowed_models(self, keys) -> None:
        self._set("allowed_models", None if keys is None else sorted(keys))

    def training_paused(self) -> bool:
        return bool(self._get("training_paused", False))

    def set_training_paused(self, paused: bool) -> None:
        self._set("training_paused", bool(paused))

    def user(self, name: str) -> User | None:
        """The User for a logged-in name, with the class settings of this moment."""
        role = self.role(name)
        if role is None:
            return None
        return User(name, role, None if role == "teacher" else self.allowed_models(),
                    self.limits(), self.must_change(name))


def passwords_csv(rows: list[tuple[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name", "password"])
    writer.writerows(rows)
    return buf.getvalue()


def read_names(text: str) -> list[str]:
    """Names from a CSV or a plain list: the first column of each row; a header row called
    "name" is skipped."""
    names = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        if not names and row[0].strip().lower() in ("name", "names", "姓名", "用户名"):
            continue
        names.append(row[0].strip())
    return names


def retry_after(window_start: float, now: float, window: float = 60.0) -> int:
    """Whole seconds until a request counted at `window_start` leaves the window."""
    return max(1, math.ceil(window_start + window - now))
