"""Foundation figures: start-up time, model load times, generation through the app's
/generate API vs a direct `model.generate` call (same prompt and settings, in one run),
and the server's peak memory with both packaged models loaded.

    make bench   (or: .venv/bin/python -m bench.run_all foundation)
"""
from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import Timer, save, table

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "Explain in three sentences why the sky is blue."
NEW_TOKENS = 64
REPEATS = 7     # pairs of (app, direct) runs, interleaved


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def direct_generator(folder: Path):
    """The raw library call: the same converted weights, eager attention, greedy.
    Returns a function that generates once and gives tokens/s."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    text = tok.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                   tokenize=False)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")

    def once(new_tokens: int = NEW_TOKENS) -> tuple[int, float]:
        with Timer() as t, torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=new_tokens, do_sample=False,
                                 repetition_penalty=1.1, pad_token_id=tok.eos_token_id)
        return out.shape[1] - ids["input_ids"].shape[1], t.seconds
    return once


def main() -> None:
    from gradio_client import Client
    cache = Path(tempfile.mkdtemp(prefix="lx-bench-"))
    port = _free_port()
    with Timer() as startup:
        proc = subprocess.Popen([sys.executable, "app.py", "--hub", "off", "--port", str(port),
                                 "--cache-dir", str(cache)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_http(f"http://127.0.0.1:{port}/", 600)   # a machine busy with other work starts slowly
    rows = [{"what": "start-up to first page", "seconds": startup.seconds}]
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        with Timer() as first:
            client.predict("smollm2", "en", api_name="/load_model")
        client.predict("smollm2", "en", api_name="/unload_model")
        with Timer() as again:
            client.predict("smollm2", "en", api_name="/load_model")
        with Timer() as minilm:
            client.predict("minilm", "en", api_name="/load_model")
        rows += [{"what": "SmolLM2 first load (GGUF conversion)", "seconds": first.seconds},
                 {"what": "SmolLM2 cached load", "seconds": again.seconds},
                 {"what": "MiniLM load", "seconds": minilm.seconds}]
        direct_once = direct_generator(cache / "converted" / "smollm2")
        def app_once(new_tokens: int = NEW_TOKENS) -> tuple[int, float]:
            with Timer() as t:
                _text, stats, _sent = client.predict("smollm2", PROMPT, True, new_tokens, 0.7, 50,
                                                     0.95, True, -1, "en", api_name="/generate")
            return int(stats.split()[0]), t.seconds
        app_runs, direct_runs, app_one, direct_one = [], [], [], []
        for i in range(REPEATS):     # interleaved, who goes first alternating, so drift in
            if i % 2:                # the machine's speed hits both alike
                direct_runs.append(direct_once())
                app_runs.append(app_once())
            else:
                app_runs.append(app_once())
                direct_runs.append(direct_once())
            app_one.append(app_once(1)[1])
            direct_one.append(direct_once(1)[1])
        peak = _peak_rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    # Each pair (app and direct, back to back) gives one ratio; the median of the pairs is
    # reported, since one machine's speed drifts by 10-20 % from minute to minute.
    direct = statistics.median(n / s for n, s in direct_runs)
    app_rate = statistics.median(n / s for n, s in app_runs)
    pair = statistics.median((na / sa) / (nd / sd) for (na, sa), (nd, sd) in zip(app_runs, direct_runs))
    # per-token rate once the fixed cost of one request (HTTP, queue, prefill) is taken out
    a1, d1 = min(app_one), min(direct_one)
    marginal = statistics.median(((na - 1) / (sa - a1)) / ((nd - 1) / (sd - d1))
                                 for (na, sa), (nd, sd) in zip(app_runs, direct_runs))
    rows += [{"what": "generate via /generate API (tokens/s, wall clock at the client, median)",
              "seconds": app_rate},
             {"what": "generate via model.generate (tokens/s, median)", "seconds": direct},
             {"what": f"ratio app / direct, median of {REPEATS} pairs (goal >= 0.95)",
              "seconds": pair},
             {"what": "1-token request: app round trip (s)", "seconds": a1},
             {"what": "1-token request: direct generate (s)", "seconds": d1},
             {"what": f"per-token ratio app / direct, fixed cost removed, median of {REPEATS} pairs",
              "seconds": marginal},
             {"what": "server peak RSS with both models (GB)", "seconds": peak / 1e9}]
    table(rows)
    print(f"saved {save('foundation', rows, new_tokens=NEW_TOKENS, repeats=REPEATS)}")


if __name__ == "__main__":
    main()
