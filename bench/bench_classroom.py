"""Classroom load run (issue 11): the real app started as `python app.py --classroom` in its own
process, N simulated students logged in through `gradio_client` with their own accounts, for D
seconds, with a mix of Generate, the Attention lab's 512-token view (the kind a session keeps),
sentence classification and question answering, while some of them fine-tune a small
classifier. Each request carries a per-student marker that its answer must give back (the
prompt or the context sent; for the attention view, the student's own layer and head), so an
answer delivered to the wrong student is counted. Reported: errors (goal 0), wrong deliveries
(goal 0), p50/p95 latency per endpoint, the server's peak RSS, and the model manager's memory
in use vs its budget (read from the Teacher tab's overview every few seconds).

Run once with the app's own worker and once with `--engine-url` on a real `transformers
serve` of the packaged SmolLM2 (started here with tests/engine_server.py): Generate and the
answers then go to the engine; attention and classification stay local.

    python -m bench.bench_classroom                      # 30 students, 300 s, local then engine
    BENCH_QUICK=1 python -m bench.bench_classroom        # 5 students, 30 s (a quick try)
    python -m bench.bench_classroom --students 10 --seconds 60 --only local
    BENCH_STUDENTS=30 BENCH_SECONDS=300 BENCH_TRAINERS=5 python -m bench.bench_classroom

`--sessions K` measures only what browser sessions keep: K sessions each show one 512-token
SmolLM2 attention (the Attention tab's own Show button event, over plain HTTP), and the
server's RSS is read after each. `--app-dir DIR` runs the app from another checkout (e.g. a
`git worktree` of an older commit) for a before/after comparison.

Results: bench/results/classroom.json (or classroom_sessions.json).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import CACHE, RESULTS, save, table
from tests.engine_server import stop_process

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets" / "samples" / "sentiment_en.csv"
MIX = {"generate": 0.3, "attention": 0.3, "classify": 0.2, "answer": 0.2}
TEACHER = ("bench-teacher", "bench-teacher-pass")
ENV = dict(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1",
           GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false")
# ~600 SmolLM2 tokens of plain English: the view is cut to its 512-token maximum
LONG_TEXT = " ".join([
    "The students opened their notebooks and wrote down the question of the day.",
    "A language model reads a text one token at a time and guesses what comes next.",
    "Each layer mixes information from earlier tokens through attention heads.",
    "Some heads look at the previous token, others at the first token of the text.",
    "The teacher asked everyone to find a head that follows the subject of a sentence.",
] * 12)


def knobs(argv=None) -> argparse.Namespace:
    quick = os.environ.get("BENCH_QUICK") == "1"
    p = argparse.ArgumentParser(prog="bench.bench_classroom", description=__doc__.split("\n")[0])
    p.add_argument("--students", type=int,
                   default=int(os.environ.get("BENCH_STUDENTS", 5 if quick else 30)))
    p.add_argument("--seconds", type=float,
                   default=float(os.environ.get("BENCH_SECONDS", 30 if quick else 300)))
    p.add_argument("--trainers", type=int, default=int(os.environ.get("BENCH_TRAINERS", 5)))
    p.add_argument("--only", choices=["local", "engine"], default=None,
                   help="run one of the two (default: local, then the engine)")
    p.add_argument("--engine-url", default=os.environ.get("BENCH_ENGINE_URL"),
                   help="an OpenAI-compatible server to use instead of starting "
                        "`transformers serve` here")
    p.add_argument("--sessions", type=int, default=0,
                   help="measure only what K browser sessions keep (see the docstring)")
    p.add_argument("--app-dir", default=str(ROOT), help="the checkout whose app.py is run")
    p.add_argument("--budget", default=os.environ.get("BENCH_BUDGET"),
                   help="the app's --memory-budget (default: the app's own, half the memory)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args([] if argv is None else argv)


# ---- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def class_cache(students: list[tuple[str, str]]) -> Path:
    """A fresh cache folder with the logins; converted weights shared with the bench cache."""
    from models.core.accounts import Accounts, Limits
    cache = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    (CACHE / "converted").mkdir(parents=True, exist_ok=True)
    (cache / "converted").symlink_to((CACHE / "converted").resolve(), target_is_directory=True)
    accounts = Accounts(cache)
    accounts.add(*TEACHER, "teacher")
    for name, password in students:
        accounts.add(name, password, "student")
    # no per-minute limit: this run measures load, not the quota (tests/test_classroom.py
    # covers the limits); one training job per student, as in a class
    accounts.set_limits(Limits(requests_per_minute=0, concurrent_jobs=1, upload_mb=20,
                               training_minutes=15))
    return cache


@contextmanager
def app_server(cache: Path, app_dir: str, engine_url: str | None = None, classroom=True,
               budget: str | None = None):
    port = free_port()
    cmd = [sys.executable, "app.py", "--hub", "off", "--lang", "en", "--cache-dir", str(cache),
           "--port", str(port), "--device", "cpu"] + (["--classroom"] if classroom else []) \
        + (["--engine-url", engine_url] if engine_url else []) \
        + (["--memory-budget", budget] if budget else [])
    log = open(cache / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=app_dir, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, **ENV, PYTHONPATH=app_dir))
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the app exited: " + (cache / "server.log").read_text()[-2000:])
            try:
                if httpx.get(url + "/", timeout=5).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not answer in 300 s")
            time.sleep(1)
        yield url, proc.pid
    finally:
        stop_process(proc)
        log.close()


def rss_bytes(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """The server's RSS every half second, and (with a teacher client) the manager's memory in
    use, its budget and the attention views kept, from the Teacher tab's overview."""

    def __init__(self, pid: int, teacher=None):
        super().__init__(daemon=True)
        self.pid, self.teacher, self.stop = pid, teacher, threading.Event()
        self.rss_peak = self.rss_start = rss_bytes(pid)
        self.used_peak = self.budget = self.views_peak = 0
        self.over_budget = 0

    def run(self):
        from models.core.device import parse_bytes
        last_overview = 0.0
        while not self.stop.is_set():
            self.rss_peak = max(self.rss_peak, rss_bytes(self.pid))
            if self.teacher is not None and time.monotonic() - last_overview > 5:
                last_overview = time.monotonic()
                try:
                    device = self.teacher.predict("en", api_name="/teacher_overview")[1]
                    found = re.search(r"Memory in use:</b> ([\d.]+ [KMG]?B) / ([\d.]+ [KMG]?B)",
                                      device)
                    if found:
                        used, budget = (parse_bytes(x.replace(" ", "")) for x in found.groups())
                        self.used_peak, self.budget = max(self.used_peak, used), budget
                        self.over_budget += used > budget
                    kept = re.search(r"kept for students: ([\d.]+ [KMG]?B)", device)
                    if kept:
                        self.views_peak = max(self.views_peak,
                                              parse_bytes(kept.group(1).replace(" ", "")))
                except Exception:  # noqa: BLE001  (a busy server: try again next time)
                    pass
            self.stop.wait(0.5)


# ---- one student -------------------------------------------------------------------------------

class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.wrong: dict[str, int] = {}
        self.messages: list[str] = []

    def add(self, endpoint: str, seconds: float | None, error: str | None = None,
            wrong: bool = False):
        with self.lock:
            if error is not None:
                self.errors[endpoint] = self.errors.get(endpoint, 0) + 1
                if len(self.messages) < 20:
                    self.messages.append(f"{endpoint}: {error[:300]}")
                return
            self.calls.setdefault(endpoint, []).append(seconds)
            if wrong:
                self.wrong[endpoint] = self.wrong.get(endpoint, 0) + 1


def marker(i: int) -> str:
    """A code word only student i sends (letters only, so it survives any tokenizer)."""
    letters = "bcdfghjklmnpqrstvwxz"
    return "Zo" + letters[i // 20 % 20] + letters[i % 20] + "ab"


def connect(url: str, auth: tuple[str, str]):
    """A logged-in gradio_client, patient with a server whose cores are busy (a page that
    loads slowly is not an error; a refused login is)."""
    from gradio_client import Client
    return Client(url, auth=auth, verbose=False, httpx_kwargs={"timeout": 300})


def student(i: int, name: str, password: str, url: str, deadline: float, rec: Record,
            gen_model: str, classifier: str, train: bool, jobs: dict, seed: int,
            markers: list[str]):
    from gradio_client import handle_file
    rnd = random.Random(seed * 1000 + i)
    mine = markers[i]
    others = [m for m in markers if m != mine]
    layer, head = i % 30, (i // 30 + i) % 9       # this student's own attention head
    try:
        client = connect(url, (name, password))
    except Exception as exc:  # noqa: BLE001
        rec.add("login", None, f"{type(exc).__name__}: {exc}")
        return
    if train:
        try:
            jobs[name] = client.predict(
                handle_file(str(SAMPLE)), "text", "label", "minilm", 1, "2e-4", 16, 64, 20, i,
                True, f"bench-{name}", "en", api_name="/finetune_start")
        except Exception as exc:  # noqa: BLE001
            rec.add("finetune_start", None, f"{type(exc).__name__}: {exc}")
    kinds, weights = zip(*MIX.items())
    while time.monotonic() < deadline:
        kind = rnd.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            if kind == "generate":
                out = client.predict(gen_model, f"Repeat the code word {mine} once.", False, 8,
                                     0.7, 50, 0.95, True, 0, "en", api_name="/generate")
                text = json.dumps(out, ensure_ascii=False)
                wrong = mine not in text or any(m in text for m in others)
            elif kind == "answer":
                out = client.predict(gen_model, "What is the code word?",
                                     f"The code word for today is {mine}.", True, 0.7, 50, "en",
                                     api_name="/answer")
                text = json.dumps(out, ensure_ascii=False)
                wrong = mine not in text or any(m in text for m in others)
            elif kind == "attention":
                out = client.predict("smollm2", f"{mine}. {LONG_TEXT}", "", "self", layer, head,
                                     False, "entropy", "en", api_name="/attention_view")
                # outputs: info, view, layer, head, ...: this student's own layer and head
                # (the sliders come back as updates: {"value": ..., "maximum": ...})
                shown = [o.get("value") if isinstance(o, dict) else o for o in out[2:4]]
                wrong = [int(v) for v in shown] != [layer, head] or "512" not in out[0]
            else:
                if not classifier:
                    time.sleep(0.5)
                    continue
                out = client.predict(f"I really enjoyed this ({mine}).", classifier, "en",
                                     api_name="/classify")
                wrong = not isinstance(out, dict) or not out
            rec.add(kind, time.perf_counter() - started, wrong=wrong)
        except Exception as exc:  # noqa: BLE001
            rec.add(kind, None, f"{type(exc).__name__}: {exc}")
        time.sleep(rnd.uniform(0.5, 2.0))          # a student reads the answer


def teacher_classifier(url: str) -> str:
    """The class's sentiment classifier: fine-tuned by the teacher on the bundled sample (head
    only, one epoch) and published to the class, for the students' classification requests."""
    from gradio_client import handle_file
    tess = connect(url, TEACHER)
    job = tess.predict(handle_file(str(SAMPLE)), "text", "label", "minilm", 1, "2e-4", 16, 64,
                       20, 0, True, "bench-class-sentiment", "en", api_name="/finetune_start")
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        st = tess.predict(job, "en", api_name="/finetune_status")
        if st["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(2)
    if st["status"] != "done":
        raise RuntimeError(f"the class classifier did not train: {st.get('error')}")
    key = st["result"]["key"]
    tess.predict(key, "en", api_name="/teacher_publish")
    return key


def run_class(args, engine_url: str | None, label: str) -> tuple[list[dict], dict]:
    n = args.students
    students = [(f"s{i:02d}", f"pw-s{i:02d}-bench") for i in range(n)]
    cache = class_cache(students)
    markers = [marker(i) for i in range(n)]
    with app_server(cache, args.app_dir, engine_url, budget=args.budget) as (url, pid):
        teacher = connect(url, TEACHER)
        print(f"[{label}] server up at {url} (pid {pid}); training the class classifier ...",
              flush=True)
        classifier = teacher_classifier(url)
        gen_model = "engine:smollm2" if engine_url else "smollm2"
        # warm: the models every student uses, loaded once before the clock starts
        teacher.predict(gen_model, "Hello", False, 2, 0.7, 50, 0.95, True, 0, "en",
                        api_name="/generate")
        sampler = Sampler(pid, connect(url, TEACHER))
        sampler.start()
        rec, jobs = Record(), {}
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=student, daemon=True, args=(
            i, name, pw, url, deadline, rec, gen_model, classifier, i < args.trainers, jobs,
            args.seed, markers)) for i, (name, pw) in enumerate(students)]
        for th in threads:
            th.start()
            time.sleep(0.2)                          # students arrive over a few seconds
        for th in threads:
            th.join(timeout=args.seconds + 900)
        sampler.stop.set()
        sampler.join(timeout=30)
        statuses = {}
        for name, job in jobs.items():
            try:
                statuses[name] = teacher.predict(job, "en", api_name="/finetune_status")["status"]
            except Exception as exc:  # noqa: BLE001
                statuses[name] = f"unknown ({type(exc).__name__})"
        failed_jobs = [n for n, s in statuses.items() if s == "failed"]
    rows = []
    for kind in list(MIX) + ["finetune_start", "login"]:
        times = sorted(rec.calls.get(kind, []))
        if not times and not rec.errors.get(kind):
            continue
        rows.append({"engine": label, "endpoint": kind, "calls": len(times),
                     "errors": rec.errors.get(kind, 0), "wrong_student": rec.wrong.get(kind, 0),
                     "p50_s": round(statistics.median(times), 3) if times else None,
                     "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3)
                     if times else None})
    summary = {"engine": label, "students": n, "seconds": args.seconds,
               "trainers": min(args.trainers, n), "training_jobs": statuses,
               "failed_jobs": failed_jobs, "errors": sum(rec.errors.values()),
               "wrong_student": sum(rec.wrong.values()), "error_samples": rec.messages,
               "rss_start_mib": round(sampler.rss_start / 2**20),
               "rss_peak_mib": round(sampler.rss_peak / 2**20),
               "manager_used_peak_mb": round(sampler.used_peak / 1e6),   # the app's MB (1e6)
               "manager_budget_mb": round(sampler.budget / 1e6),
               "overview_samples_over_budget": sampler.over_budget,
               "attention_views_kept_peak_mb": round(sampler.views_peak / 1e6)}
    return rows, summary


# ---- what sessions keep ------------------------------------------------------------------------

def sessions_run(args) -> dict:
    """K sessions, each one 512-token SmolLM2 attention through the Attention tab's own Show
    event (plain HTTP, no login: the app without --classroom), RSS after each."""
    import httpx
    cache = class_cache([])
    out = {"app_dir": args.app_dir, "sessions": args.sessions, "budget": args.budget,
           "rss_mb": []}
    with app_server(cache, args.app_dir, classroom=False, budget=args.budget) as (url, pid):
        http = httpx.Client(base_url=url, timeout=600)
        config = http.get("/config").json()
        run_id = next(c["id"] for c in config["components"]
                      if c.get("props", {}).get("elem_id") == "att-run")
        fn_index = next(d["id"] for d in config["dependencies"]
                        if [run_id, "click"] in [list(t) for t in d.get("targets", [])]
                        and d.get("backend_fn"))

        def show(session: str) -> None:
            http.post("/gradio_api/queue/join", json={
                "data": ["smollm2", LONG_TEXT, "", "self", 0, 0, False, "entropy", "en"],
                "fn_index": fn_index, "session_hash": session, "event_data": None,
                "trigger_id": run_id})
            with http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as s:
                for line in s.iter_lines():
                    if line.startswith("data:"):
                        msg = json.loads(line[5:])
                        if msg.get("msg") == "process_completed":
                            if not msg.get("success", True):
                                raise RuntimeError(str(msg)[:500])
                            return

        show(uuid.uuid4().hex[:11])                 # warm: the model loaded, one view drawn
        time.sleep(3)
        out["rss_mb"].append(round(rss_bytes(pid) / 2**20))
        for k in range(args.sessions):
            show(uuid.uuid4().hex[:11])
            time.sleep(3)
            out["rss_mb"].append(round(rss_bytes(pid) / 2**20))
            print(f"after {k + 1} more session(s): RSS {out['rss_mb'][-1]} MB", flush=True)
    steps = [b - a for a, b in zip(out["rss_mb"], out["rss_mb"][1:])]
    out["per_session_mb"] = round(statistics.mean(steps)) if steps else None
    return out


def main(argv=None) -> int:
    """`make bench` (bench/run_all.py) calls main() with no arguments: the env knobs apply."""
    argv = list(argv or [])
    args = knobs(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.sessions:
        result = sessions_run(args)
        name = "classroom_sessions" + ("" if Path(args.app_dir).resolve() == ROOT else "_other")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
        return 0
    rows, summaries = [], []
    with ExitStack() as stack:
        for label in ("local", "engine"):
            if args.only and args.only != label:
                continue
            engine_url = None
            if label == "engine":
                engine_url = args.engine_url
                if engine_url is None:
                    from bench.common import manager
                    from tests.engine_server import serve_smollm2
                    log_dir = Path(tempfile.mkdtemp(prefix="bench-engine-"))
                    engine_url, _model = stack.enter_context(serve_smollm2(manager(), log_dir))
            r, summary = run_class(args, engine_url, label)
            rows += r
            summaries.append(summary)
            table(r)
            print(json.dumps({k: v for k, v in summary.items() if k != "error_samples"}),
                  flush=True)
    path = save("classroom", rows, runs=summaries,
                command="python -m bench.bench_classroom " + " ".join(argv))
    print(f"saved {path}")
    bad = sum(s["errors"] + s["wrong_student"] + len(s["failed_jobs"]) for s in summaries)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
