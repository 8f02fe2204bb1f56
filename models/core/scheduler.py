"""The device scheduler: the one owner of the device's time.

Every piece of model work asks it for the device: a request (`ModelManager.use` does this for
every handler), a batch of generations, and each step of a training job. One piece runs at a
time. Requests go before background steps, so a training job yields the device between two
of its steps: a Generate started during training waits for at most the step in progress, not
for an epoch. Within a kind, work runs in the order it asked.

A thread that already holds the device may ask again (a handler that uses two models, a
request that streams from a worker thread it started) without waiting for itself.

`waiting()` lists who waits, in order, so every kind of work can show its place in the queue.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

REQUEST, BACKGROUND = "request", "background"
_PRIORITY = {REQUEST: 0, BACKGROUND: 1}


@dataclass(order=True)
class _Ticket:
    priority: int
    seq: int
    kind: str = field(compare=False)
    label: str = field(compare=False)
    since: float = field(compare=False, default_factory=time.monotonic)


@dataclass(frozen=True)
class Waiting:
    """One piece of work waiting for the device (what the UI shows)."""
    kind: str           # "request" | "background"
    label: str          # e.g. "generate", "finetune-3fa2…"
    position: int       # 1 = next
    seconds: float      # how long it has waited


class DeviceScheduler:
    def __init__(self) -> None:
        self._cv = threading.Condition(threading.Lock())
        self._queue: list[_Ticket] = []
        self._owner: int | None = None          # thread id holding the device
        self._depth = 0                         # re-entrant holds of that thread
        self._running: _Ticket | None = None
        self._seq = itertools.count()
        self.steps_run = {REQUEST: 0, BACKGROUND: 0}   # counts, for tests and the Models tab

    @contextlib.contextmanager
    def slot(self, kind: str = REQUEST, label: str = "") -> Iterator[None]:
        """Hold the device for the duration of the block."""
        if kind not in _PRIORITY:
            raise ValueError(f"unknown kind of work {kind!r}")
        me = threading.get_ident()
        with self._cv:
            if self._owner == me:               # re-entrant: already ours
                self._depth += 1
                reentrant = True
            else:
                reentrant = False
                ticket = _Ticket(_PRIORITY[kind], next(self._seq), kind, label)
                self._queue.append(ticket)
                self._queue.sort()
                while self._owner is not None or self._queue[0] is not ticket:
                    self._cv.wait()
                self._queue.pop(0)
                self._owner, self._depth, self._running = me, 1, ticket
        try:
            yield
        finally:
            with self._cv:
                self._depth -= 1
                if not reentrant and self._depth == 0:
                    self.steps_run[kind] += 1
                    self._owner, self._running = None, None
                    self._cv.notify_all()

    def held_by_me(self) -> bool:
        with self._cv:
            return self._owner == threading.get_ident()

    def waiting(self) -> list[Waiting]:
        now = time.monotonic()
        with self._cv:
            return [Waiting(t.kind, t.label, i, now - t.since)
                    for i, t in enumerate(self._queue, start=1)]

    def running(self) -> tuple[str, str] | None:
        with self._cv:
            return (self._running.kind, self._running.label) if self._running else None
