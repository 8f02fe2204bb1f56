"""The app's instruction-tuning job: checks the base model is a causal LM on this computer,
reserves the training memory against the budget, runs the LoRA loop one device step at a time
(models/core/scheduler.py), saves the adapter or the merged model, registers it, and turns the
job's events into the JSON that /sft_status returns. A stop keeps the adapter trained so far
(saved and registered like a finished one)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.core.errors import UserError
from models.core.files import read_json
from models.core.jobs import Job, JobContext, JobRunner, status_json
from models.training.checkpoint import Checkpointer, settings_of
from models.training.sft.data import Conversations, follows
from models.training.sft.loop import (Callback, EvalInfo, SFTConfig, StepInfo, count_lora,
                                     settings, train)
from models.training.sft.store import save, sft_dir

MAX_STEP_EVENTS = 600     # a long run reports its loss every k steps so snapshots stay small


@dataclass
class SFTResult:
    """What a finished (or stopped) job returns. Plain data, JSON-friendly."""
    key: str                   # registry key of the saved model ("local:...")
    name: str
    folder: str
    base_key: str
    merged: bool
    steps: int
    stopped: bool
    train_seconds: float
    tokens_per_s: float
    trainable: int
    total: int
    follows: dict | None = None        # {"base", "tuned", "n"}: shares following the sample's format
    notices: list = field(default_factory=list)


class JobCallback(Callback):
    """Bridges the loop to a JobContext: progress 0.03..0.95 is training."""

    def __init__(self, ctx: JobContext, check_format: bool):
        self.ctx, self.every, self.check_format = ctx, 1, check_format

    def on_begin(self, total_steps, n_train, trainable, total):
        self.every = max(1, total_steps // MAX_STEP_EVENTS)
        self.ctx.report(0.03, "training", type="begin", total_steps=total_steps, n_train=n_train,
                        trainable=trainable, total=total)

    def on_step(self, info: StepInfo):
        self.ctx.count_step(info.step)          # the class's step limit (models/core/jobs.py)
        progress = 0.03 + 0.92 * info.step / max(1, info.total_steps)
        if info.step % self.every == 0 or info.step == info.total_steps:
            self.ctx.report(progress, None, type="step", **asdict(info))
        else:
            self.ctx.report(progress)

    def on_eval(self, info: EvalInfo):
        extra = {}
        if self.check_format:
            extra = {"base_follows": [follows(a) for a in info.base],
                     "tuned_follows": [follows(a) for a in info.tuned]}
        self.ctx.report(None, None, type="eval", **asdict(info), **extra)

    def on_notice(self, code, message, **params):
        self.ctx.notice(code, message, **params)


def check_base(manager, key: str):
    """(spec, files folder) of a causal LM that can be taught here, or a UserError."""
    spec = manager.registry.get(key)
    if spec.head != "causal-lm":
        raise UserError("sft_not_causal", name=spec.name)
    if spec.source == "packaged" and spec.gguf_file and manager.registry.files_dir(spec) is None:
        manager.load(spec.key)                 # one-time GGUF -> safetensors conversion
    folder = manager.registry.files_dir(spec)
    if folder is None:
        raise UserError("model_missing", name=spec.name)
    return spec, Path(folder)


def training_bytes(folder: Path, cfg: SFTConfig) -> int:
    """Memory to teach the model in `folder`: fp32 weights (frozen), gradients and Adam's two
    moments for the LoRA parameters only, activations of one batch (from the calculator's
    formula, models/runners/scale.py; 16 bytes a weight for a family it does not know)."""
    from dataclasses import replace

    from models.core.files import safetensors_params
    from models.runners.scale import TrainingSetup, estimate, from_config
    config = read_json(Path(folder) / "config.json") or {}
    lora, total = count_lora(config, cfg)
    try:
        arch = replace(from_config(config), context=int(cfg.max_length))
    except UserError:
        return 16 * (safetensors_params(Path(folder)) or total)
    est = estimate(arch, TrainingSetup(dtype="fp32", batch=int(cfg.batch_size), tokens=1, gpus=1))
    return int(est.train_weights + est.train_activations + 16 * lora)


def share(flags: list) -> float:
    return sum(bool(f) for f in flags) / len(flags) if flags else 0.0


def teach_and_save(manager, cfg: SFTConfig, data: Conversations, heldout: list[str], name: str,
                   callback: Callback | None = None, should_stop=lambda: False,
                   check_format: bool = False, checkpoint: Checkpointer | None = None) -> SFTResult:
    """Train on `data` from the registry model cfg.base_model, save under the app's data dir,
    register it with the manager. Used by the app's job and by tests. With `checkpoint`, the
    training saves its state every few steps and continues from a saved one."""
    cfg.check()
    spec, folder = check_base(manager, cfg.base_model)
    label = f"sft {(name or '').strip() or spec.name}"
    with manager.reserve(training_bytes(folder, cfg), label, spec.name), manager.guard():
        outcome = train(cfg, data.examples, folder, heldout, callback, should_stop,
                        cpu=manager.device.kind == "cpu",
                        device_step=lambda: manager.device_step(label), checkpoint=checkpoint)
    shares = None
    if check_format and outcome.evals:
        last = outcome.evals[-1]
        shares = {"base": share([follows(a) for a in last["base"]]),
                  "tuned": share([follows(a) for a in last["tuned"]]), "n": len(last["prompts"])}
    title = (name or "").strip()[:60] or f"{spec.key}-{Path(data.source).stem}-lora"
    out = save(outcome, cfg, sft_dir(manager.registry.cache_dir, title), folder,
               {"base_key": spec.key, "base_name": spec.name, "source": data.source,
                "n_train": len(data.examples), "follows": shares})
    registered = manager.register_local(str(out), name=title)
    result = SFTResult(registered.key, registered.name, str(out), spec.key, bool(cfg.merge),
                       outcome.steps, outcome.stopped, outcome.train_seconds,
                       outcome.tokens_per_s, outcome.trainable, outcome.total, shares,
                       [[n.code, n.params] for n in outcome.notices])
    del outcome
    return result


def start_job(manager, jobs: JobRunner, cfg: SFTConfig, data: Conversations, heldout: list[str],
              name: str, check_format: bool = False) -> str:
    """Queue a teaching job on the device's runner; returns its id at once."""
    cfg.check()
    check_base(manager, cfg.base_model)             # refuse a bad base now, not in the queue

    title = (name or "").strip()[:60] or f"{cfg.base_model} on {data.source}"
    job_id = jobs.submit("sft", title, job_function(manager, cfg, data, heldout, name,
                                                    check_format))
    jobs.keep_settings(job_id, {"config": settings(cfg), "data": settings_of(data),
                                "heldout": list(heldout), "name": name,
                                "check_format": check_format})
    return job_id


def job_function(manager, cfg: SFTConfig, data: Conversations, heldout: list[str], name: str,
                 check_format: bool):
    """The job's body, with a checkpoint in the job's folder (see finetune/job.py)."""
    def work(ctx: JobContext) -> SFTResult:
        ctx.report(0.01, "loading")
        for n in data.notices:
            ctx.notice(n.code, n.message, **n.params)
        return teach_and_save(manager, cfg, data, heldout, name, JobCallback(ctx, check_format),
                              lambda: ctx.cancelled, check_format,
                              Checkpointer(ctx.checkpoint_dir))
    return work


def rebuild(manager, stored: dict):
    """The job function of a stored instruction-tuning job (JobRunner.register's factory)."""
    return job_function(manager, SFTConfig(**stored["config"]), Conversations(**stored["data"]),
                        stored["heldout"], stored["name"], stored["check_format"])


def status_dict(job: Job) -> dict:
    """A job snapshot as plain JSON: what /sft_status returns (with the trainable and total
    parameter counts the "begin" event announced)."""
    out = status_json(job, SFTResult, steps=("step", ("step", "loss")),
                      evals=("eval", ("step", "prompts", "base", "tuned", "base_follows",
                                      "tuned_follows")))
    begin = next((e for e in job.events if e.get("type") == "begin"), {})
    return {**out, "trainable": begin.get("trainable"), "total_params": begin.get("total")}


def ask_both(manager, tuned_key: str, prompt: str, max_new_tokens: int = 48) -> tuple[str, str]:
    """(base answer, tuned answer) to `prompt`, greedy, in the layout the model was taught with.
    The base is the one named in the tuned model's folder (sft.json)."""
    from models.training.sft.loop import answer
    from models.training.sft.store import META_FILE
    spec = manager.registry.get(tuned_key)
    folder = manager.registry.files_dir(spec)
    meta = read_json(Path(folder) / META_FILE) if folder else {}
    if not meta:
        raise UserError("sft_pick_model")
    prompt = (prompt or "").strip()
    if not prompt:
        raise UserError("sft_empty_prompt")
    out = []
    for key in (meta["base_key"], tuned_key):
        with manager.use(key, label="sft try") as lm:
            out.append(answer(lm.model, lm.tokenizer, [prompt], max_new_tokens)[0])
    return out[0], out[1]
