"""Shared fixtures. Tests never touch the network: the offline variables are set before
anything imports huggingface_hub or gradio."""
from __future__ import annotations

import os

from models.core.environment import quiet_environment

quiet_environment(offline=True)

import socket  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from models.core.device import pick_device  # noqa: E402
from models.core.manager import ModelManager  # noqa: E402
from models.core.registry import Registry  # noqa: E402
from tests.tiny import BUILDERS  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"   # screenshots etc. (git-ignored)
# `make gpu-check` runs the device tests with LLM_EXPLORER_TEST_DEVICE=cuda; CI uses the CPU.
TEST_DEVICE = os.environ.get("LLM_EXPLORER_TEST_DEVICE", "cpu")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Folders of every tiny model, built once per run: {"bert": path, "llama": path, ...}."""
    root = tmp_path_factory.mktemp("tiny")
    return {name: build(root / name) for name, build in BUILDERS.items()}


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
def real_manager(real_cache) -> ModelManager:
    """The packaged models (MiniLM, SmolLM2) through one shared manager, as in the app."""
    return ModelManager(Registry(real_cache, online=False), pick_device(TEST_DEVICE))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(real_cache, tmp_path_factory):
    """The real app, started once per run on a free port (shares real_cache with real_manager).
    Used by the browser tests and the API tests."""
    import app
    args = app.parse_args(["--hub", "off", "--lang", "auto", "--cache-dir", str(real_cache),
                           "--port", str(_free_port()), "--device", TEST_DEVICE])
    demo, manager, jobs = app.build(args)
    app.launch(demo, args, prevent_thread_lock=True, quiet=True)   # the settings app.main uses
    yield f"http://127.0.0.1:{args.port}"
    demo.close()


@pytest.fixture(scope="session")
def engine_server(real_cache, tmp_path_factory):
    """(url, model id) of a real OpenAI-compatible server — `transformers serve` on the packaged
    SmolLM2, on this CPU — started once per run (tests/engine_server.py)."""
    from tests.engine_server import serve_smollm2
    manager = ModelManager(Registry(real_cache, online=False), pick_device("cpu"))
    with serve_smollm2(manager, tmp_path_factory.mktemp("engine")) as served:
        yield served
