"""The one database of state that several threads and processes share: `classroom.sqlite3`.

Everything the app must not lose and that more than one writer touches lives here: the
classroom's users and settings (models/core/accounts.py), the models users added or trained
(models/core/registry.py), and the jobs. One sqlite3 file in the cache folder, so several app
processes on one cache folder (the README's "Run it for a school" replicas) see the same rows.

How it is opened: WAL mode (readers never wait for the writer), one connection per thread (a
sqlite3 connection must not be shared between threads), `isolation_level=None` (no implicit
transactions: a read sees the latest commit), a busy timeout so a writer waits for another
instead of failing. A write is one short `BEGIN IMMEDIATE` transaction (`Store.write()`), so two
writers never interleave a read and a write.

Schema: each owner of a table declares it once with `Store.ensure(name, *statements)` —
`CREATE TABLE IF NOT EXISTS ...`, then any later additions (`ALTER TABLE ... ADD COLUMN`)
guarded by `add_column`. `ensure` runs its statements once per Store object and table, in one
transaction, so a table is created whichever process opens the file first.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DB_NAME = "classroom.sqlite3"
BUSY_SECONDS = 10.0     # a writer waits this long for another process's transaction


class Store:
    """`<cache_dir>/classroom.sqlite3`. Thread-safe: every thread gets its own connection."""

    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir).expanduser() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ensured: set[str] = set()

    def db(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: each statement outside `write` commits)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """`with store.write() as db:` runs the block as one immediate transaction: committed
        at the end, rolled back if the block raises. Keep it short: other writers wait."""
        conn = self.db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ensure(self, table: str, *statements: str) -> None:
        """Create `table` (and run its later migrations) if this Store has not yet: the
        statements must be safe to run again (CREATE ... IF NOT EXISTS, `add_column`)."""
        with self._lock:
            if table in self._ensured:
                return
            with self.write() as db:
                for statement in statements:
                    db.execute(statement)
            self._ensured.add(table)

    def add_column(self, table: str, column: str, declaration: str) -> None:
        """A column added after the table was first made (an older file lacks it)."""
        with self.write() as db:
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def changed(self, seen: tuple | None) -> tuple[bool, tuple]:
        """(has any connection, this process's or another's, committed since `seen`?, the mark
        to pass next time): a cheap check before re-reading a table. sqlite's PRAGMA
        data_version counts other connections' commits, total_changes this connection's own;
        both are per connection, so a mark taken on another thread's connection never matches
        (the caller re-reads once, which is always safe)."""
        conn = self.db()
        mark = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
        return mark != seen, mark
