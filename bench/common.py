"""Helpers for benchmarks: a results folder, a table printer, a timer, and the managers the
app uses (built the same way as app.py does)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from models.core.environment import quiet_environment

quiet_environment(offline=True)

RESULTS = Path(__file__).parent / "results"
CACHE = Path(os.environ.get("LLM_EXPLORER_BENCH_CACHE", Path(__file__).parent / "results" / "cache"))


def save(name: str, rows: list[dict], **extra) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"rows": rows, **extra}, indent=1, default=str))
    return path


def table(rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def manager(cache: Path | None = None, budget: int | None = None):
    from models.core.device import pick_device
    from models.core.manager import ModelManager
    from models.core.registry import Registry
    return ModelManager(Registry(cache or CACHE, online=False), pick_device("auto"), budget)
