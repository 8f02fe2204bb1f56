"""The instruction-tuning command line: the same LoRA loop as the app (models/training/sft/),
printed instead of shown, its messages in the app's English words (cli/__init__.py `say`).

    python -m cli.sft --data assets/samples/sft_json_train.jsonl \
        --heldout assets/samples/sft_json_heldout.jsonl --out runs/json-answers [--merge]
    accelerate launch --num_processes 2 -m cli.sft --data ... --out ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from cli import say
from models.core.errors import UserError
from models.core.registry import Registry
from models.training.sft.data import SAMPLE_TRAIN, follows, read_conversations, read_heldout
from models.training.sft.loop import Callback, SFTConfig, train
from models.training.sft.store import check_out_dir, save


class _Printer(Callback):
    def __init__(self, sample: bool):
        self.sample = sample          # the bundled sample: its JSON format can be checked

    def on_begin(self, total_steps, n_train, trainable, total):
        print(f"teaching {n_train} conversations, {total_steps} steps; LoRA trains {trainable:,} "
              f"of {total:,} parameters ({trainable / total:.2%})", flush=True)

    def on_step(self, info):
        if info.step % 10 == 0 or info.step == info.total_steps:
            print(f"  step {info.step}/{info.total_steps}  loss {info.loss:.4f}", flush=True)

    def on_eval(self, info):
        line = f"held-out after step {info.step}: first answer {info.tuned[0]!r}"
        if self.sample:
            share = sum(map(follows, info.tuned)) / max(1, len(info.tuned))
            line += f"; {share:.0%} follow the sample's JSON format"
        print(line, flush=True)

    def on_notice(self, code, message, **params):
        say((code, message, params))


def parse_args(argv=None) -> argparse.Namespace:
    d = SFTConfig()
    p = argparse.ArgumentParser(prog="python -m cli.sft",
                                description="Teach a causal language model prompt/answer pairs "
                                "with LoRA (also runs under `accelerate launch`).")
    p.add_argument("--data", required=True, help="CSV (prompt, response) or JSONL (pairs or chat messages)")
    p.add_argument("--heldout", default=None, help="held-out prompts: a JSONL with 'prompt', or a "
                   "text file with one prompt a line")
    p.add_argument("--out", required=True, help="folder to save the adapter (or merged model) in")
    p.add_argument("--base", default=d.base_model, help="registry key (smollm2) or a model folder")
    p.add_argument("--rank", type=int, default=d.rank)
    p.add_argument("--alpha", type=int, default=d.alpha)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--targets", default=",".join(d.target_modules),
                   help="comma-separated weight matrices (q_proj,v_proj,...)")
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--max-length", type=int, default=d.max_length)
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--merge", action="store_true", help="merge the adapter into the weights")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even if a GPU is present")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "llm-explorer"),
                   help="the app's data folder (to find registry models, and for --register)")
    p.add_argument("--register", action="store_true",
                   help="list the saved model in the app's model registry (in --cache-dir)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = SFTConfig(base_model=args.base, rank=args.rank, alpha=args.alpha, dropout=args.dropout,
                    target_modules=tuple(t.strip() for t in args.targets.split(",") if t.strip()),
                    learning_rate=args.lr, steps=args.steps, batch_size=args.batch_size,
                    max_length=args.max_length, eval_every=args.eval_every, seed=args.seed,
                    merge=args.merge)
    registry = Registry(Path(args.cache_dir), online=False)
    try:
        cfg.check()
        check_out_dir(Path(args.out))
        data = read_conversations(args.data, seed=cfg.seed)
        for n in data.notices:
            say(n)
        heldout = []
        if args.heldout:
            path = Path(args.heldout)
            heldout = (read_heldout(path=path) if path.suffix == ".jsonl"
                       else read_heldout(path.read_text(encoding="utf-8")))
        folder, base_name = Path(args.base), Path(args.base).name
        if not (folder / "config.json").exists():
            spec = registry.get(args.base)
            folder, base_name = registry.files_dir(spec), spec.name
            if folder is None:
                raise UserError("model_missing", name=spec.name)
        outcome = train(cfg, data.examples, folder, heldout, _Printer(data.source == SAMPLE_TRAIN.name),
                        cpu=args.cpu or not torch.cuda.is_available())
    except UserError as exc:
        say(exc)
        return 2
    from accelerate import PartialState
    if PartialState().is_main_process:
        out = save(outcome, cfg, Path(args.out), Path(folder),
                   {"base_key": args.base, "base_name": base_name, "source": data.source,
                    "n_train": len(data.examples), "follows": None})
        print(f"{outcome.steps} steps, loss {outcome.losses[0]:.3f} -> {outcome.losses[-1]:.3f}, "
              f"{outcome.tokens_per_s:.0f} tokens/s; saved to {out}")
        if args.register:
            spec = registry.add_local(str(out), name=out.name)
            print(f"registered as {spec.key} in {registry.store.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
