"""The fine-tuning command line: the same loop as the app (models/training/finetune/), printed
instead of shown, its messages in the app's English words (cli/__init__.py `say`).

    python -m cli.finetune --data assets/samples/sentiment_en.csv \
        --text-column text --label-column label --out runs/sentiment
    accelerate launch --multi_gpu --num_processes 2 -m cli.finetune --data ... --out ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from cli import say
from models.core.errors import UserError
from models.core.registry import Registry
from models.training.finetune.data import load, split
from models.training.finetune.loop import (LENGTH_CAP, LENGTH_COVER, Callback, FinetuneConfig,
                                           profile_data, train)
from models.training.finetune.store import check_out_dir, save_model


class _Printer(Callback):
    def on_begin(self, total_steps, n_train, n_val, classes):
        print(f"training on {n_train} examples, validating on {n_val}; classes: {classes}; "
              f"{total_steps} steps", flush=True)

    def on_step(self, info):
        if info.step % 10 == 0 or info.step == info.total_steps:
            print(f"  step {info.step}/{info.total_steps}  epoch {info.epoch}  loss {info.loss:.4f}",
                  flush=True)

    def on_epoch(self, info):
        print(f"epoch {info.epoch}: val loss {info.val_loss:.4f}  accuracy {info.accuracy:.3f}  "
              f"macro-F1 {info.macro_f1:.3f}", flush=True)

    def on_notice(self, code, message, **params):
        say((code, message, params))


def training_args(p: argparse.ArgumentParser, d) -> None:
    """The settings every encoder fine-tuning command line has (this one and cli/tokens.py);
    `d` is the loop's config, whose fields give the defaults."""
    p.add_argument("--out", required=True, help="folder to save the fine-tuned model in")
    p.add_argument("--base", default=d.base_model, help="registry key (minilm) or a model folder")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--val-split", type=float, default=d.val_fraction)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--cpu", action="store_true", help="train on the CPU even if a GPU is present")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "llm-explorer"),
                   help="the app's data folder (to find registry models, and for --register)")
    p.add_argument("--register", action="store_true",
                   help="list the saved model in the app's model registry (in --cache-dir)")


def base_folder(registry: Registry, base: str) -> tuple[Path, str]:
    """(folder, name) of the base model: a folder holding config.json, or a registry key."""
    folder = Path(base)
    if (folder / "config.json").exists():
        return folder, folder.name
    spec = registry.get(base)
    folder = registry.files_dir(spec)
    if folder is None:
        raise UserError("model_missing", name=spec.name)
    return folder, spec.name


def register(registry: Registry, out: Path) -> None:
    """--register: list the saved model in the app's registry, and say where."""
    spec = registry.add_local(str(out), name=out.name)
    print(f"registered as {spec.key} in {registry.store.path}")


def parse_args(argv=None) -> argparse.Namespace:
    d = FinetuneConfig()
    p = argparse.ArgumentParser(prog="python -m cli.finetune",
                                description="Fine-tune an encoder into a text classifier "
                                "(also runs under `accelerate launch` for several GPUs).")
    p.add_argument("--data", required=True, help="CSV, TSV, JSON, JSONL, Parquet or XLSX file")
    p.add_argument("--text-column", default=None, help="column with the texts (default: guessed)")
    p.add_argument("--label-column", default=None, help="column with the labels (default: guessed)")
    training_args(p, d)
    p.add_argument("--max-length", type=int, default=None,
                   help=f"tokens per text (default: covers {LENGTH_COVER:.0%} of the texts, "
                   f"up to {LENGTH_CAP})")
    p.add_argument("--head-only", action="store_true", help="train only the classifier head")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = FinetuneConfig(base_model=args.base, epochs=args.epochs, learning_rate=args.lr,
                         batch_size=args.batch_size, max_length=args.max_length or 64,
                         val_fraction=args.val_split, seed=args.seed, head_only=args.head_only)
    registry = Registry(Path(args.cache_dir), online=False)
    try:
        cfg.check()
        check_out_dir(Path(args.out))                 # before training, not after it
        data = load(args.data, args.text_column, args.label_column, seed=cfg.seed)
        for n in data.notices:
            say(n)
        folder, base_name = base_folder(registry, args.base)
        if args.max_length is None:                   # as the app does: follow the data
            from transformers import AutoTokenizer
            cfg.max_length = profile_data(data, AutoTokenizer.from_pretrained(folder)).max_length
            print(f"max length {cfg.max_length} (covers {LENGTH_COVER:.0%} of the texts)")
        outcome = train(cfg, split(data, cfg.val_fraction, cfg.seed), folder, _Printer(),
                        cpu=args.cpu or not torch.cuda.is_available(), base_name=base_name)
    except UserError as exc:
        say(exc)
        return 2
    from accelerate import PartialState
    if PartialState().is_main_process:
        out = save_model(outcome, cfg, data, Path(args.out), base_key=args.base, base_name=base_name,
                         base_dir=folder)
        r = outcome.report
        print(f"best epoch {outcome.best_epoch}: accuracy {r.accuracy:.3f} (majority baseline "
              f"{r.majority_baseline:.3f}), macro-F1 {r.macro_f1:.3f}; "
              f"{outcome.examples_per_s:.1f} examples/s; saved to {out}")
        if args.register:
            register(registry, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
