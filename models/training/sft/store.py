"""Keeping an instruction-tuned model: the adapter kept apart from the base, or merged into it,
saved as safetensors with a model card, and zipped for download.

Saved models live in `<app data dir>/sft/<safe name>` (the user's name passes through `slug`,
so it never leaves that folder). Both kinds load with `AutoModelForCausalLM.from_pretrained`
and are registered like any local folder (models/core/registry.py), so Generate, Attention and
"Why this token?" list them:

  merged   the base weights with B A added in (W + alpha/r · B A): a plain model, as big as the base
  adapter  adapter/adapter_model.safetensors (only A and B, a few MB) + adapter_config.json,
           beside the base's config.json, tokenizer and a link to the base's weights file: the
           manager loads the base from there and applies the adapter on top
           (models/core/manager.py). The zip holds the adapter only; its card says which base it
           needs. (transformers' own adapter loading wants peft >= 0.22, not released yet.)
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from models.core.accounts import user_folder
from models.core.errors import UserError
from models.core.files import atomic_folder, slug
from models.training.sft.loop import SFTConfig, TrainOutcome, settings

META_FILE = "sft.json"
ADAPTER_DIR = "adapter"                 # the LoRA adapter inside a saved folder
BASE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


def sft_dir(cache_dir: Path, name: str) -> Path:
    """A new, unused folder under <cache_dir>/sft for `name`."""
    root = user_folder(Path(cache_dir) / "sft").resolve()     # classroom: per user
    base = slug(name, "tuned")
    candidate, n = root / base, 2
    while candidate.exists():
        candidate, n = root / f"{base}-{n}", n + 1
    if not candidate.resolve().is_relative_to(root):      # a bug if it happens
        raise ValueError(f"{name!r} made a folder outside {root}")
    return candidate


def check_out_dir(out_dir: Path) -> None:
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError("sft_out_exists", path=str(out_dir))


def _card(outcome: TrainOutcome, cfg: SFTConfig, meta: dict, base_name: str) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in settings(cfg).items())
    last = outcome.evals[-1] if outcome.evals else None
    shares = ""
    if meta.get("follows") is not None:
        f = meta["follows"]
        shares = (f"\n## Held-out prompts\nFollowing the taught format: base {f['base']:.0%}, "
                  f"tuned {f['tuned']:.0%} of {f['n']} prompts.\n")
    examples = ""
    if last:
        pairs = list(zip(last["prompts"], last["base"], last["tuned"]))[:5]
        examples = "\n".join(f"| {p} | {b!r} | {t!r} |" for p, b, t in pairs)
        examples = ("\n## Examples (held out)\n| prompt | base | tuned |\n|---|---|---|\n"
                    + examples + "\n")
    kind = "merged into the base weights" if cfg.merge else (
        f"a LoRA adapter: load it on top of {base_name}")
    use = ("model = AutoModelForCausalLM.from_pretrained('path/to/this/folder')" if cfg.merge else
           "from peft import PeftModel\nbase = AutoModelForCausalLM.from_pretrained("
           f"'<folder of {base_name}>')\nmodel = PeftModel.from_pretrained(base, "
           "'path/to/this/folder/adapter')")
    return f"""---
base_model: {base_name}
library_name: {'transformers' if cfg.merge else 'peft'}
pipeline_tag: text-generation
tags: [llm-explorer, lora, instruction-tuning]
---
# {base_name} taught new answers with LoRA

Made with LLM Explorer's "Teach the language model" tab: {kind}.

## Data
- Source: `{meta['source']}`, {meta['n_train']} conversations; the loss counts only the
  assistant's tokens (the prompt is masked).

## Training
- {outcome.steps} steps{' (stopped early)' if outcome.stopped else ''}, {outcome.train_seconds:.0f} s,
  {outcome.tokens_per_s:.0f} tokens/s; loss {outcome.losses[0]:.3f} → {outcome.losses[-1]:.3f}
- Trainable parameters: {outcome.trainable:,} of {outcome.total:,}

| setting | value |
|---|---|
{rows}
{shares}{examples}
## Use it
```python
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained('path/to/this/folder')
{use}
```
"""


def save(outcome: TrainOutcome, cfg: SFTConfig, out_dir: Path, base_dir: Path, meta: dict) -> Path:
    """Write the adapter (or the merged model), tokenizer, metadata and card, all at once (a
    temporary sibling folder renamed at the end). `meta`: base_key, base_name, source, n_train,
    follows ({base, tuned, n} or None)."""
    out_dir, base_dir = Path(out_dir), Path(base_dir)
    check_out_dir(out_dir)
    with atomic_folder(out_dir) as tmp:
        if cfg.merge:
            import copy
            merged = copy.deepcopy(outcome.model).merge_and_unload()   # keep the PEFT model usable
            merged.config.use_cache = True
            merged.save_pretrained(tmp)
            del merged
        else:
            adapter = tmp / ADAPTER_DIR
            outcome.model.save_pretrained(adapter)             # adapter_model.safetensors + config
            config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
            config["base_model_name_or_path"] = str(base_dir.resolve())
            (adapter / "adapter_config.json").write_text(json.dumps(config, indent=2),
                                                          encoding="utf-8")
            shutil.copy2(base_dir / "config.json", tmp / "config.json")
            for name in BASE_WEIGHTS:                          # the base's weights, linked
                if (base_dir / name).exists():
                    _link(base_dir / name, tmp / name)
            for shard in base_dir.glob("model-*.safetensors"):
                _link(shard, tmp / shard.name)
        outcome.tokenizer.save_pretrained(tmp)
        full = dict(meta, config=settings(cfg), steps=outcome.steps, stopped=outcome.stopped,
                    losses=outcome.losses, train_seconds=outcome.train_seconds,
                    tokens_per_s=outcome.tokens_per_s, trainable=outcome.trainable,
                    total=outcome.total, base_dir=str(base_dir.resolve()), merged=cfg.merge,
                    created=time.time())
        (tmp / META_FILE).write_text(json.dumps(full, indent=1, ensure_ascii=False),
                                     encoding="utf-8")
        (tmp / "README.md").write_text(_card(outcome, cfg, meta, meta.get("base_name", "")),
                                       encoding="utf-8")
    return out_dir


def _link(target: Path, link: Path) -> None:
    """A symbolic link to the base's weights (a copy where links are not allowed)."""
    try:
        os.symlink(target.resolve(), link)
    except OSError:
        shutil.copy2(target, link)


def zip_model(folder: str | Path) -> Path:
    """A zip of a model taught here, in a fresh temporary folder (Gradio serves it from there):
    the merged model, or the adapter without the base's weights."""
    folder = Path(folder)
    if not (folder / META_FILE).exists():
        raise UserError("sft_no_model", folder=folder.name)
    out_root = Path(tempfile.mkdtemp(prefix="llm-explorer-zip-"))
    staging = out_root / folder.name
    staging.mkdir()
    for item in folder.iterdir():
        if item.is_symlink():               # the base's weights: not part of the adapter
            continue
        if item.is_file():
            shutil.copy2(item, staging / item.name)
        elif item.is_dir() and item.name == ADAPTER_DIR:
            shutil.copytree(item, staging / item.name)
    archive = shutil.make_archive(str(out_root / folder.name), "zip", root_dir=out_root,
                                  base_dir=folder.name)
    shutil.rmtree(staging, ignore_errors=True)
    return Path(archive)
