"""Instruction tuning with LoRA: teach a causal language model a behaviour from prompt/answer
pairs. The config, how a conversation becomes tokens and a loss mask, and the training loop.

LoRA (Hu et al. 2021, https://arxiv.org/abs/2106.09685): every chosen weight matrix W of the
frozen model gets a small trainable detour, W x + (alpha / r) · B A x, with A (r × in) and
B (out × r); B starts at zero, so before the first step the model is exactly the base. Only A
and B are trained: for SmolLM2-135M with rank 8 on the attention projections that is well under
1 % of the weights. The library is `peft`.

The loss is the usual next-token cross-entropy, −Σ log p(token | tokens before it), but only on
the tokens the assistant writes (its answer and the end-of-turn mark): the chat template's
system and user parts are the question, not something to learn, so their labels are -100
(ignored). `encode` returns the mask; the tab shows which tokens count.

The loop runs on `accelerate`, so the same code trains on the CPU, one GPU, or several GPUs
under `accelerate launch -m cli.sft`. It reports through a callback (`on_begin`,
`on_step`, `on_eval` with the held-out prompts answered by the base and the tuned model,
`on_notice`) and checks `should_stop()` after every step; a stop keeps the adapter as trained
so far. Each step and each evaluation runs inside `device_step()` (in the app: the device
scheduler's slot for background work, models/core/scheduler.py).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from models.core.errors import Notice, UserError, check_ranges
from models.training.checkpoint import Checkpointer, resume_loop, save_if_due

IGNORE = -100                 # label of a token that does not count in the loss
ALL_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PLAIN_USER, PLAIN_ASSISTANT = "### Question:\n", "\n### Answer:\n"   # models with no chat template

LIMITS = {"rank": (1, 256), "alpha": (1, 1024), "dropout": (0.0, 0.5),
          "learning_rate": (1e-6, 1e-1), "steps": (1, 5000), "batch_size": (1, 64),
          "max_length": (16, 4096), "eval_every": (1, 5000), "max_new_tokens": (4, 256),
          "seed": (0, 2**31 - 1)}


def bad_setting(name: str, value, low, high) -> UserError:
    return UserError("sft_bad_setting", name=name, value=value, low=low, high=high)


@dataclass
class SFTConfig:
    """Training settings. The defaults were chosen by measurement on the bundled sample with
    SmolLM2-135M-Instruct on a 2-core CPU (bench/bench_sft.py; README "Teach the language
    model (LoRA)" lists the alternatives measured)."""
    base_model: str = "smollm2"       # registry key (or, on the command line, a folder)
    rank: int = 8                     # r: the width of the detour B A
    alpha: int = 16                   # scale alpha / r = 2: the usual choice with r = 8
    dropout: float = 0.05             # dropout on the detour's input (regularises a little)
    target_modules: tuple = ("q_proj", "v_proj")   # which weight matrices get a detour
    learning_rate: float = 2e-3       # LoRA takes a larger step than full fine-tuning; loss on
                                      # the sample 3.1 -> 0.3 in 30 steps
    steps: int = 30                   # optimizer steps: 30 gave 43 of 46 held-out answers in the
                                      # sample's format (base: 0); a 60-step run did not finish here
    batch_size: int = 8               # pairs per step
    max_length: int = 256             # tokens per conversation (template included)
    eval_every: int = 20              # answer the held-out prompts every this many steps
    max_new_tokens: int = 24          # held-out answers: a JSON line of the sample is <= 20 tokens
    seed: int = 0                     # same seed + same data = same result
    merge: bool = False               # save: False keeps the adapter apart, True merges it
    warmup_fraction: float = 0.1      # ramp the learning rate up over the first 10 % of steps
    max_grad_norm: float = 1.0        # clip gradients

    def check(self) -> "SFTConfig":
        check_ranges({name: getattr(self, name) for name in LIMITS}, LIMITS, bad_setting)
        targets = tuple(self.target_modules or ())
        if not targets:
            raise UserError("sft_no_targets")
        self.target_modules = targets
        return self


# ---- conversations -> tokens and the loss mask ----------------------------------------------
def has_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    """The conversation as the model reads it: its chat template, or a plain Question/Answer
    layout for a model without one."""
    if has_template(tokenizer):
        return tokenizer.apply_chat_template(messages, tokenize=False,
                                             add_generation_prompt=generation_prompt)
    parts = []
    for m in messages:
        if m["role"] == "assistant":
            parts.append(PLAIN_ASSISTANT + m["content"] + (tokenizer.eos_token or "") + "\n")
        else:
            parts.append(PLAIN_USER + m["content"])
    text = "".join(parts)
    return text + PLAIN_ASSISTANT if generation_prompt else text


def prompt_text(tokenizer, prompt: str) -> str:
    """What the model reads before it answers `prompt` (the same layout as training)."""
    return render(tokenizer, [{"role": "user", "content": prompt}], generation_prompt=True)


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one conversation: labels equal the ids on the assistant's tokens
    and IGNORE everywhere else. Each assistant turn spans from the end of the prompt that asks
    for it (template up to "assistant\\n") to the end of the template with that turn added."""
    ids = _ids(tokenizer, render(tokenizer, messages))
    labels = [IGNORE] * len(ids)
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = len(_ids(tokenizer, render(tokenizer, messages[:i], generation_prompt=True)))
        end = len(_ids(tokenizer, render(tokenizer, messages[:i + 1])))
        for k in range(start, min(end, len(ids))):
            labels[k] = ids[k]
    return ids, labels


def encode_all(tokenizer, examples: list, max_length: int) -> tuple[list, list[Notice]]:
    """Encode every conversation; one longer than max_length is left out with a notice (its
    answer would be cut, and the model would learn to stop mid-answer). None fits: UserError."""
    kept, too_long = [], []
    for n, messages in enumerate(examples, start=1):
        ids, labels = encode(tokenizer, messages)
        if len(ids) > max_length:
            too_long.append((n, len(ids)))
        elif any(x != IGNORE for x in labels):
            kept.append((ids, labels))
    notices = []
    if too_long and not kept:
        longest = max(k for _, k in too_long)
        raise UserError("sft_too_long", max_length=max_length, longest=longest)
    if too_long:
        shown = ", ".join(str(n) for n, _ in too_long[:5]) + (" …" if len(too_long) > 5 else "")
        notices.append(Notice("sft_cut_rows", n=len(too_long), max_length=max_length, rows=shown))
    return kept, notices


def mask_view(tokenizer, messages: list[dict]) -> list[tuple[str, bool]]:
    """(token text, counts in the loss) for each token of a conversation: what the tab shows."""
    ids, labels = encode(tokenizer, messages)
    return [(tokenizer.decode([i]), lab != IGNORE) for i, lab in zip(ids, labels)]


def collate(batch: list, pad_id: int) -> dict:
    """Pad a batch on the right to its longest conversation; padding never counts."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(batch):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        labels[row, :len(labs)] = torch.tensor(labs)
        mask[row, :len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


# ---- LoRA --------------------------------------------------------------------------------
def linear_names(model) -> list[str]:
    """The kinds of linear layers inside the model's blocks (q_proj, v_proj, c_attn, ...)."""
    names = []
    for full, module in model.named_modules():
        inside_block = ".layers." in f".{full}." or ".h." in f".{full}."
        if isinstance(module, torch.nn.Linear) and inside_block:
            short = full.rsplit(".", 1)[-1]
            if short not in names:
                names.append(short)
    return names


def lora_config(cfg: SFTConfig):
    from peft import LoraConfig, TaskType
    return LoraConfig(r=int(cfg.rank), lora_alpha=int(cfg.alpha), lora_dropout=float(cfg.dropout),
                      target_modules=list(cfg.target_modules), bias="none",
                      task_type=TaskType.CAUSAL_LM)


def check_targets(model, cfg: SFTConfig) -> None:
    have = linear_names(model)
    missing = [t for t in cfg.target_modules if t not in have]
    if missing:
        raise UserError("sft_bad_targets", missing=", ".join(missing), have=", ".join(have))


def count_lora(config: dict, cfg: SFTConfig) -> tuple[int, int]:
    """(trainable LoRA parameters, all parameters of the base) from a Llama-style config.json,
    without loading the model: each adapted matrix W (out × in) adds r·(in + out)."""
    h = int(config.get("hidden_size", 0))
    layers = int(config.get("num_hidden_layers", 0))
    heads = int(config.get("num_attention_heads", 1))
    kv = int(config.get("num_key_value_heads", heads))
    head_dim = int(config.get("head_dim") or h // max(1, heads))
    ff = int(config.get("intermediate_size", 4 * h))
    shapes = {"q_proj": (h, heads * head_dim), "k_proj": (h, kv * head_dim),
              "v_proj": (h, kv * head_dim), "o_proj": (heads * head_dim, h),
              "gate_proj": (h, ff), "up_proj": (h, ff), "down_proj": (ff, h)}
    lora = layers * sum(cfg.rank * sum(shapes[t]) for t in cfg.target_modules if t in shapes)
    vocab = int(config.get("vocab_size", 0))
    per_layer = sum(a * b for a, b in shapes.values()) + 2 * h
    total = vocab * h * (1 if config.get("tie_word_embeddings", True) else 2) + layers * per_layer + h
    return lora, total


# ---- the loop ----------------------------------------------------------------------------
@dataclass
class StepInfo:
    step: int
    total_steps: int
    epoch: int
    loss: float                    # mean −log p over the batch's answer tokens
    learning_rate: float
    tokens: int                    # tokens in the batch (padding excluded)
    answer_tokens: int             # of which count in the loss


@dataclass
class EvalInfo:
    step: int
    prompts: list
    base: list                     # the base model's answers (same every time)
    tuned: list                    # the tuned model's answers at this step


class Callback:
    """Override what you need. Called on the main process only."""
    def on_begin(self, total_steps: int, n_train: int, trainable: int, total: int) -> None: ...
    def on_step(self, info: StepInfo) -> None: ...
    def on_eval(self, info: EvalInfo) -> None: ...
    def on_notice(self, code: str, message: str, **params) -> None: ...


@dataclass
class TrainOutcome:
    """What `train` returns: the PEFT model (base + adapter as trained) and how it got there."""
    model: Any
    tokenizer: Any
    steps: int
    losses: list
    stopped: bool
    train_seconds: float           # training steps only (evaluations excluded)
    tokens_seen: int
    examples_seen: int
    trainable: int
    total: int
    evals: list = field(default_factory=list)
    notices: list = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_seen / self.train_seconds if self.train_seconds > 0 else 0.0


def load_causal(base_dir: str | Path, cpu: bool = True):
    """(model in fp32, tokenizer) of a causal LM folder; UserError for another kind of model."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    config = AutoConfig.from_pretrained(base_dir)
    archs = " ".join(getattr(config, "architectures", None) or [])
    if getattr(config, "is_encoder_decoder", False) or not (
            "ForCausalLM" in archs or "LMHeadModel" in archs):
        raise UserError("sft_not_causal", name=Path(str(base_dir)).name)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    return model, tokenizer


@torch.no_grad()
def answer(model, tokenizer, prompts: list[str], max_new_tokens: int = 32,
           batch_size: int = 8, stop: Callable[[], bool] = lambda: False) -> list[str] | None:
    """Greedy answers to `prompts` (the training layout; left padding, in batches); None when
    `stop()` turns True between two batches (a Stop pressed during an evaluation)."""
    if not prompts:
        return []
    was_training = model.training
    model.eval()
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    out = []
    try:
        device = next(model.parameters()).device
        for i in range(0, len(prompts), batch_size):
            if stop():
                return None
            texts = [prompt_text(tokenizer, p) for p in prompts[i:i + batch_size]]
            enc = tokenizer(texts, add_special_tokens=False, return_tensors="pt", padding=True)
            enc = {k: v.to(device) for k, v in enc.items()}
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
            width = enc["input_ids"].shape[1]
            out += [tokenizer.decode(row[width:], skip_special_tokens=True).strip()
                    for row in gen]
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out


def _mixed_precision(cpu: bool) -> str:
    if cpu or not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def train(cfg: SFTConfig, examples: list, base_dir: str | Path, heldout: list[str] | None = None,
          callback: Callback | None = None, should_stop: Callable[[], bool] = lambda: False,
          cpu: bool = True, device_step: Callable[[], Any] = contextlib.nullcontext,
          checkpoint: Checkpointer | None = None) -> TrainOutcome:
    """Teach the causal LM in `base_dir` the conversations in `examples` (lists of messages)
    with a LoRA adapter. `heldout` prompts are answered by the base (once) and the tuned model
    (every cfg.eval_every steps and at the end, unless stopped: a Stop ends the run within one
    step, and an evaluation under way is dropped). With `checkpoint`, the run saves its state
    every few steps and continues from a saved one (models/training/checkpoint.py)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from peft import get_peft_model
    from transformers import get_linear_schedule_with_warmup

    cfg.check()
    callback = callback or Callback()
    accelerator = Accelerator(cpu=cpu, mixed_precision=_mixed_precision(cpu))
    quiet = callback if accelerator.is_main_process else Callback()
    set_seed(cfg.seed)
    model, tokenizer = load_causal(base_dir, cpu)
    check_targets(model, cfg)
    data, notices = encode_all(tokenizer, examples, cfg.max_length)
    for n in notices:
        quiet.on_notice(n.code, n.message, **n.params)
    model = get_peft_model(model, lora_config(cfg))
    trainable, total = model.get_nb_trainable_parameters()
    pad = tokenizer.pad_token_id
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = torch.utils.data.DataLoader(
        data, batch_size=cfg.batch_size, shuffle=True, drop_last=False,
        collate_fn=lambda b: collate(b, pad), generator=generator)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_fraction * cfg.steps),
                                                cfg.steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    quiet.on_begin(cfg.steps, len(data), trainable, total)
    heldout = list(heldout or [])
    evals, base_answers = [], None

    def evaluate(step: int) -> None:
        nonlocal base_answers
        if not heldout or not accelerator.is_main_process:
            return
        inner = accelerator.unwrap_model(model)
        with device_step():
            if base_answers is None:
                with inner.disable_adapter():          # the same weights without the detour
                    base_answers = answer(inner, tokenizer, heldout, cfg.max_new_tokens,
                                          stop=should_stop)
            # before the first step B = 0: the tuned model is exactly the base
            tuned = (list(base_answers or []) if step == 0 else
                     answer(inner, tokenizer, heldout, cfg.max_new_tokens, stop=should_stop))
        if base_answers is None or tuned is None:      # stopped during the evaluation
            return
        info = EvalInfo(step, heldout, list(base_answers), tuned)
        evals.append(asdict(info))
        quiet.on_eval(info)

    step, epoch, losses, stopped = 0, 0, [], False
    seen_tokens = seen_examples = 0
    train_seconds = 0.0
    resumed, order = resume_loop(checkpoint, accelerator, model, optimizer, scheduler, generator)
    if resumed is None:
        evaluate(0)
    else:
        x = resumed.extra
        step, epoch, losses, evals[:], base_answers = (resumed.step, x["epoch"] - 1, x["losses"],
                                                       x["evals"], x["base_answers"])
        seen_tokens, seen_examples, train_seconds = (x["seen_tokens"], x["seen_examples"],
                                                     x["train_seconds"])
        for row in evals:                     # the answers of the part before the restart
            quiet.on_eval(EvalInfo(**row))
    model.train()
    while step < cfg.steps and not stopped:
        epoch += 1
        for batch in order.epoch(loader):
            started = time.perf_counter()
            with device_step():
                # mean over the answer tokens of −log p(token | everything before it)
                loss = model(**batch, use_cache=False).loss   # no key/value cache while training
                accelerator.backward(loss)
                if cfg.max_grad_norm:
                    accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()                   # only A and B move; W stays frozen
                scheduler.step()
                optimizer.zero_grad()
            train_seconds += time.perf_counter() - started
            step += 1
            tokens = int(batch["attention_mask"].sum()) * accelerator.num_processes
            counted = int((batch["labels"] != IGNORE).sum())
            seen_tokens += tokens
            seen_examples += batch["input_ids"].shape[0] * accelerator.num_processes
            losses.append(float(loss.item()))
            quiet.on_step(StepInfo(step, cfg.steps, epoch, losses[-1], scheduler.get_last_lr()[0],
                                   tokens, counted))
            if should_stop():
                stopped = True
            if stopped or step >= cfg.steps:
                break
            if cfg.eval_every and step % cfg.eval_every == 0:
                evaluate(step)
            save_if_due(checkpoint, accelerator, step, model, optimizer, scheduler, order,
                        lambda: {"epoch": epoch, "losses": losses, "evals": evals,
                                 "base_answers": base_answers, "seen_tokens": seen_tokens,
                                 "seen_examples": seen_examples, "train_seconds": train_seconds})
    if not stopped:
        evaluate(step)
    accelerator.wait_for_everyone()
    final = accelerator.unwrap_model(model)
    final.eval()
    return TrainOutcome(final, tokenizer, step, losses, stopped, train_seconds, seen_tokens,
                        seen_examples, trainable, total, evals, notices)


def settings(cfg: SFTConfig) -> dict:
    d = asdict(cfg)
    d["target_modules"] = list(cfg.target_modules)
    return d
