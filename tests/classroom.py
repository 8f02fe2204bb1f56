"""The real app started with --classroom, for tests/test_classroom.py,
tests/test_errors_classroom.py and tests/browser/test_classroom.py: a teacher (tess), two
students (amy, bob) and a student with a Chinese name, in a cache folder of its own (the
packaged SmolLM2's converted weights are shared with the other tests' cache)."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_DEVICE

PASSWORDS = {"tess": "teacher-pass-1", "amy": "amy-pass-123", "bob": "bob-pass-456",
             "李雷": "lilei-pass-789"}
ROLES = {"tess": "teacher", "amy": "student", "bob": "student", "李雷": "student"}


@dataclass
class ClassroomApp:
    url: str
    demo: object
    manager: object
    jobs: object
    accounts: object
    cache: Path

    def client(self, name: str):
        from gradio_client import Client
        return Client(self.url, auth=(name, PASSWORDS[name]), verbose=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def classroom_app(real_cache, tmp_path_factory):
    import app
    from models.core.accounts import Accounts
    cache = tmp_path_factory.mktemp("classroom-cache")
    (real_cache / "converted").mkdir(parents=True, exist_ok=True)
    (cache / "converted").symlink_to(real_cache / "converted", target_is_directory=True)
    accounts = Accounts(cache)
    for name, password in PASSWORDS.items():
        accounts.add(name, password, ROLES[name])
    args = app.parse_args(["--hub", "off", "--lang", "auto", "--cache-dir", str(cache),
                           "--port", str(_free_port()), "--device", TEST_DEVICE, "--classroom"])
    demo, manager, jobs = app.build(args)
    app.launch(demo, args, prevent_thread_lock=True, quiet=True)
    yield ClassroomApp(f"http://127.0.0.1:{args.port}", demo, manager, jobs, accounts, cache)
    demo.close()
