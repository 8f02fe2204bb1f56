"""A real OpenAI-compatible server for the engine tests: `transformers serve` (transformers'
own server: /v1/models, /v1/chat/completions, /v1/completions) on the packaged SmolLM2, on
this CPU, offline. It serves the same safetensors copy the app loads (the one-time GGUF
conversion in the test cache, models/core/manager.py), so the engine and the app's own
worker run the very same weights.

`serve_smollm2` is a context manager; tests/test_engine.py and tests/browser/test_engine.py
wrap it in a session fixture. The server is a subprocess on a free port, waited for until
/v1/models answers, and ended (by its own process id) at the end of the session.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

START_S = 600          # loading on 2 busy shared cores can take minutes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_url() -> str:
    """An address where nothing listens (a port just freed), for the unreachable cases."""
    return f"http://127.0.0.1:{free_port()}/v1"


@contextlib.contextmanager
def serve_smollm2(manager, log_dir: Path):
    """Yield (url, model id) of a `transformers serve` of SmolLM2 (converted first if needed)."""
    manager.load("smollm2")                       # the one-time GGUF -> safetensors copy
    folder = manager.registry.files_dir(manager.registry.get("smollm2"))
    assert folder is not None and (folder / "config.json").exists(), folder
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    cli = Path(sys.executable).parent / "transformers"
    log = open(log_dir / "transformers-serve.log", "w")
    proc = subprocess.Popen([str(cli), "serve", str(folder), "--host", "127.0.0.1", "--port",
                             str(port), "--device", "cpu", "--dtype", "float32"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({proc.returncode}): "
                                   + (log_dir / "transformers-serve.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(url + "/models", timeout=5) as r:
                    models = [m["id"] for m in json.load(r)["data"]]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"transformers serve did not answer in {START_S} s")
                time.sleep(1)
        yield url, models[0]
    finally:
        stop_process(proc)
        log.close()


def stop_process(proc) -> None:
    """Ask a server process to end; kill it if it has not within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def app_with_engine(cache_dir: Path, engine_url: str, model: str | None = None):
    """The real app started as `python app.py --engine-url URL [--engine-model NAME]` would be
    (app.build + app.launch, like the `app_url` fixture), on a free port. Yields its URL."""
    import app
    argv = ["--hub", "off", "--cache-dir", str(cache_dir), "--port", str(free_port()),
            "--device", "cpu", "--engine-url", engine_url]
    args = app.parse_args(argv + (["--engine-model", model] if model else []))
    demo, _manager, _jobs = app.build(args)
    app.launch(demo, args, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{args.port}"
    finally:
        demo.close()
