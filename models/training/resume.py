"""The training kinds a restarted server can resume, and how each rebuilds its job from the
settings it stored (models/core/jobs.py `JobRunner.register` / `resume`): one table, looked
up by the job's kind. Each rebuilt job continues from its checkpoint
(models/training/checkpoint.py)."""
from __future__ import annotations

import functools

from models.training.finetune import job as finetune_job
from models.training.pretrain import loop as pretrain_loop
from models.training.sft import job as sft_job
from models.training.tokens import job as tokens_job

REBUILD = {"finetune": finetune_job.rebuild,    # classify sentences
           "tokens": tokens_job.rebuild,        # label words (entities)
           "sft": sft_job.rebuild,              # instruction tuning with LoRA
           "pretrain": pretrain_loop.rebuild}   # a tiny GPT from scratch


def register_all(jobs, manager) -> None:
    """Teach `jobs` (a JobRunner) to rebuild every resumable kind with `manager`."""
    for kind, rebuild in REBUILD.items():
        jobs.register(kind, functools.partial(rebuild, manager))
