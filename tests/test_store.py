"""The shared database (models/core/store.py): one file, WAL, a connection per thread, writes
that are one transaction, tables added by their owners, and change detection across processes."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest

from models.core.accounts import Accounts
from models.core.store import DB_NAME, Store


def test_one_file_in_wal_mode_shared_with_the_accounts(tmp_path):
    store = Store(tmp_path)
    store.ensure("notes", "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)")
    acc = Accounts(tmp_path, store=store)
    acc.add("ana", "password1", "student")
    assert store.path == acc.path == tmp_path / DB_NAME
    raw = sqlite3.connect(store.path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"notes", "users", "settings"} <= tables


def test_a_write_that_raises_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    store.ensure("notes", "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)")
    with pytest.raises(RuntimeError):
        with store.write() as db:
            db.execute("INSERT INTO notes (text) VALUES ('half')")
            raise RuntimeError("stop")
    with store.write() as db:
        db.execute("INSERT INTO notes (text) VALUES ('whole')")
    assert [r[0] for r in store.db().execute("SELECT text FROM notes")] == ["whole"]


def test_each_thread_has_its_own_connection_and_writers_do_not_collide(tmp_path):
    store = Store(tmp_path)
    store.ensure("counter", "CREATE TABLE IF NOT EXISTS counter (n INTEGER)")
    with store.write() as db:
        db.execute("INSERT INTO counter VALUES (0)")
    conns = set()

    def bump():
        conns.add(id(store.db()))
        for _ in range(50):
            with store.write() as db:      # read and write in one immediate transaction
                n = db.execute("SELECT n FROM counter").fetchone()[0]
                db.execute("UPDATE counter SET n=?", (n + 1,))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(conns) == 4
    assert store.db().execute("SELECT n FROM counter").fetchone()[0] == 200   # no lost update


def test_a_column_added_later_reaches_an_old_file(tmp_path):
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.execute("CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT "
                "NULL, created REAL, failures INTEGER DEFAULT 0, locked_until REAL DEFAULT 0)")
    old.commit()
    old.close()
    acc = Accounts(tmp_path)
    acc.add("ben", "password1", "student", must_change=True)
    assert acc.must_change("ben")


def test_another_process_commit_is_seen_as_a_change(tmp_path):
    store = Store(tmp_path)
    store.ensure("notes", "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)")
    changed, mark = store.changed(None)
    assert changed
    assert store.changed(mark) == (False, mark)
    with store.write() as db:                    # this connection's own write
        db.execute("INSERT INTO notes (text) VALUES ('mine')")
    changed, mark = store.changed(mark)
    assert changed
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"INSERT INTO notes (text) VALUES ('theirs')\"); c.commit()")
    subprocess.run([sys.executable, "-c", code, str(store.path)], check=True, timeout=60)
    changed, mark = store.changed(mark)
    assert changed
    assert store.changed(mark) == (False, mark)
