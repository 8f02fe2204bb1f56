"""The app's fine-tuning job: checks the base model, reserves the training memory against the
budget, runs the loop one device step at a time (models/core/scheduler.py), saves and registers
the model, and turns the job's events into the JSON that /finetune_status returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from models.core.errors import UserError
from models.core.jobs import Job, JobContext, JobRunner, status_json
from models.training.checkpoint import Checkpointer, settings_of
from models.training.finetune.data import LabelledData, split
from models.training.finetune.loop import (Callback, EpochInfo, FinetuneConfig, StepInfo,
                                           train)
from models.training.finetune.store import finetuned_dir, save_model

MAX_STEP_EVENTS = 600    # a long run reports its loss every k steps so snapshots stay small


@dataclass
class FinetuneResult:
    """What a finished (or stopped) fine-tuning job returns. Plain data, JSON-friendly."""
    key: str                     # registry key of the saved model ("local:...")
    name: str
    folder: str
    base_key: str
    classes: list
    report: dict                 # EvalReport.to_dict() of the kept weights
    history: list                # one dict per epoch (EpochInfo)
    best_epoch: int
    stopped: bool
    train_seconds: float
    examples_per_s: float
    notices: list = field(default_factory=list)   # {code, message, params}


class JobCallback(Callback):
    """Bridges the training loop to a JobContext: progress 0.03..0.95 is training."""

    def __init__(self, ctx: JobContext):
        self.ctx, self.every = ctx, 1

    def on_begin(self, total_steps, n_train, n_val, classes):
        self.every = max(1, total_steps // MAX_STEP_EVENTS)
        self.ctx.report(0.03, "training", type="begin", total_steps=total_steps, n_train=n_train,
                        n_val=n_val, classes=classes)

    def on_step(self, info: StepInfo):
        self.ctx.count_step(info.step)          # the class's step limit (models/core/jobs.py)
        progress = 0.03 + 0.92 * info.step / max(1, info.total_steps)
        if info.step % self.every == 0 or info.step == info.total_steps:
            self.ctx.report(progress, None, type="step", **asdict(info))
        else:
            self.ctx.report(progress)

    def on_epoch(self, info: EpochInfo):
        self.ctx.report(None, None, type="epoch", **asdict(info))

    def on_notice(self, code, message, **params):
        self.ctx.notice(code, message, **params)


def check_base(manager, key: str):
    """(spec, files folder) of a base model that can be fine-tuned here, or a UserError."""
    spec = manager.registry.get(key)
    if "finetune" not in spec.tasks:
        raise UserError("ft_not_base", name=spec.name)
    folder = manager.registry.files_dir(spec)
    if folder is None:
        raise UserError("model_missing", name=spec.name)
    return spec, folder


def training_bytes(folder: Path, cfg: FinetuneConfig) -> int:
    """Memory to fine-tune the model in `folder` with `cfg` (fp32 weights, gradients and Adam's
    two moments for the trained parameters, activations of one batch), from the calculator's
    formulas (models/runners/scale.py). A family the calculator does not know: 16 bytes a parameter."""
    from models.core.files import read_json, safetensors_params
    from models.runners.scale import TrainingSetup, estimate, from_config
    config = read_json(Path(folder) / "config.json") or {}
    try:
        arch = from_config(config)
    except UserError:
        return 16 * (safetensors_params(Path(folder)) or 0)
    arch = replace(arch, context=int(cfg.max_length))
    est = estimate(arch, TrainingSetup(dtype="fp32", batch=int(cfg.batch_size), tokens=1, gpus=1))
    if cfg.head_only:        # gradients and optimizer state for the small head only
        return int(est.train_weights + est.train_activations)
    return int(est.train_total)


def finetune_and_save(manager, cfg: FinetuneConfig, data: LabelledData, name: str,
                      callback: Callback | None = None, should_stop=lambda: False,
                      checkpoint: Checkpointer | None = None) -> FinetuneResult:
    """Train on `data` from the registry model cfg.base_model, save under the app's data dir,
    register it with the manager. Used by the app's job and by tests. With `checkpoint`, the
    training saves its state every few steps and continues from a saved one."""
    cfg.check()
    spec, folder = check_base(manager, cfg.base_model)
    parts = split(data, cfg.val_fraction, cfg.seed)
    label = f"finetune {(name or '').strip() or spec.name}"
    # the model being trained, its gradients, Adam's state and activations count against the
    # memory budget while it trains; each step takes the device after waiting requests
    with manager.reserve(training_bytes(folder, cfg), label, spec.name), manager.guard():
        outcome = train(cfg, parts, folder, callback, should_stop,
                        cpu=manager.device.kind == "cpu", base_name=spec.name,
                        device_step=lambda: manager.device_step(label), checkpoint=checkpoint)
    label = (name or "").strip()[:60] or f"{spec.key}-{Path(data.source).stem}"
    out = save_model(outcome, cfg, data, finetuned_dir(manager.registry.cache_dir, label),
                     base_key=spec.key, base_name=spec.name, base_dir=folder)
    registered = manager.register_local(str(out), name=label)
    result = FinetuneResult(registered.key, registered.name, str(out), spec.key, outcome.classes,
                            outcome.report.to_dict(), outcome.history, outcome.best_epoch,
                            outcome.stopped, outcome.train_seconds, outcome.examples_per_s,
                            [n.as_dict() for n in outcome.notices])
    del outcome
    return result


def start_job(manager, jobs: JobRunner, cfg: FinetuneConfig, data: LabelledData, name: str) -> str:
    """Queue a fine-tuning job on the device's runner; returns its id at once."""
    cfg.check()
    check_base(manager, cfg.base_model)              # refuse a bad base or split now, not in
    split(data, cfg.val_fraction, cfg.seed)          # the queue

    title = (name or "").strip()[:60] or f"{cfg.base_model} on {data.source}"
    job_id = jobs.submit("finetune", title, job_function(manager, cfg, data, name))
    jobs.keep_settings(job_id, {"config": asdict(cfg), "data": settings_of(data), "name": name})
    return job_id


def job_function(manager, cfg: FinetuneConfig, data: LabelledData, name: str):
    """The job's body: trains with a checkpoint in the job's folder, so a job interrupted by
    a restart continues from it when resumed."""
    def work(ctx: JobContext) -> FinetuneResult:
        ctx.report(0.01, "loading")
        return finetune_and_save(manager, cfg, data, name, JobCallback(ctx), lambda: ctx.cancelled,
                                 Checkpointer(ctx.checkpoint_dir))
    return work


def rebuild(manager, settings: dict):
    """The job function of a stored fine-tuning job (JobRunner.register's factory)."""
    return job_function(manager, FinetuneConfig(**settings["config"]),
                        LabelledData(**settings["data"]), settings["name"])


def status_dict(job: Job) -> dict:
    """A job snapshot as plain JSON: what /finetune_status returns."""
    return status_json(job, FinetuneResult, steps=("step", ("step", "epoch", "loss")),
                       epochs=("epoch", ("epoch", "step", "train_loss", "val_loss", "accuracy",
                                         "macro_f1", "partial")))
