"""Fine-tuning a pre-trained encoder into a text classifier: the config, the training loop,
and the training loop.
(The job that runs it in the app is models/training/finetune/job.py; the command line is
cli/finetune.py.)

The loop, step by step: for each batch, the model gives p(y | x; θ) for every class, the loss
is the mean of −log p(yᵢ | xᵢ; θ) (cross-entropy; weighted per class when the classes are
unbalanced), backward() computes the gradients, the optimizer updates θ, and the gradients are
zeroed before the next batch (they add up otherwise). It runs on `accelerate`, so the same
code trains on the CPU, one GPU, or several GPUs under `accelerate launch -m cli.finetune`.

Defaults follow the data (`profile_data`): the maximum length covers ~95 % of the texts (in
the base model's tokens, up to 256), classes are weighted by the inverse of their size when
the biggest is IMBALANCE_RATIO times the smallest, and a dataset the base model cannot read
(Chinese text in an English vocabulary) is named as such before training starts.

The loop reports through a callback (`on_step`, `on_epoch`, `on_notice`) and checks
`should_stop()` after every step; it does not know who listens. In the app the listener is
a background job (models/core/jobs.py); on the command line, a printer. Stopping keeps the best
checkpoint so far: the model is evaluated once more at the stop and the best state is saved.

    python -m cli.finetune --data assets/samples/sentiment_en.csv \
        --text-column text --label-column label --out runs/sentiment
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from models.core.errors import Notice, UserError, check_ranges
from models.training.finetune.data import (IMBALANCE_RATIO, SETTING_LIMITS, LabelledData, Split,
                                           bad_setting, cjk_share)
from models.training.finetune.evaluate import EvalReport, evaluate
from models.training.checkpoint import EPOCH_LOOP, Checkpointer, resume_loop, save_if_due

UNK_WARN = 0.10   # warn when this share of a dataset's tokens are unknown to the base model
LENGTH_COVER = 0.95          # the suggested max length covers this share of the texts...
LENGTH_CAP = 256             # ...up to this many tokens (longer runs get slow on a CPU)
LENGTH_FLOOR = 32            # short texts still get room for a longer probe sentence
PROFILE_SAMPLE = 2000        # texts tokenized to profile a big dataset (the rest look the same)
CHINESE_BASES = "bert-base-chinese, bert-base-multilingual-cased"   # read Chinese characters


@dataclass
class FinetuneConfig:
    """Training settings. On the bundled English sample (176 sentences) the defaults give
    0.94 validation accuracy against a 0.50 baseline, 0.99 confidence on easy sentences, in
    about 90 CPU-seconds (bench/bench_finetune.py measures the real datasets)."""
    base_model: str = "minilm"      # registry key (or, on the command line, a folder)
    epochs: int = 5                 # on the sample, accuracy plateaus by epoch 4-5 (measured)
    learning_rate: float = 2e-4     # sample, 5 epochs: 2e-4 -> 0.94 (loss 0.68 -> 0.01); 1e-4
                                    # learns slowly (loss 0.70 -> 0.63 in 2 epochs); 3e-4 x 4 -> 0.89
    batch_size: int = 16            # fits a laptop's memory at max_length 64-256
    max_length: int = 64            # tokens per text; the app sets it from the data (profile_data)
    val_fraction: float = 0.2       # share of each class kept aside to measure accuracy
    seed: int = 42                  # same seed + same data = same split, init and result
    head_only: bool = False         # True: freeze the encoder, train only the new classifier
    weight_decay: float = 0.01      # the usual AdamW setting for BERT fine-tuning
    warmup_fraction: float = 0.1    # ramp the learning rate up over the first 10% of steps
    max_grad_norm: float = 1.0      # clip gradients: the random new head starts with big ones
    class_weights: str = "auto"     # "auto": weigh classes by 1/size when unbalanced; "on"; "off"

    def check(self) -> "FinetuneConfig":
        check_ranges({name: getattr(self, name) for name in SETTING_LIMITS}, SETTING_LIMITS,
                     bad_setting)
        if self.class_weights not in ("auto", "on", "off"):
            raise UserError("bad_setting", value=self.class_weights, choices="auto, on, off")
        return self


@dataclass
class DataProfile:
    """What the base model's tokenizer sees in a dataset, and the defaults that follow.

    token_p50/p95/max  token counts per text (with [CLS]/[SEP]), over up to PROFILE_SAMPLE texts
    max_length         suggested: covers LENGTH_COVER of the texts, a multiple of 16 in
                       [LENGTH_FLOOR, LENGTH_CAP]
    unk_share          share of the (non-special) tokens the vocabulary does not know
    chinese            share of texts written mostly in Chinese characters
    imbalance          biggest class / smallest class; weighted > 1 means class weights are used
    """
    n_texts: int
    token_p50: int
    token_p95: int
    token_max: int
    max_length: int
    unk_share: float
    chinese: float
    imbalance: float
    class_weights: bool

    def notices(self, base_name: str) -> list:
        """Notices of what the user should know before training."""
        out = []
        share = f"{self.unk_share:.0%}"
        if self.chinese >= 0.3 and self.unk_share >= UNK_WARN:
            out.append(Notice("chinese_base", share=share, chinese=f"{self.chinese:.0%}",
                              base=base_name, bases=CHINESE_BASES))
        elif self.unk_share >= UNK_WARN:
            out.append(Notice("unknown_tokens", share=share))
        if self.class_weights:
            out.append(Notice("class_weights", ratio=f"{self.imbalance:.1f}"))
        return out


def suggest_max_length(lengths) -> int:
    """A max length covering LENGTH_COVER of `lengths` (tokens), rounded up to a multiple of
    16 and kept in [LENGTH_FLOOR, LENGTH_CAP]."""
    if not len(lengths):
        return LENGTH_FLOOR
    ordered = sorted(int(n) for n in lengths)
    at = ordered[min(len(ordered) - 1, math.ceil(LENGTH_COVER * len(ordered)) - 1)]
    return int(min(LENGTH_CAP, max(LENGTH_FLOOR, 16 * math.ceil(at / 16))))


def wants_class_weights(counts, setting: str = "auto") -> tuple[bool, float]:
    """(weigh the classes?, biggest/smallest) for class counts (a dict or a list)."""
    values = [int(v) for v in (counts.values() if isinstance(counts, dict) else counts) if v]
    ratio = max(values) / min(values) if values else 1.0
    if setting == "on":
        return True, ratio
    return setting == "auto" and ratio >= IMBALANCE_RATIO, ratio


def profile_data(data: LabelledData, tokenizer, class_weights: str = "auto") -> DataProfile:
    """Token lengths, [UNK] share and Chinese share of `data` under `tokenizer`; a sample of
    PROFILE_SAMPLE texts (spread over the file) stands for a bigger dataset."""
    texts = list(data.texts)
    if len(texts) > PROFILE_SAMPLE:
        step = len(texts) / PROFILE_SAMPLE
        texts = [texts[int(i * step)] for i in range(PROFILE_SAMPLE)]
    ids = tokenizer(texts, truncation=True, max_length=512)["input_ids"] if texts else []
    lengths = sorted(len(x) for x in ids)
    unk = tokenizer.unk_token_id
    special = set(tokenizer.all_special_ids) - {unk}
    total = sum(1 for x in ids for t in x if t not in special)
    unknown = sum(1 for x in ids for t in x if t == unk) if unk is not None else 0
    weighted, ratio = wants_class_weights(data.counts, class_weights)

    def pct(q):
        return int(lengths[min(len(lengths) - 1, math.ceil(q * len(lengths)) - 1)]) if lengths else 0
    return DataProfile(len(data.texts), pct(0.5), pct(LENGTH_COVER), lengths[-1] if lengths else 0,
                       suggest_max_length(lengths), unknown / total if total else 0.0,
                       cjk_share(texts), ratio, weighted)


@dataclass
class StepInfo:
    step: int
    total_steps: int
    epoch: int
    loss: float
    learning_rate: float


@dataclass
class EpochInfo:
    epoch: int
    step: int
    train_loss: float               # mean training loss over the epoch's steps
    val_loss: float
    accuracy: float
    macro_f1: float
    partial: bool = False           # evaluated at a Stop in the middle of the epoch


class Callback:
    """Override what you need. Called on the main process only."""
    def on_begin(self, total_steps: int, n_train: int, n_val: int, classes: list) -> None: ...
    def on_step(self, info: StepInfo) -> None: ...
    def on_epoch(self, info: EpochInfo) -> None: ...
    def on_notice(self, code: str, message: str, **params) -> None: ...


@dataclass
class TrainOutcome:
    """What `train` returns: the model holding the best weights, and how it got there."""
    model: object
    tokenizer: object
    classes: list
    report: EvalReport              # validation report of the kept (best) weights
    best_epoch: int
    history: list                   # EpochInfo dicts
    stopped: bool
    train_seconds: float
    examples_seen: int
    initial_head: dict              # the new head's weights at step 0 (for the "before" model)
    notices: list = field(default_factory=list)

    @property
    def examples_per_s(self) -> float:
        return self.examples_seen / self.train_seconds if self.train_seconds > 0 else 0.0


class _Encoded(torch.utils.data.Dataset):
    def __init__(self, encodings: dict, labels: list):
        self.encodings, self.labels = encodings, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        item = {k: v[i] for k, v in self.encodings.items()}
        item["labels"] = self.labels[i]
        return item


def _mixed_precision(cpu: bool) -> str:
    if cpu or not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def _token_notices(tokenizer, data: Split, encodings: dict, cfg: FinetuneConfig, base_name: str,
                   callback: Callback) -> tuple[list, "torch.Tensor | None"]:
    """Notices about what the model will see (texts cut, unknown tokens, class weights) and the
    class weights to use (None when the classes are balanced enough)."""
    notices = []
    cut = sum(len(x) >= cfg.max_length for x in encodings["input_ids"])
    if cut:
        notices.append(Notice("truncated", n=cut, max_length=cfg.max_length))
    counts = [sum(1 for y in data.train_labels if y == c) for c in range(len(data.classes))]
    as_data = LabelledData(list(data.train_texts), [], list(data.classes),
                           dict(zip(data.classes, counts)))
    profile = profile_data(as_data, tokenizer, cfg.class_weights)
    notices += profile.notices(base_name)
    weights = None
    if profile.class_weights:
        n, k = sum(counts), len(counts)
        weights = torch.tensor([n / (k * max(1, c)) for c in counts], dtype=torch.float32)
    for n in notices:
        callback.on_notice(n.code, n.message, **n.params)
    return notices, weights


def train(cfg: FinetuneConfig, data: Split, base_dir: str | Path, callback: Callback | None = None,
          should_stop: Callable[[], bool] = lambda: False, cpu: bool = True,
          base_name: str | None = None,
          device_step: Callable[[], Any] = contextlib.nullcontext,
          checkpoint: Checkpointer | None = None) -> TrainOutcome:
    """Fine-tune the model in `base_dir` (a save_pretrained folder) on `data`. Each step runs
    inside `device_step()`: in the app, the device scheduler's slot for background work, so
    other users' requests get the device between two steps. With `checkpoint`, the run saves
    its state every few steps and, when the checkpoint's folder holds one, continues from it
    (models/training/checkpoint.py)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, get_linear_schedule_with_warmup)

    cfg.check()
    callback = callback or Callback()
    accelerator = Accelerator(cpu=cpu, mixed_precision=_mixed_precision(cpu))
    main = accelerator.is_main_process
    quiet = callback if main else Callback()
    set_seed(cfg.seed)
    classes = [str(c) for c in data.classes]
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        base_dir, num_labels=len(classes), id2label=dict(enumerate(classes)),
        label2id={c: i for i, c in enumerate(classes)}, output_loading_info=True,
        ignore_mismatched_sizes=True)        # a classifier as base: its old head is replaced
    if tokenizer.pad_token is None:          # encoders have one; a few tokenizers do not
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id
    new_keys = set(info.get("missing_keys") or ()) | {
        k[0] if isinstance(k, (tuple, list)) else k for k in info.get("mismatched_keys") or ()}
    initial_head = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                    if k in new_keys}
    if cfg.head_only:                        # freeze the pre-trained encoder
        for p in model.base_model.parameters():
            p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]

    train_enc = tokenizer(list(data.train_texts), truncation=True, max_length=cfg.max_length)
    val_enc = tokenizer(list(data.val_texts), truncation=True, max_length=cfg.max_length)
    notices, class_weights = _token_notices(tokenizer, data, train_enc, cfg,
                                            base_name or Path(base_dir).name, quiet)
    collate = DataCollatorWithPadding(tokenizer)    # pads each batch to its longest text
    generator = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(_Encoded(dict(train_enc), list(data.train_labels)),
                                           batch_size=cfg.batch_size, shuffle=True,
                                           collate_fn=collate, generator=generator)
    val_dl = torch.utils.data.DataLoader(_Encoded(dict(val_enc), list(data.val_labels)),
                                         batch_size=cfg.batch_size * 2, collate_fn=collate)
    # Weight decay on the weight matrices only, not on biases and LayerNorm (as BERT did).
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    try:    # fused AdamW (one kernel for all weights; Trainer's default too) where supported
        optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    total_steps = cfg.epochs * math.ceil(len(train_dl) / accelerator.num_processes)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_fraction * total_steps),
                                                total_steps)
    model, optimizer, train_dl, val_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, val_dl, scheduler)
    if class_weights is not None:
        class_weights = class_weights.to(accelerator.device)
    quiet.on_begin(total_steps, len(data.train_texts), len(data.val_texts), classes)

    def validate() -> tuple[EvalReport, float]:
        model.eval()
        logits_all, labels_all = [], []
        with torch.no_grad():
            for batch in val_dl:
                logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
                logits, labels = accelerator.gather_for_metrics((logits.float(), batch["labels"]))
                logits_all.append(logits.cpu())
                labels_all.append(labels.cpu())
        model.train()
        logits, labels = torch.cat(logits_all), torch.cat(labels_all)
        loss = torch.nn.functional.cross_entropy(logits, labels).item()
        report = evaluate(labels.numpy(), logits.softmax(-1).numpy(), data.val_texts, classes,
                          loss, data.train_labels)
        return report, loss

    history, best, best_state, best_epoch = [], None, None, 0
    step, seen, stopped, train_seconds = 0, 0, False, 0.0
    first_epoch, epoch_losses = 1, []
    resumed, order = resume_loop(checkpoint, accelerator, model, optimizer, scheduler, generator)
    if resumed is not None:
        (history, best, best_state, best_epoch, seen, first_epoch, epoch_losses,
         train_seconds) = (resumed.extra[k] for k in EPOCH_LOOP)
        step = resumed.step
        for row in history:                   # the curve of the part before the restart
            quiet.on_epoch(EpochInfo(**row))
    model.train()
    for epoch in range(first_epoch, cfg.epochs + 1):
        if epoch != first_epoch or resumed is None:
            epoch_losses = []
        started = time.perf_counter()
        for batch in order.epoch(train_dl):
            with device_step():
                labels = batch.pop("labels")
                logits = model(**batch).logits    # one score per class; softmax: p(y | x; θ)
                # mean over the batch of -log p(y_i | x_i; θ), classes weighted when unbalanced
                loss = torch.nn.functional.cross_entropy(logits.float(), labels,
                                                         weight=class_weights)
                accelerator.backward(loss)        # gradients of the loss w.r.t. every trainable θ
                if cfg.max_grad_norm:
                    accelerator.clip_grad_norm_(trainable, cfg.max_grad_norm)
                optimizer.step()                  # θ <- θ - lr * (Adam-scaled) gradient
                scheduler.step()
                optimizer.zero_grad()             # gradients add up unless reset
            step += 1
            seen += labels.shape[0] * accelerator.num_processes
            epoch_losses.append(loss.item())
            quiet.on_step(StepInfo(step, total_steps, epoch, epoch_losses[-1],
                                   scheduler.get_last_lr()[0]))
            if should_stop():
                stopped = True
                break
            save_if_due(checkpoint, accelerator, step, model, optimizer, scheduler, order,
                        lambda: dict(zip(EPOCH_LOOP, (
                            history, best, best_state, best_epoch, seen, epoch, epoch_losses,
                            train_seconds + time.perf_counter() - started))))
        train_seconds += time.perf_counter() - started
        report, val_loss = validate()
        partial = stopped and step % len(train_dl) != 0
        row = EpochInfo(epoch, step, sum(epoch_losses) / max(1, len(epoch_losses)), val_loss,
                        report.accuracy, report.macro_f1, partial)
        history.append(asdict(row))
        quiet.on_epoch(row)
        if best is None or (report.macro_f1, report.accuracy, -report.loss) > (
                best.macro_f1, best.accuracy, -best.loss):
            best, best_epoch = report, epoch
            best_state = {k: v.detach().to("cpu", copy=True)
                          for k, v in accelerator.unwrap_model(model).state_dict().items()}
        if stopped:
            break
    accelerator.wait_for_everyone()
    final = accelerator.unwrap_model(model)
    final.load_state_dict(best_state)
    final.eval()
    accelerator.free_memory()
    return TrainOutcome(final, tokenizer, classes, best, best_epoch, history, stopped,
                        train_seconds, seen, initial_head, notices)
