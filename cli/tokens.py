"""The token-classification command line ("Label words"): the same loop as the app
(models/training/tokens/), printed instead of shown, its messages in the app's English words
(cli/__init__.py `say`). Settings, the base model and --register are cli/finetune.py's.

    python -m cli.tokens --data assets/samples/ner_en.conll --out runs/ner
    python -m cli.tokens --data my_spans.jsonl --out runs/ner --epochs 8 --register
    accelerate launch --multi_gpu --num_processes 2 -m cli.tokens --data ... --out ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from cli import say
from cli.finetune import _Printer, base_folder, register, training_args
from models.core.errors import UserError
from models.core.registry import Registry
from models.training.finetune.store import check_out_dir
from models.training.tokens.data import load, split
from models.training.tokens.job import save_tagger
from models.training.tokens.loop import TokenConfig, train


class _TokenPrinter(_Printer):
    """The sentence classifier's printer (steps, notices) with entity scores per epoch."""

    def on_begin(self, total_steps, n_train, n_val, labels):
        print(f"training on {n_train} sentences, validating on {n_val}; tags: {labels}; "
              f"{total_steps} steps", flush=True)

    def on_epoch(self, info):
        print(f"epoch {info.epoch}: val loss {info.val_loss:.4f}  entity precision "
              f"{info.precision:.3f}  recall {info.recall:.3f}  F1 {info.f1:.3f}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    d = TokenConfig()
    p = argparse.ArgumentParser(prog="python -m cli.tokens",
                                description="Fine-tune an encoder into an entity tagger (one tag "
                                "per word; also runs under `accelerate launch`).")
    p.add_argument("--data", required=True, help="CoNLL / IOB (word and tag per line) or JSONL "
                   "with character spans")
    training_args(p, d)
    p.add_argument("--max-length", type=int, default=d.max_length, help="word pieces per sentence")
    p.add_argument("--o-weight", type=float, default=d.o_weight,
                   help="weight of the O tag in the loss (below 1: entity words count for more)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = TokenConfig(base_model=args.base, epochs=args.epochs, learning_rate=args.lr,
                      batch_size=args.batch_size, max_length=args.max_length,
                      val_fraction=args.val_split, seed=args.seed, o_weight=args.o_weight)
    registry = Registry(Path(args.cache_dir), online=False)
    try:
        cfg.check()
        check_out_dir(Path(args.out))                 # before training, not after it
        data = load(args.data)
        for n in data.notices:
            say(n)
        folder, base_name = base_folder(registry, args.base)
        outcome = train(cfg, split(data, cfg.val_fraction, cfg.seed), folder, _TokenPrinter(),
                        cpu=args.cpu or not torch.cuda.is_available(), base_name=base_name)
    except UserError as exc:
        say(exc)
        return 2
    from accelerate import PartialState
    if PartialState().is_main_process:
        out = save_tagger(outcome, cfg, data, Path(args.out), base_key=args.base,
                          base_name=base_name, base_dir=folder)
        r = outcome.report
        print(f"best epoch {outcome.best_epoch}: entity F1 {r.f1:.3f} (precision {r.precision:.3f}, "
              f"recall {r.recall:.3f}; most-frequent-tag baseline {r.baseline_f1:.3f}); "
              f"{outcome.examples_per_s:.1f} sentences/s; saved to {out}")
        for row in r.per_type:
            print(f"  {row['type']:<14} P {row['precision']:.3f}  R {row['recall']:.3f}  "
                  f"F1 {row['f1']:.3f}  ({row['support']} entities)")
        if args.register:
            register(registry, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
