"""Classroom accounts (models/core/accounts.py): Argon2 hashes, the `python app.py users`
command with the password on stdin, the slow-down after five wrong passwords, roles, and the
ownership rules the job runner and the registry apply for the current user."""
from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from models.core.accounts import (CURRENT_USER, MAX_FAILURES, Accounts, Limits, User, can_see,
                                  read_names, user_folder)
from models.core.errors import UserError
from models.core.jobs import JobRunner
from tests.messages import english

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_passwords_are_stored_as_argon2_hashes(tmp_path):
    acc = Accounts(tmp_path)
    acc.add("amy", "correct horse", "student")
    stored = sqlite3.connect(acc.path).execute("SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert acc.check("amy", "correct horse")
    assert not acc.check("amy", "wrong horse!")
    assert not acc.check("nobody", "correct horse")
    assert acc.role("amy") == "student"
    assert sqlite3.connect(acc.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_names_roles_and_short_passwords_are_refused(tmp_path):
    acc = Accounts(tmp_path)
    for name in ("", "   ", "a" * 41, "tab\there", "x,y", "x:y"):
        with pytest.raises(UserError) as err:
            acc.add(name, "long enough", "student")
        assert err.value.code == "user_bad_name"
    with pytest.raises(UserError) as err:
        acc.add("amy", "long enough", "admin")
    assert err.value.code == "user_bad_role" and "teacher or student" in english(err.value)
    with pytest.raises(UserError) as err:
        acc.add("amy", "short", "student")
    assert err.value.code == "user_short_password" and "8 characters" in english(err.value)
    acc.add("张伟", "long enough", "teacher")          # any script is a fine name
    with pytest.raises(UserError) as err:
        acc.add("张伟", "another one", "student")
    assert err.value.code == "user_exists"
    assert acc.user("张伟").is_teacher


def test_five_wrong_passwords_slow_the_name_down(tmp_path):
    clock = Clock()
    acc = Accounts(tmp_path, clock=clock)
    acc.add("amy", "right password", "student")
    for _ in range(MAX_FAILURES - 1):
        assert not acc.check("amy", "guess")
    assert acc.seconds_locked("amy") == 0 and acc.check("amy", "right password")  # resets
    for _ in range(MAX_FAILURES):
        assert not acc.check("amy", "guess")
    assert acc.seconds_locked("amy") == pytest.approx(30)
    assert not acc.check("amy", "right password")      # locked: even the right one waits
    clock.now += 31
    assert not acc.check("amy", "guess again")          # the sixth wrong one: 60 s this time
    assert acc.seconds_locked("amy") == pytest.approx(60)
    clock.now += 61
    assert acc.check("amy", "right password")
    assert acc.seconds_locked("amy") == 0


def _users(tmp_path, *args, password="a good password\n"):
    return subprocess.run([sys.executable, str(ROOT / "app.py"), "users", "--cache-dir",
                           str(tmp_path), *args], input=password, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_cli_adds_and_removes_users_with_the_password_on_stdin(tmp_path):
    done = _users(tmp_path, "add", "tess", "--role", "teacher")
    assert done.returncode == 0, done.stderr
    assert "a good password" not in done.stdout + done.stderr
    acc = Accounts(tmp_path)
    assert acc.role("tess") == "teacher" and acc.check("tess", "a good password")
    assert _users(tmp_path, "add", "sam", "--role", "student").returncode == 0
    listed = _users(tmp_path, "list")
    assert "tess\tteacher" in listed.stdout and "sam\tstudent" in listed.stdout
    again = _users(tmp_path, "add", "sam", "--role", "student")
    assert again.returncode == 2 and "already a user" in again.stderr
    assert _users(tmp_path, "remove", "sam").returncode == 0
    assert Accounts(tmp_path).role("sam") is None
    missing = _users(tmp_path, "remove", "sam")
    assert missing.returncode == 2 and "no user called" in missing.stderr
    # there is no way to give the password on the command line
    bad = _users(tmp_path, "add", "x", "--role", "student", "--password", "secret123")
    assert bad.returncode != 0 and Accounts(tmp_path).role("x") is None


def test_cli_refuses_a_short_password(tmp_path):
    done = _users(tmp_path, "add", "tess", "--role", "teacher", password="short\n")
    assert done.returncode == 2 and "8 characters" in done.stderr


def test_one_time_passwords_for_a_list_of_names(tmp_path):
    acc = Accounts(tmp_path)
    names = read_names("name,class\nAmy,7B\nBob,7B\n\n李雷,7B\nAmy,7B\n")
    assert names == ["Amy", "Bob", "李雷", "Amy"]
    rows = acc.add_many(names)
    assert [n for n, _ in rows] == ["Amy", "Bob", "李雷"]          # the repeat is skipped
    assert len({p for _, p in rows}) == 3
    assert all(acc.check(n, p) for n, p in rows)
    assert acc.add_many(["Amy"]) == []                               # existing: not changed


def test_class_settings_persist(tmp_path):
    acc = Accounts(tmp_path)
    assert acc.limits() == Limits() and acc.allowed_models() is None
    acc.set_limits(Limits(5, 2, 10, 30))
    acc.set_allowed_models(["smollm2"])
    acc.set_training_paused(True)
    again = Accounts(tmp_path)
    assert again.limits() == Limits(5, 2, 10, 30)
    assert again.allowed_models() == frozenset({"smollm2"}) and again.training_paused()
    acc.add("amy", "a good password", "student")
    assert again.user("amy").allowed == frozenset({"smollm2"})
    acc.add("tess", "a good password", "teacher")
    assert again.user("tess").allowed is None                        # teachers: every model


def test_roles_decide_who_sees_what():
    amy, bob = User("amy", "student"), User("bob", "student")
    tess = User("tess", "teacher")
    assert can_see("amy", user=amy) and not can_see("amy", user=bob)
    assert can_see("amy", user=tess) and can_see("", user=bob)
    assert can_see("amy", shared=True, user=bob)
    assert can_see("amy")                            # no classroom: everything


def test_jobs_belong_to_their_submitter(tmp_path):
    runner = JobRunner("test")
    token = CURRENT_USER.set(User("bob", "student", limits=Limits(concurrent_jobs=1)))
    try:
        seen, asked = [], threading.Event()

        def first(ctx):
            seen.append((CURRENT_USER.get().name, user_folder(tmp_path).name))
            asked.wait(10)                           # still running when the second one comes
        jid = runner.submit("demo", "bob's", first)
        try:
            with pytest.raises(UserError) as err:      # one job at a time for a student
                runner.submit("demo", "another", lambda ctx: None)
        finally:
            asked.set()
        assert err.value.code == "quota_jobs"
        runner.wait(jid, timeout=10)
    finally:
        CURRENT_USER.reset(token)
    assert seen and seen[0][0] == "bob"              # the job ran as bob ...
    assert seen[0][1].startswith("u-bob-")           # ... and saves in bob's own folder
    missing_msg = None
    token = CURRENT_USER.set(User("amy", "student"))
    try:
        with pytest.raises(UserError) as err:
            runner.snapshot(jid)
        with pytest.raises(UserError) as missing:
            runner.snapshot("demo-0000000000")
        assert err.value.code == missing.value.code == "job_unknown"
        missing_msg = english(missing.value).replace("demo-0000000000", jid)
        assert english(err.value) == missing_msg       # no hint that it exists
        assert runner.jobs() == [] and runner.cancel(jid) is False
    finally:
        CURRENT_USER.reset(token)
    token = CURRENT_USER.set(User("tess", "teacher"))
    try:
        assert [j.id for j in runner.jobs()] == [jid] and runner.snapshot(jid).owner == "bob"
    finally:
        CURRENT_USER.reset(token)


def test_pause_holds_jobs_at_their_next_step():
    import threading
    import time
    runner = JobRunner("pause")
    steps, go = [], threading.Event()

    def work(ctx):
        for i in range(50):
            if ctx.cancelled:
                return i
            steps.append(i)
            go.set()
            time.sleep(0.02)
        return 50
    jid = runner.submit("demo", "steps", work)
    assert go.wait(10)
    runner.set_paused(True)
    time.sleep(0.3)
    held = len(steps)
    time.sleep(0.6)
    assert len(steps) <= held + 1                     # no progress while paused
    assert any(e.get("code") == "training_paused" for e in runner.snapshot(jid).events)
    runner.set_paused(False)
    assert runner.wait(jid, timeout=20).status == "done" and len(steps) == 50


def test_a_job_stops_at_the_students_time_limit():
    import time
    runner = JobRunner("limit")
    token = CURRENT_USER.set(User("bob", "student", limits=Limits(training_minutes=1)))
    try:
        def work(ctx):
            ctx._job.started -= 61                   # as if it had run for a minute already
            deadline = time.monotonic() + 30         # stopped by the limit long before
            while not ctx.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
            return "stopped"
        jid = runner.submit("demo", "long", work)
        job = runner.wait(jid, timeout=10)
    finally:
        CURRENT_USER.reset(token)
    assert job.status == "cancelled"
    assert any(e.get("code") == "training_time_limit" for e in job.events)


def test_cli_reads_the_password_from_a_pipe_only(tmp_path):
    from cli.users import main as cli
    out = io.StringIO()
    assert cli(["add", "amy", "--role", "student"], str(tmp_path),
               stdin=io.StringIO("piped password\n"), out=out) == 0
    assert Accounts(tmp_path).check("amy", "piped password")


def test_one_time_passwords_must_be_changed(tmp_path):
    acc = Accounts(tmp_path)
    acc.add("tess", "teacher password", "teacher")
    [(name, one_time)] = acc.add_many(["amy"])
    assert acc.must_change("amy") and acc.user("amy").must_change
    assert not acc.must_change("tess") and not acc.user("tess").must_change
    assert acc.check("amy", one_time)                     # it logs in, for changing it only
    with pytest.raises(UserError) as err:
        acc.change_password("amy", one_time, one_time)
    assert err.value.code == "user_same_password"
    with pytest.raises(UserError) as err:
        acc.change_password("amy", "my own password", "my own pasword")
    assert err.value.code == "user_password_mismatch"
    with pytest.raises(UserError) as err:
        acc.change_password("amy", "short", "short")
    assert err.value.code == "user_short_password"
    assert acc.must_change("amy")
    acc.change_password("amy", "my own password", "my own password")
    assert not acc.must_change("amy") and not acc.user("amy").must_change
    assert acc.check("amy", "my own password") and not acc.check("amy", one_time)
    assert [u["must_change"] for u in acc.users()] == [False, False]


def test_a_users_file_from_before_must_change_is_migrated(tmp_path):
    db = sqlite3.connect(tmp_path / "classroom.sqlite3")
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT "
               "NULL, created REAL, failures INTEGER DEFAULT 0, locked_until REAL DEFAULT 0)")
    from argon2 import PasswordHasher
    db.execute("INSERT INTO users (name, role, hash, created) VALUES (?,?,?,?)",
               ("old", "student", PasswordHasher().hash("old password"), 1.0))
    db.commit()
    db.close()
    acc = Accounts(tmp_path)
    assert acc.check("old", "old password") and not acc.must_change("old")
    [(_name, _pw)] = acc.add_many(["new"])
    assert acc.must_change("new")
    Accounts(tmp_path)                                     # opening it again changes nothing
    assert acc.must_change("new") and not acc.must_change("old")


def test_a_job_stops_at_the_students_step_limit():
    import time
    runner = JobRunner("steps")
    done = []
    token = CURRENT_USER.set(User("bob", "student", limits=Limits(training_steps=7)))
    try:
        def work(ctx):
            step = 0
            while step < 100:
                if ctx.cancelled:
                    break
                step += 1
                ctx.count_step(step)
                done.append(step)
                time.sleep(0.001)
            return {"steps": step}
        jid = runner.submit("demo", "long", work)
        job = runner.wait(jid, timeout=20)
    finally:
        CURRENT_USER.reset(token)
    assert job.status == "cancelled" and job.result == {"steps": 7} and done[-1] == 7
    notices = [e for e in job.events if e.get("code") == "training_step_limit"]
    assert len(notices) == 1 and notices[0]["params"] == {"steps": 7}
    # a teacher's job and a job without a limit run to the end
    token = CURRENT_USER.set(User("tess", "teacher", limits=Limits(training_steps=7)))
    try:
        done.clear()
        job = runner.wait(runner.submit("demo", "teacher", work), timeout=20)
    finally:
        CURRENT_USER.reset(token)
    assert job.status == "done" and job.result == {"steps": 100}
