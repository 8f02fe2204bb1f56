"""The shared model manager: one instance serves every tab and every user.

- `use(key)` loads a model lazily, once, even when many requests ask at the same moment
  (a lock per model), and marks it in use so it is never evicted mid-request.
- Memory is accounted per model (parameters + buffers). Before a load, idle models are
  evicted least-recently-used first until the new one fits the budget; a model that cannot
  fit even alone is refused with a message naming its size and the budget.
- Packaged GGUF weights are de-quantized once into a safetensors copy in the cache dir
  (temp folder + atomic rename, so a half-written copy is never used).
- `guard()` turns CUDA out-of-memory into a UserError after freeing cached memory.
- The manager owns the device through one `DeviceScheduler` (models/core/scheduler.py): `use(key)`
  holds the device for the request; training jobs take it step by step (`device_step`), so
  requests get it between two steps. Training memory (the model being trained, gradients,
  optimizer state, activations) is reserved against the same budget (`reserve`).
"""
from __future__ import annotations

import contextlib
import gc
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from models.core.budget import request_bytes
from models.core.device import DeviceInfo, format_bytes
from models.core.errors import Notice, UserError
from models.core.files import atomic_folder, model_params
from models.core.registry import ModelSpec, Registry
from models.core.scheduler import BACKGROUND, REQUEST, DeviceScheduler

Progress = Callable[[float, "Notice"], None]  # (fraction 0..1, what it is doing: a Notice)


@dataclass
class LoadedModel:
    """A model in memory with its tokenizer. `users` counts requests using it right now."""
    spec: ModelSpec
    model: Any
    tokenizer: Any
    device: torch.device
    nbytes: int
    n_params: int
    load_seconds: float
    last_used: float = field(default_factory=time.monotonic)
    users: int = 0
    # what one request may allocate beside the model (models/core/budget.py); the manager sets
    # it from its budget, the default is the share of a 4 GB budget
    request_bytes: int = field(default_factory=lambda: request_bytes(4 * 10**9))

    @property
    def max_length(self) -> int:
        """Longest input the model accepts (positions), used to truncate with a notice."""
        cfg = self.model.config
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = getattr(cfg, name, None)
            if isinstance(value, int) and value > 0:
                return value
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        return tok_max if isinstance(tok_max, int) and tok_max < 10**6 else 512


@dataclass(frozen=True)
class ModelRow:
    """One line of the Models tab."""
    key: str
    name: str
    source: str
    kind: str
    params: int | None
    size_bytes: int | None      # in memory if loaded, else estimated for this device's dtype
    state: str                  # loaded | loading | ready | needs preparation | downloadable | ...
    progress: Notice | None = None   # while loading: what it is doing (model_preparing, pct=40)
    license: str = ""
    note: str = ""
    in_use: int = 0


@dataclass(frozen=True)
class ManagerStatus:
    device: str
    budget_bytes: int
    used_bytes: int
    rows: list


def model_nbytes(model) -> int:
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() in seen:
            continue  # tied weights (embeddings = lm_head) count once
        seen.add(t.data_ptr())
        total += t.numel() * t.element_size()
    return total


class ModelManager:
    def __init__(self, registry: Registry, device: DeviceInfo, budget_bytes: int | None = None):
        self.registry = registry
        self.device = device
        # Default budget: half the device memory, so the OS, the browser and activations fit.
        self.budget_bytes = int(budget_bytes or device.total_bytes // 2)
        self._lock = threading.RLock()               # guards the dicts below
        self._model_locks: dict[str, threading.Lock] = {}
        self._loaded: dict[str, LoadedModel] = {}
        self._progress: dict[str, Notice] = {}       # key -> what it is doing while loading
        self._convert_lock = threading.Lock()        # one GGUF conversion at a time
        self._reserved: dict[str, int] = {}          # training jobs' memory, by label
        self.scheduler = DeviceScheduler()
        self.engine = None       # an OpenAI-compatible server (models/runners/engine.py), if any

    def attach_engine(self, engine) -> ModelSpec | None:
        """Serve the engine's model as "engine:<name>" (app.py --engine-url). Its requests go to
        the server and never take this machine's device. None if the server cannot be asked
        now and no --engine-model was given (the app starts anyway)."""
        self.engine = engine
        try:
            spec = engine.spec()
        except UserError:
            if not engine.wanted:
                return None
            spec = engine.spec()        # the model is named: ask the server on first use
        self.registry.add_spec(spec)
        return spec

    # ---- public API ----------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, key: str, progress: Progress | None = None, label: str = "",
            device: bool = True) -> Iterator[LoadedModel]:
        """Load if needed and hold the model, and the device, for the duration of a request.
        Requests go before training steps; see models/core/scheduler.py. `device=False` holds the
        model only, for callers that take the device themselves in smaller pieces (the
        Applications batcher takes it per batch)."""
        lm = self._get(key, progress, hold=True)
        device = device and lm.spec.source != "engine"     # served elsewhere: no local device
        try:
            with self.scheduler.slot(REQUEST, label or key) if device else contextlib.nullcontext():
                yield lm
        finally:
            with self._lock:
                lm.users -= 1
                lm.last_used = time.monotonic()

    def device_step(self, label: str):
        """One step of background work (a training step): waits while requests are queued."""
        return self.scheduler.slot(BACKGROUND, label)

    @contextlib.contextmanager
    def reserve(self, nbytes: int, label: str, what: str = "") -> Iterator[None]:
        """Count `nbytes` of training memory against the budget while the block runs. Idle
        models are evicted to make room; work that cannot fit is refused with its sizes."""
        nbytes = int(nbytes)
        if nbytes > self.budget_bytes:
            raise UserError("train_too_big", what=what or label, need=format_bytes(nbytes),
                            budget=format_bytes(self.budget_bytes))
        self._make_room_for(what or label, nbytes, keep=None)
        with self._lock:
            self._reserved[label] = self._reserved.get(label, 0) + nbytes
        try:
            yield
        finally:
            with self._lock:
                left = self._reserved.get(label, 0) - nbytes
                if left > 0:
                    self._reserved[label] = left
                else:
                    self._reserved.pop(label, None)

    def reserved(self) -> dict[str, int]:
        with self._lock:
            return dict(self._reserved)

    def load(self, key: str, progress: Progress | None = None) -> LoadedModel:
        """Make sure a model is in memory (without holding it)."""
        return self._get(key, progress, hold=False)

    def unload(self, key: str) -> bool:
        """Free a model. False if it was not loaded; UserError if a request is using it."""
        self.registry.get(key)
        with self._lock:
            lm = self._loaded.get(key)
            if lm is None:
                return False
            if lm.users > 0:
                raise UserError("model_in_use", name=lm.spec.name)
            del self._loaded[key]
        del lm
        self._free_memory()
        return True

    def delete(self, key: str) -> bool:
        """Forget a model the user added or made: unload it, remove it from the registry, and
        delete its files when the app made them (a folder inside the cache folder: fine-tuned
        or pre-trained here). A folder elsewhere on disk is only forgotten, never deleted.
        Packaged and listed Hub models cannot be deleted. Returns whether files were deleted."""
        spec = self.registry.get(key)
        if not self.registry.removable(spec):
            raise UserError("model_not_removable", name=spec.name)
        self.unload(key)                       # refuses (model_in_use) while a request runs
        self.registry.remove(key)
        folder = Path(spec.location)
        made_here = spec.source == "local" and folder.resolve().is_relative_to(
            self.registry.cache_dir.resolve())
        if made_here and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        return made_here

    def is_loaded(self, key: str) -> bool:
        with self._lock:
            return key in self._loaded

    def loaded_keys(self) -> list[str]:
        with self._lock:
            return list(self._loaded)

    def used_bytes(self) -> int:
        with self._lock:
            return (sum(lm.nbytes for lm in self._loaded.values())
                    + sum(self._reserved.values()))

    def estimate_bytes(self, spec: ModelSpec) -> int | None:
        params = self.registry.params(spec)
        if params is None:
            return None
        return params * torch.tensor([], dtype=self.device.dtype).element_size()

    def status(self) -> ManagerStatus:
        rows = []
        for spec in self.registry.all():
            with self._lock:
                lm = self._loaded.get(spec.key)
                progress = self._progress.get(spec.key)
            if lm is not None:
                state, size, params, users = "loaded", lm.nbytes, lm.n_params, lm.users
            else:
                state = "loading" if progress else self.registry.availability(spec)
                size, params, users = self.estimate_bytes(spec), self.registry.params(spec), 0
            rows.append(ModelRow(spec.key, spec.name, spec.source, spec.kind, params, size, state,
                                 progress, spec.license, spec.note, users))
        return ManagerStatus(self.device.describe(), self.budget_bytes, self.used_bytes(), rows)

    def register_local(self, path: str, name: str | None = None) -> ModelSpec:
        return self.registry.add_local(path, name=name)

    def register_hub(self, repo_id: str) -> ModelSpec:
        return self.registry.add_hub(repo_id)

    @contextlib.contextmanager
    def guard(self):
        """Wrap device work: CUDA out-of-memory frees cached memory and becomes a UserError."""
        try:
            yield
        except torch.OutOfMemoryError:
            self._free_memory()
            raise UserError("oom") from None

    # ---- loading -------------------------------------------------------------------------
    def _model_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._model_locks.setdefault(key, threading.Lock())

    def _get(self, key: str, progress: Progress | None, hold: bool) -> LoadedModel:
        spec = self.registry.get(key)
        with self._lock:
            lm = self._loaded.get(key)
            if lm is not None:
                lm.users += hold
                lm.last_used = time.monotonic()
                return lm
        with self._model_lock(key):           # one loader per model; others wait here
            with self._lock:
                lm = self._loaded.get(key)
                if lm is not None:            # loaded while we waited
                    lm.users += hold
                    lm.last_used = time.monotonic()
                    return lm
            try:
                lm = self._load(spec, progress)
            finally:
                with self._lock:
                    self._progress.pop(key, None)
            with self._lock:
                self._loaded[key] = lm
                lm.users += hold
            return lm

    def _report(self, key: str, progress: Progress | None, fraction: float, what: Notice) -> None:
        with self._lock:
            if fraction < 1:
                self._progress[key] = what
            else:
                self._progress.pop(key, None)
        if progress:
            progress(fraction, what)

    def _load(self, spec: ModelSpec, progress: Progress | None) -> LoadedModel:
        if spec.source == "engine":              # on the server: nothing loads here
            if self.engine is None:
                raise UserError("engine_not_set", name=spec.name)
            lm = self.engine.loaded(spec)
            lm.engine = self.engine
            return lm
        availability = self.registry.availability(spec)
        if availability == "missing":
            raise UserError("model_missing", name=spec.name)
        if availability == "needs download (offline)":
            raise UserError("hub_offline", repo_id=spec.location)
        started = time.perf_counter()
        need = self.estimate_bytes(spec)
        if need is not None:
            self._make_room(spec, need)
        self._report(spec.key, progress, 0.0, Notice("model_loading", name=spec.name))
        if spec.gguf_file and self.registry.files_dir(spec) is None:
            self._convert_gguf(spec, progress)
        import transformers
        folder = self.registry.files_dir(spec)
        source = str(folder) if folder else spec.location      # hub id: downloads when online
        local_only = not self.registry.online or folder is not None
        self._report(spec.key, progress, 0.9 if spec.gguf_file else 0.3,
                     Notice("model_loading", name=spec.name))
        auto = getattr(transformers, spec.auto_class)
        with self.guard():
            tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = auto.from_pretrained(source, dtype=self.device.dtype, attn_implementation="eager",
                                         local_files_only=local_only)
            if folder is not None and (Path(folder) / "adapter" / "adapter_config.json").exists():
                # a LoRA adapter kept apart from its base (models/training/sft/store.py): applied
                # and merged in memory, so every tab sees one plain model of the base's class
                from peft import PeftModel
                model = PeftModel.from_pretrained(model, Path(folder) / "adapter").merge_and_unload()
            model.to(self.device.torch_device).eval()
        nbytes = model_nbytes(model)
        if need is None:                                  # size was unknown before loading
            self._make_room(spec, nbytes)
        n_params = model_params(model)
        self._report(spec.key, progress, 1.0, Notice("model_loaded", name=spec.name))
        return LoadedModel(spec, model, tokenizer, self.device.torch_device, nbytes, n_params,
                           time.perf_counter() - started,
                           request_bytes=request_bytes(self.budget_bytes))

    def _make_room(self, spec: ModelSpec, need: int) -> None:
        if need > self.budget_bytes:
            raise UserError("too_big", name=spec.name, need=format_bytes(need),
                            budget=format_bytes(self.budget_bytes))
        self._make_room_for(spec.name, need, keep=spec.key)

    def _make_room_for(self, name: str, need: int, keep: str | None) -> None:
        """Evict idle models, least recently used first, until `need` more bytes fit."""
        evicted = False
        with self._lock:
            while self.used_bytes() + need > self.budget_bytes:
                # keys only: no local variable may keep an evicted model alive past this point
                victim = min((k for k, lm in self._loaded.items() if lm.users == 0 and k != keep),
                             key=lambda k: self._loaded[k].last_used, default=None)
                if victim is None:
                    busy = ", ".join([lm.spec.name for lm in self._loaded.values()]
                                     + list(self._reserved))
                    raise UserError("budget_busy", need=format_bytes(need),
                                    budget=format_bytes(self.budget_bytes), busy=busy, name=name)
                del self._loaded[victim]
                evicted = True
        if evicted:
            self._free_memory()

    def _convert_gguf(self, spec: ModelSpec, progress: Progress | None) -> None:
        """De-quantize the packaged GGUF once into <cache>/converted/<key> (atomic rename)."""
        import transformers
        from transformers import modeling_gguf_pytorch_utils as gguf_utils

        gguf = self.registry.gguf_path(spec)
        if gguf is None:
            raise UserError("model_missing", name=spec.name)
        final = self.registry.converted_dir(spec)
        with self._convert_lock:
            if (final / "config.json").exists():
                return
            self._report(spec.key, progress, 0.01, Notice("model_preparing", name=spec.name, pct=1))
            manager = self

            class _Tqdm:  # stands in for tqdm inside transformers' GGUF reader to report progress
                def __init__(self, iterable=None, total=None, **_):
                    self.iterable = iterable
                    self.total = total or (len(iterable) if hasattr(iterable, "__len__") else 0)

                def __iter__(self):
                    for i, item in enumerate(self.iterable):
                        if self.total and i % 8 == 0:
                            frac = 0.85 * i / self.total
                            manager._report(spec.key, progress, frac,
                                            Notice("model_preparing", name=spec.name,
                                                   pct=int(frac * 100)))
                        yield item

            original = gguf_utils.tqdm
            gguf_utils.tqdm = _Tqdm
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
            finally:
                gguf_utils.tqdm = original
            # The de-quantized weights are plain fp32 now: drop the GGUF quantizer so it saves.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.config._name_or_path = spec.name
            # atomic: the final name only ever holds a complete copy
            with atomic_folder(final) as tmp:
                self._report(spec.key, progress, 0.87, Notice("model_saving", name=spec.name))
                model.save_pretrained(tmp)
                tokenizer.save_pretrained(tmp)
            del model

    def _free_memory(self) -> None:
        gc.collect()
        if self.device.kind == "cuda":
            torch.cuda.empty_cache()
