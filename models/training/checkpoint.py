"""Checkpoints of a training loop, so a job killed with its server continues where it was.

Every training loop (finetune, tokens, sft, pretrain) keeps one `Checkpointer`: after each
step it asks `due(step)` and, when it is, saves everything the rest of the run depends on —
the trained weights (the parameters that require gradients: the whole model, the new head
alone, or the LoRA adapter), the optimizer's and scheduler's state, the step, the random
number generators (Python, NumPy, torch, CUDA), where the loop is in its shuffled data
(`DataOrder`) and the loop's own bookkeeping (`extra`: losses so far, best epoch, ...). It is
written all at once (models/core/files.py atomic_folder), so a kill during the save leaves the
previous checkpoint whole.

Resuming is what transformers' Trainer does with `resume_from_checkpoint`: the loop sets
itself up as for a fresh run (same seed, same model, same data), then `restore` loads the
weights, optimizer, scheduler and random states, and the loop continues from the next step:
`DataOrder` rewinds the shuffling generator to the start of the interrupted epoch and skips
the batches already trained on, so the batches come in the same order as in an uninterrupted
run (tests/test_checkpoint.py compares the final weights and metric of both).
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from models.core.files import atomic_folder

# Every 50 steps or 2 minutes, whichever comes first: a kill loses at most ~2 minutes of
# training, and the save (one MiniLM: ~90 MB of weights + 180 MB of Adam state, ~1 s on a
# laptop disk) costs under 1 % of that time.
# LLM_EXPLORER_CHECKPOINT_STEPS, when set, replaces the step count (the restart tests: a tiny
# run must save within its few seconds).
EVERY_STEPS = 50
STEPS_VARIABLE = "LLM_EXPLORER_CHECKPOINT_STEPS"
EVERY_SECONDS = 120.0
STATE_FILE = "state.pt"


def rng_state() -> dict:
    """The random generators' states: Python, NumPy, torch CPU and (when present) CUDA."""
    import numpy as np
    out = {"python": random.getstate(), "numpy": np.random.get_state(),
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict) -> None:
    import numpy as np
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def trainable_state(model) -> dict:
    """The parameters the loop trains (requires_grad), copied to the CPU: the whole model, a
    new head alone, or a LoRA adapter — one rule for every loop."""
    return {name: p.detach().to("cpu", copy=True) for name, p in model.named_parameters()
            if p.requires_grad}


def load_trainable(model, state: dict) -> None:
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in state]
    if missing:
        raise KeyError(f"checkpoint lacks {len(missing)} trained weights, e.g. {missing[0]}")
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value.to(params[name].device))


class DataOrder:
    """Where a loop is in its shuffled data: the shuffling generator's state at the start of
    the current epoch and how many of its batches are done. `epoch(loader)` yields the epoch's
    batches; after a resume, the first epoch replays the saved order and skips the batches
    already trained on (they are drawn, not trained: the order stays the same)."""

    def __init__(self, generator: torch.Generator, saved: dict | None = None):
        self.generator, self._saved = generator, saved
        self.start, self.done = generator.get_state(), 0

    def epoch(self, loader):
        skip = 0
        if self._saved is not None:
            self.generator.set_state(self._saved["generator"])
            skip, self._saved = int(self._saved["batches"]), None
        self.start, self.done = self.generator.get_state(), 0
        for batch in loader:
            self.done += 1
            if self.done > skip:
                yield batch

    def state(self) -> dict:
        return {"generator": self.start, "batches": self.done}


@dataclass
class Resumed:
    """What `Checkpointer.restore` gives back to the loop."""
    step: int
    data: dict | None             # DataOrder.state() at the save
    extra: dict = field(default_factory=dict)


class Checkpointer:
    """Saves a loop's state into `folder` every `every_steps` steps or `every_seconds`
    seconds, whichever comes first; `folder=None` saves nothing (tests, the command line)."""

    def __init__(self, folder: str | Path | None, every_steps: int | None = None,
                 every_seconds: float = EVERY_SECONDS):
        self.folder = Path(folder) if folder else None
        self.every_steps = int(every_steps or os.environ.get(STEPS_VARIABLE) or EVERY_STEPS)
        self.every_seconds = float(every_seconds)
        self._last_step, self._last_time = 0, time.monotonic()

    def due(self, step: int) -> bool:
        if self.folder is None:
            return False
        return (step - self._last_step >= self.every_steps
                or time.monotonic() - self._last_time >= self.every_seconds)

    def exists(self) -> bool:
        return self._file() is not None

    def save(self, step: int, model, optimizer=None, scheduler=None, data: dict | None = None,
             extra: dict | None = None) -> None:
        if self.folder is None:
            return
        state = {"step": int(step), "weights": trainable_state(model),
                 "optimizer": optimizer.state_dict() if optimizer is not None else None,
                 "scheduler": scheduler.state_dict() if scheduler is not None else None,
                 "rng": rng_state(), "data": data, "extra": dict(extra or {}),
                 "saved": time.time()}
        with atomic_folder(self.folder) as tmp:
            torch.save(state, tmp / STATE_FILE)
        self._last_step, self._last_time = int(step), time.monotonic()

    def restore(self, model, optimizer=None, scheduler=None) -> Resumed | None:
        """Load the last checkpoint into the loop's model, optimizer and scheduler (already
        set up as for a fresh run) and set the random generators as they were at the save;
        None when there is none. Call it last, right before the loop continues."""
        path = self._file()
        if path is None:
            return None
        state = torch.load(path, weights_only=False, map_location="cpu")
        load_trainable(model, state["weights"])
        if optimizer is not None and state["optimizer"] is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        self._last_step, self._last_time = state["step"], time.monotonic()
        return Resumed(state["step"], state["data"], state["extra"])

    def _file(self) -> Path | None:
        """The checkpoint's file; when a kill came in the middle of atomic_folder's swap, the
        previous copy it moved aside."""
        if self.folder is None:
            return None
        path = self.folder / STATE_FILE
        if path.exists():
            return path
        aside = sorted(self.folder.parent.glob(f".{self.folder.name}-old-*/{STATE_FILE}"),
                       key=lambda p: p.stat().st_mtime)
        return aside[-1] if aside else None


def settings_of(data) -> dict:
    """A dataclass of a job's settings or data as plain JSON data, for the job's row in the
    store (models/core/jobs.py `keep_settings`); its notices were shown when it started and
    are left out."""
    from dataclasses import fields
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name != "notices"}


def resume_loop(checkpoint: Checkpointer | None, accelerator, model, optimizer, scheduler,
                generator: torch.Generator) -> tuple[Resumed | None, DataOrder]:
    """For an accelerate loop, once everything is prepared: its last checkpoint restored (None
    when there is none) and the data order to follow (the saved one after a restart)."""
    resumed = (checkpoint.restore(accelerator.unwrap_model(model), optimizer, scheduler)
               if checkpoint is not None else None)
    return resumed, DataOrder(generator, resumed.data if resumed is not None else None)


def save_if_due(checkpoint: Checkpointer | None, accelerator, step: int, model, optimizer,
                scheduler, order: DataOrder, extra: Callable[[], dict]) -> None:
    """After an accelerate loop's step: a checkpoint when one is due (main process only);
    `extra()` gives the loop's own bookkeeping."""
    if checkpoint is not None and accelerator.is_main_process and checkpoint.due(step):
        checkpoint.save(step, accelerator.unwrap_model(model), optimizer, scheduler,
                        order.state(), extra())


# What the epoch loops that keep their best epoch (finetune, tokens) save beside the weights,
# in this order (the loop's variables of the same names).
EPOCH_LOOP = ("history", "best", "best_state", "best_epoch", "seen", "epoch", "epoch_losses",
              "train_seconds")
