"""A server killed with SIGKILL in the middle of a training job, started again on the same cache
folder, lists the job as interrupted and, resumed through the API (/my_job_resume), trains it
to the end from its last checkpoint (models/core/jobs.py, models/training/checkpoint.py).

The server is the real app (`python app.py`) in its own process; the job fine-tunes the tiny
BERT of tests/tiny.py, registered in the cache folder before the first start, with a
checkpoint every 3 steps (LLM_EXPLORER_CHECKPOINT_STEPS)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models.core.registry import Registry
from tests.test_finetune import separable

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 20                      # 100 steps (the most epochs the tab allows): killed at ~10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cache: Path, log: Path):
    """`python app.py` on a free port; (process, gradio client) once it answers (2 minutes at
    most)."""
    from gradio_client import Client
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", LLM_EXPLORER_CHECKPOINT_STEPS="3")
    proc = subprocess.Popen([sys.executable, "app.py", "--hub", "off", "--lang", "en",
                             "--device", "cpu", "--cache-dir", str(cache), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            return proc, Client(f"http://127.0.0.1:{port}", verbose=False)
        except Exception:         # not listening yet
            time.sleep(0.5)
    proc.kill()
    proc.wait(10)
    raise AssertionError("the server did not answer within 2 minutes")


def poll(client, job_id: str, until, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.predict(job_id, "en", api_name="/finetune_status")
        if until(st):
            return st
        assert st["status"] not in ("failed", "cancelled"), st
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow            # two server starts and 100 training steps: ~2.5 minutes on 2 cores
def test_a_job_killed_with_its_server_resumes_after_a_restart(tiny_models, tmp_path):
    from gradio_client import handle_file
    cache, log = tmp_path / "cache", tmp_path / "server.log"
    key = Registry(cache, online=False).add_local(str(tiny_models["bert"]), name="tiny-bert").key
    data = separable()
    csv = tmp_path / "d.csv"
    csv.write_text("sentence,y\n" + "\n".join(f"{t},{l}" for t, l in zip(data.texts, data.labels)))

    proc, client = start_server(cache, log)
    try:
        job_id = client.predict(handle_file(str(csv)), "sentence", "y", key, EPOCHS, "1e-2", 8, 32,
                                25, 1, False, "survivor", "en", api_name="/finetune_start")
        st = poll(client, job_id, lambda s: len(s["steps"]) and s["steps"][-1]["step"] >= 10,
                  240, "step 10")
        killed_at = st["steps"][-1]["step"]
    finally:
        proc.send_signal(signal.SIGKILL)       # no clean-up of any kind: the process is gone
        proc.wait(30)
    assert (cache / "jobs" / job_id / "checkpoint" / "state.pt").exists()

    proc, client = start_server(cache, log)
    try:
        listed = {r["job_id"]: r for r in client.predict(api_name="/my_jobs")}
        assert listed[job_id]["status"] == "interrupted" and listed[job_id]["title"] == "survivor"
        assert client.predict(job_id, "en", api_name="/finetune_status")["status"] == "interrupted"
        said, _table = client.predict(job_id, "en", api_name="/my_job_resume")
        assert job_id in said
        st = poll(client, job_id, lambda s: s["status"] == "done", 600, "the resumed job's end")
        steps = [s["step"] for s in st["steps"]]
        total = st["total_steps"]
        print(f"\nkilled after step {killed_at} of {total}; resumed from step {steps[0] - 1}; "
              f"final accuracy {st['result']['report']['accuracy']:.3f}")
        # from a checkpoint, not step 0; the job may pass the step last seen before the kill lands
        assert 3 <= steps[0] - 1 < total
        assert steps[-1] == total == EPOCHS * 5
        assert [e["epoch"] for e in st["result"]["history"]] == list(range(1, EPOCHS + 1))
        assert st["result"]["report"]["accuracy"] >= 0.9
        assert not (cache / "jobs" / job_id).exists()         # the checkpoint is cleaned up
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
