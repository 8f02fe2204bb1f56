"""Shared fixtures. Tests never touch the network: the offline variables are set before
anything imports huggingface_hub or gradio."""
from __future__ import annotations

import os

from models.core.environment import quiet_environment

quiet_environment(offline=True)

import socket  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from models.core.device import pick_device  # noqa: E402
from models.core.manager import ModelManager  # noqa: E402
from models.core.registry import Registry  # noqa: E402
from tests.tiny import BUILDERS  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"   # screenshots etc. (git-ignored)
# `make gpu-check` runs the device tests with LLM_EXPLORER_TEST_DEVICE=cuda; CI uses the CPU.
TEST_DEVICE = os.environ.get("LLM_EXPLORER_TEST_DEVICE", "cpu")


def until(check, timeout: float = 10.0, what: str = "the condition", pause: float = 0.001):
    """Every wait of a test has a deadline: check() again and again until it gives something
    true (returned), or fail after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(pause)


def join_all(threads, timeout: float, what: str = "the threads") -> None:
    """Join `threads` within one deadline for them all; fail naming `what` if any still runs."""
    deadline = time.monotonic() + timeout
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()))
    alive = [th.name for th in threads if th.is_alive()]
    assert not alive, f"{what} still running after {timeout:g} s: {alive}"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Folders of every tiny model, built once per run: {"bert": path, "llama": path, ...}."""
    root = tmp_path_factory.mktemp("tiny")
    return {name: build(root / name) for name, build in BUILDERS.items()}


@pytest.fixture(scope="session")
def tiny_app(tmp_path_factory, tiny_models):
    """The app's own handlers by API name ({"answer": fn, ...}, webapp/ui.py build_app, built
    once per run) on tiny T5 and DistilBERT-QA models, and those models' keys."""
    from models.core.jobs import JobRunner
    from webapp.ui import build_app
    manager = ModelManager(Registry(tmp_path_factory.mktemp("tiny-app"), online=False),
                           pick_device("cpu"))
    keys = {"qa": manager.register_local(str(tiny_models["distilbert-qa"]), "qa").key,
            "t5": manager.register_local(str(tiny_models["t5"]), "t5").key}
    demo = build_app(manager, JobRunner("cpu"), lang="en")
    return {f.api_name: f.fn for f in demo.fns.values() if f.api_name}, keys


@pytest.fixture
def make_manager(tmp_path):
    """Factory: a fresh Registry + ModelManager on CPU with its own cache dir."""
    def factory(budget: int | None = None, cache_dir: Path | None = None) -> ModelManager:
        registry = Registry(cache_dir or tmp_path / "cache", online=False)
        return ModelManager(registry, pick_device(TEST_DEVICE), budget)
    return factory


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory) -> Path:
    """One cache dir for the whole run, so SmolLM2 is converted from GGUF only once."""
    return tmp_path_factory.mktemp("real-cache")


@pytest.fixture(scope="session")
def real_manager(real_app) -> ModelManager:
    """The packaged models (MiniLM, SmolLM2) through the running app's own manager: one manager
    per run, as in the app, so each model is loaded once."""
    return real_app.manager


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TrainedOnce:
    """The finished jobs of the run's app that trained a real model with a tab's defaults on
    its bundled sample, one per kind of training ("classifier", "tagger", "sft"), so that a run
    trains each real model once. The first test that needs one starts it — a golden path by
    pressing Start, a real-model test through the tab's job function — and every later test
    checks the same finished job (a second browser language attaches to it)."""

    def __init__(self, jobs):
        self.jobs, self._ids = jobs, {}

    def job_id(self, name: str) -> str | None:
        return self._ids.get(name)

    def record(self, name: str, job_id: str) -> None:
        """Keep a job that finished well (a failed or stopped one is not a sample's result)."""
        if self.jobs.snapshot(job_id).status == "done":
            self._ids.setdefault(name, job_id)

    def finished(self, name: str, start, timeout: float):
        """The finished job `name` (a Job snapshot), started with start() -> job id if this run
        has none yet; waits at most `timeout` seconds."""
        if name in self._ids:
            return self.jobs.snapshot(self._ids[name])
        job = self.jobs.wait(start(), timeout)
        self.record(name, job.id)
        return job


@dataclass
class RealApp:
    """The real app of the run, built once (app.build, as app.main does): its Gradio blocks, its
    one manager and job runner, and the jobs that trained each real model once."""
    demo: object
    manager: ModelManager
    jobs: object
    args: object
    trained: TrainedOnce
    url: str | None = None


@pytest.fixture(scope="session")
def real_app(real_cache):
    """Built on real_cache, so SmolLM2 is converted once; started as a server only when a test
    asks for `app_url`."""
    import app
    args = app.parse_args(["--hub", "off", "--lang", "auto", "--cache-dir", str(real_cache),
                           "--port", str(_free_port()), "--device", TEST_DEVICE])
    demo, manager, jobs = app.build(args)
    built = RealApp(demo, manager, jobs, args, TrainedOnce(jobs))
    yield built
    if built.url:
        demo.close()


@pytest.fixture(scope="session")
def app_url(real_app):
    """The real app's URL, started once per run on a free port. Used by the browser tests and
    the API tests; the same process, manager and jobs as `real_manager` and `trained`."""
    import app
    if real_app.url is None:
        app.launch(real_app.demo, real_app.args, prevent_thread_lock=True, quiet=True)  # as app.main
        real_app.url = f"http://127.0.0.1:{real_app.args.port}"
    return real_app.url


@pytest.fixture(scope="session")
def trained(real_app) -> TrainedOnce:
    return real_app.trained


@pytest.fixture(scope="session")
def engine_server(real_manager, tmp_path_factory):
    """(url, model id) of a real OpenAI-compatible server — `transformers serve` on the packaged
    SmolLM2, on this CPU — started once per run (tests/engine_server.py)."""
    from tests.engine_server import serve_smollm2
    with serve_smollm2(real_manager, tmp_path_factory.mktemp("engine")) as served:
        yield served


@pytest.fixture(scope="session")
def engine_manager(real_cache, engine_server):
    """A manager as app.py builds it with --engine-url: SmolLM2 local, and the engine's model
    (tests/test_engine.py, tests/test_engine_surprisal.py)."""
    from models.runners.engine import Engine
    manager = ModelManager(Registry(real_cache, online=False), pick_device("cpu"))
    spec = manager.attach_engine(Engine(engine_server[0]))
    assert spec is not None and spec.key == "engine:smollm2", spec
    return manager


@pytest.fixture(scope="session")
def engine_app(real_cache, engine_server):
    """The URL of the real app started as `python app.py --engine-url <engine_server>` would
    be, once per run (tests/engine_server.py `app_with_engine`): the API and browser tests of
    the engine share it."""
    from tests.engine_server import app_with_engine
    with app_with_engine(real_cache, engine_server[0]) as url:
        yield url
