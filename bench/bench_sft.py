"""Teach the language model (LoRA), measured (README "Teach the language model (LoRA)").

1. Behaviour: SmolLM2-135M-Instruct is taught the bundled sample (assets/samples/sft_json_train.jsonl,
   231 pairs) with the app's defaults (models/training/sft/loop.py SFTConfig); the share of the
   46 held-out prompts (assets/samples/sft_json_heldout.jsonl) whose greedy answer follows the taught
   format (models/training/sft/data.py `follows`) is counted for the base and the tuned model,
   and how many also give the right answer. Goal: base <= 20 %, tuned >= 90 %.
2. Speed: the app's loop against trl's SFTTrainer with the same model, data, LoRA settings,
   batch size and learning rate, the same number of steps, each in its own process (so the peak
   memory is that run's own: ru_maxrss). Goal: examples/s app / trl >= 1.0.

    .venv/bin/python -m bench.bench_sft                      # both parts
    .venv/bin/python -m bench.bench_sft --part speed --speed-steps 10
    .venv/bin/python -m bench.bench_sft --steps 40 --lr 2e-3 --rank 8 --targets q_proj,v_proj
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace

from bench.common import CACHE, save, table


def base_dir() -> str:
    from bench.common import manager
    m = manager(CACHE)
    spec = m.registry.get("smollm2")
    if m.registry.files_dir(spec) is None:
        m.load("smollm2")                         # one-time GGUF -> safetensors conversion
    return str(m.registry.files_dir(spec))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # KiB on Linux


def config(args):
    from models.training.sft.loop import SFTConfig
    d = SFTConfig()
    return replace(d, rank=args.rank or d.rank, alpha=args.alpha or d.alpha,
                   learning_rate=args.lr or d.learning_rate, steps=args.steps or d.steps,
                   batch_size=args.batch or d.batch_size,
                   target_modules=tuple(args.targets.split(",")) if args.targets else d.target_modules)


def child_ours(args) -> dict:
    """The app's loop; with --eval the held-out answers of base and tuned are scored."""
    from models.training.sft.data import SAMPLE_TRAIN, follows, read_conversations, right_answer, sample_heldout
    from models.training.sft.loop import train
    cfg = config(args)
    held = sample_heldout() if args.eval else []
    if not args.eval:
        cfg = replace(cfg, steps=args.speed_steps)        # no held-out prompts: no evaluation
    data = read_conversations(SAMPLE_TRAIN)
    started = time.perf_counter()
    out = train(cfg, data.examples, args.base, [h["prompt"] for h in held])
    row = {"run": "app", "steps": out.steps, "train_s": round(out.train_seconds, 1),
           "examples_per_s": out.examples_seen / out.train_seconds,
           "tokens_per_s": out.tokens_per_s, "loss_first": out.losses[0], "loss_last": out.losses[-1],
           "trainable": out.trainable, "peak_mb": peak_mb(),
           "wall_s": round(time.perf_counter() - started, 1)}
    if held:
        last, first = out.evals[-1], out.evals[0]
        n = len(held)
        row.update(base_follows=sum(map(follows, first["base"])) / n,
                   tuned_follows=sum(map(follows, last["tuned"])) / n,
                   tuned_right=sum(right_answer(a, h["answer"]) for a, h in zip(last["tuned"], held)) / n,
                   base_examples=first["base"][:3], tuned_examples=last["tuned"][:3])
    return row


def child_trl(args) -> dict:
    """trl's SFTTrainer, same model / data / LoRA / batch / learning rate / steps; prompt-completion
    conversations, so it applies the chat template and counts the completion only."""
    import datasets
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig as TrlConfig, SFTTrainer

    from models.training.sft.data import SAMPLE_TRAIN, read_conversations
    cfg = config(args)
    data = read_conversations(SAMPLE_TRAIN)
    rows = [{"prompt": ex[:-1], "completion": ex[-1:]} for ex in data.examples]
    tok = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    targs = TrlConfig(output_dir=str(CACHE / "trl-out"), max_steps=args.speed_steps,
                      per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                      lr_scheduler_type="linear", warmup_steps=int(cfg.warmup_fraction * cfg.steps),
                      max_length=cfg.max_length, packing=False, report_to="none", logging_steps=1,
                      save_strategy="no", use_cpu=not torch.cuda.is_available(), seed=cfg.seed,
                      dataloader_num_workers=0, max_grad_norm=cfg.max_grad_norm,
                      weight_decay=0.0, disable_tqdm=True)
    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                      target_modules=list(cfg.target_modules), bias="none", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=targs, train_dataset=datasets.Dataset.from_list(rows),
                         processing_class=tok, peft_config=lora)
    started = time.perf_counter()
    out = trainer.train()
    seconds = out.metrics.get("train_runtime") or (time.perf_counter() - started)
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    return {"run": "trl SFTTrainer", "steps": args.speed_steps, "train_s": round(seconds, 1),
            "examples_per_s": args.speed_steps * cfg.batch_size / seconds, "tokens_per_s": None,
            "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None,
            "trainable": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
            "peak_mb": peak_mb(), "wall_s": round(time.perf_counter() - started, 1)}


def run_child(which: str, args, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_sft", "--child", which, "--base", args.base,
           "--speed-steps", str(args.speed_steps)] + extra
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{which} failed: {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.bench_sft")
    p.add_argument("--part", choices=["all", "behaviour", "speed"], default="all")
    p.add_argument("--speed-steps", type=int, default=10)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--rank", type=int, default=None)
    p.add_argument("--alpha", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--targets", default=None)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--eval", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--base", default=None, help=argparse.SUPPRESS)
    p.add_argument("--tag", default="", help="a suffix for the results file (a measured alternative)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse(argv if argv is not None else [])
    if args.child:
        print(json.dumps(child_ours(args) if args.child == "ours" else child_trl(args), default=str))
        return
    args.base = args.base or base_dir()
    extra = sum(([f"--{k.replace('_', '-')}", str(v)] for k, v in
                 (("steps", args.steps), ("lr", args.lr), ("rank", args.rank),
                  ("alpha", args.alpha), ("batch", args.batch), ("targets", args.targets))
                 if v is not None), [])
    rows, summary = [], {}
    if args.part in ("all", "behaviour"):
        row = run_child("ours", args, extra + ["--eval"])
        rows.append(row)
        summary.update(base_follows=row["base_follows"], tuned_follows=row["tuned_follows"],
                       tuned_right=row["tuned_right"], goal_base=row["base_follows"] <= 0.20,
                       goal_tuned=row["tuned_follows"] >= 0.90)
        print(f"held-out prompts following the format: base {row['base_follows']:.0%}, tuned "
              f"{row['tuned_follows']:.0%} (right answers {row['tuned_right']:.0%}); "
              f"{row['steps']} steps in {row['train_s']} s")
    if args.part in ("all", "speed"):
        ours = run_child("ours", args, extra)
        ref = run_child("trl", args, extra)
        rows += [ours, ref]
        summary.update(speed_ratio=ours["examples_per_s"] / ref["examples_per_s"],
                       peak_mb_app=ours["peak_mb"], peak_mb_trl=ref["peak_mb"])
        print(f"examples/s app {ours['examples_per_s']:.2f} vs trl {ref['examples_per_s']:.2f}: "
              f"ratio {summary['speed_ratio']:.2f}; peak memory {ours['peak_mb']:.0f} MB vs "
              f"{ref['peak_mb']:.0f} MB")
    table([{k: v for k, v in r.items() if not k.endswith("examples")} for r in rows])
    save("bench_sft" + (f"_{args.tag}" if args.tag else ""), rows, summary=summary,
         command="python -m bench.bench_sft " + " ".join(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
