"""`make bench`: run every bench/bench_*.py module's main() in turn. Each prints a table and
writes bench/results/<name>.json. Figures are ratios measured in one run (the app's path vs
the raw library call), since absolute times on a shared machine are noisy."""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main(argv=None) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    wanted = (argv if argv is not None else sys.argv[1:]) or names
    failed = []
    for name in names:
        if name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as exc:  # keep going: one broken benchmark should not hide the rest
            print(f"{name} FAILED: {type(exc).__name__}: {exc}")
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
