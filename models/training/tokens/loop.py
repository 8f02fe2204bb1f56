"""Fine-tuning a pre-trained encoder into a token classifier (named entities): the config,
the alignment of word tags to word pieces, the training loop and the tagger it gives.

Words and word pieces: the tokenizer cuts "Lovelace" into `love ##lace`. The data has one tag
per word, the model gives one score vector per piece, so each word's tag goes on its **first**
piece and every other piece (and [CLS], [SEP], padding) gets -100, which the loss ignores:
the model is scored once per word, as the data is labelled. To read the model's answer, the
first piece's prediction is the word's tag.

The loop is the sentence classifier's (models/training/finetune/loop.py) with a score per
piece instead of per sentence: for each batch, p(tag | piece; θ) for every kept piece, the loss
is the mean of −log p(tagᵢ | pieceᵢ; θ) over them, backward(), an optimizer step, gradients
zeroed. It runs on `accelerate` (CPU, one GPU, several with `accelerate launch`), reports
through the same Callback, checks `should_stop()` after every step, keeps the weights of the
best epoch (entity F1 on the validation sentences) and runs each step inside `device_step()`.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from models.core.errors import check_ranges
from models.training.checkpoint import EPOCH_LOOP, Checkpointer, resume_loop, save_if_due
from models.training.finetune.data import SETTING_LIMITS, bad_setting, cjk_share
from models.training.finetune.loop import (CHINESE_BASES, UNK_WARN, Callback, StepInfo,
                                           _mixed_precision)
from models.training.tokens.data import TokenSplit
from models.training.tokens.evaluate import TokenReport, token_report

IGNORE = -100     # the label of pieces the loss skips (torch's cross_entropy ignore_index)


@dataclass
class TokenConfig:
    """Training settings. Defaults measured with MiniLM on a 2-core CPU, on real public tweets
    (bench/bench_tokens.py sweep: WNUT 2016) and on the bundled sample
    (assets/samples/ner_en.conll); README "Label words" has the figures."""
    base_model: str = "minilm"      # registry key (or, on the command line, a folder)
    epochs: int = 5                 # sample, lr 5e-4: validation F1 0.69, 0.96, 1.00 after epochs 1-3
    learning_rate: float = 5e-4     # 1e-4 is too slow for small data: on 200 WNUT tweets it still
                                    # tagged every word O (F1 0.000) after 4 epochs (bench_tokens)
    batch_size: int = 16
    max_length: int = 64            # word pieces per sentence; the sample's longest has < 40
    val_fraction: float = 0.2       # share of the sentences kept aside to measure entity F1
    seed: int = 42
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_grad_norm: float = 1.0
    o_weight: float = 0.2           # weight of the "O" tag in the loss (1: every word alike);
                                    # below 1, the few entity words count for more. On 320 WNUT
                                    # tweets (lr 5e-4, 4 epochs) 0.2 gave test entity F1 0.425
                                    # against the baseline's 0.253; with 1 (95 % of the words
                                    # are O) it tagged every word O: F1 0.000 (bench_tokens sweep)
    head_only: bool = False         # always trains the encoder too (training_bytes reads this)

    def check(self) -> "TokenConfig":
        check_ranges({name: getattr(self, name) for name in SETTING_LIMITS}, SETTING_LIMITS,
                     bad_setting)
        check_ranges({"o_weight": self.o_weight}, {"o_weight": (0.01, 1.0)}, bad_setting)
        return self


@dataclass
class TokenEpoch:
    epoch: int
    step: int
    train_loss: float
    val_loss: float
    precision: float
    recall: float
    f1: float
    partial: bool = False           # evaluated at a Stop in the middle of the epoch


@dataclass
class TokenOutcome:
    model: object
    tokenizer: object
    labels: list
    report: TokenReport             # validation report of the kept (best) weights
    best_epoch: int
    history: list
    stopped: bool
    train_seconds: float
    examples_seen: int
    notices: list = field(default_factory=list)   # (code, params): a notice without words

    @property
    def examples_per_s(self) -> float:
        return self.examples_seen / self.train_seconds if self.train_seconds > 0 else 0.0


def align_labels(word_ids: list, word_labels: list) -> list:
    """One label per piece: the word's label on its first piece, IGNORE on the other pieces of
    a word and on special tokens (word id None)."""
    out, prev = [], None
    for wid in word_ids:
        out.append(IGNORE if wid is None or wid == prev else word_labels[wid])
        prev = wid
    return out


def encode(tokenizer, words: list, tags: list | None, label2id: dict, max_length: int) -> list:
    """Examples for the collator: input_ids, attention_mask (+ labels) of each sentence."""
    enc = tokenizer([list(w) for w in words], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    rows = []
    for i in range(len(words)):
        row = {k: enc[k][i] for k in enc.keys()}
        if tags is not None:
            row["labels"] = align_labels(enc.word_ids(i), [label2id[t] for t in tags[i]])
        rows.append(row)
    return rows


def token_loss(logits, gold, class_weight=None):
    """Mean of -log p(tag | piece) over the pieces with a tag (IGNORE skipped); with
    `class_weight` (one weight per tag) the weighted mean sum_i w_i * nll_i / sum_i w_i."""
    return torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), gold.reshape(-1), weight=class_weight,
        ignore_index=IGNORE)


def first_piece_tags(logits, word_ids: list, n_words: int, id2label: dict) -> list:
    """A sentence's word tags from its pieces' scores [n_pieces, n_labels]: the first piece of
    each word decides; words cut off by the maximum length are O (not seen, so not found)."""
    tags, prev = ["O"] * n_words, None
    best = logits.argmax(-1).tolist()
    for pos, wid in enumerate(word_ids):
        if wid is not None and wid != prev and wid < n_words:
            tags[wid] = id2label[int(best[pos])]
        prev = wid
    return tags


def tag_sentences(model, tokenizer, words: list, max_length: int = 128,
                  batch_size: int = 32) -> list:
    """Word tags for sentences given as word lists, by a token-classification model."""
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    device = next(model.parameters()).device
    out = []
    model.eval()
    with torch.no_grad():
        for at in range(0, len(words), batch_size):
            chunk = [list(w) for w in words[at:at + batch_size]]
            enc = tokenizer(chunk, is_split_into_words=True, truncation=True,
                            max_length=max_length, padding=True, return_tensors="pt")
            logits = model(**{k: v.to(device) for k, v in enc.items()}).logits.float().cpu()
            for i, ws in enumerate(chunk):
                out.append(first_piece_tags(logits[i], enc.word_ids(i), len(ws), id2label))
    return out


def _notices(tokenizer, data: TokenSplit, rows: list, cfg: TokenConfig, base_name: str,
             callback: Callback) -> list:
    """What the user should know: sentences cut by the maximum length, words the vocabulary
    cannot read (Chinese in an English model)."""
    notices = []
    cut = sum(len(r["input_ids"]) >= cfg.max_length for r in rows)
    if cut:
        notices.append(("tok_truncated", {"n": cut, "max_length": cfg.max_length}))
    unk = tokenizer.unk_token_id
    special = set(tokenizer.all_special_ids) - {unk}
    pieces = [t for r in rows for t in r["input_ids"] if t not in special]
    share = sum(t == unk for t in pieces) / len(pieces) if pieces and unk is not None else 0.0
    chinese = cjk_share([" ".join(w) for w in data.train_words])
    if share >= UNK_WARN:
        pct = f"{share:.0%}"
        if chinese >= 0.3:
            notices.append(("tok_chinese_base",
                            {"share": pct, "base": base_name, "bases": CHINESE_BASES}))
        else:
            notices.append(("tok_unknown", {"share": pct}))
    for code, params in notices:          # (code, params): worded by webapp/text.py render
        callback.on_notice(code, "", **params)
    return notices


def train(cfg: TokenConfig, data: TokenSplit, base_dir: str | Path,
          callback: Callback | None = None, should_stop: Callable[[], bool] = lambda: False,
          cpu: bool = True, base_name: str | None = None,
          device_step: Callable[[], Any] = contextlib.nullcontext,
          checkpoint: Checkpointer | None = None) -> TokenOutcome:
    """Fine-tune the encoder in `base_dir` to tag the words of `data` (IOB2 tags). With
    `checkpoint`, the run saves its state every few steps and continues from a saved one
    (models/training/checkpoint.py)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import (AutoModelForTokenClassification, AutoTokenizer,
                              DataCollatorForTokenClassification, get_linear_schedule_with_warmup)

    cfg.check()
    callback = callback or Callback()
    accelerator = Accelerator(cpu=cpu, mixed_precision=_mixed_precision(cpu))
    quiet = callback if accelerator.is_main_process else Callback()
    set_seed(cfg.seed)
    labels = list(data.labels)
    label2id = {t: i for i, t in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForTokenClassification.from_pretrained(
        base_dir, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
        ignore_mismatched_sizes=True)        # a tagger as base: its old head is replaced
    train_rows = encode(tokenizer, data.train_words, data.train_tags, label2id, cfg.max_length)
    val_rows = encode(tokenizer, data.val_words, data.val_tags, label2id, cfg.max_length)
    notices = _notices(tokenizer, data, train_rows + val_rows, cfg,
                       base_name or Path(base_dir).name, quiet)
    collate = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE)
    generator = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(train_rows, batch_size=cfg.batch_size, shuffle=True,
                                           collate_fn=collate, generator=generator)
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    try:
        optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    total_steps = cfg.epochs * math.ceil(len(train_dl) / accelerator.num_processes)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_fraction * total_steps),
                                                total_steps)
    model, optimizer, train_dl, scheduler = accelerator.prepare(model, optimizer, train_dl,
                                                                scheduler)
    quiet.on_begin(total_steps, len(data.train_words), len(data.val_words), labels)

    def validate() -> TokenReport:
        """Entity scores of the current weights on the validation sentences (main process)."""
        inner = accelerator.unwrap_model(model)
        val_dl = torch.utils.data.DataLoader(val_rows, batch_size=cfg.batch_size * 2,
                                             collate_fn=collate)
        losses, weights = [], []
        inner.eval()
        with torch.no_grad():
            for batch in val_dl:
                batch = {k: v.to(accelerator.device) for k, v in batch.items()}
                gold = batch.pop("labels")
                logits = inner(**batch).logits.float()
                keep = gold != IGNORE
                if keep.any():
                    losses.append(torch.nn.functional.cross_entropy(logits[keep], gold[keep]).item())
                    weights.append(int(keep.sum()))
        predicted = tag_sentences(inner, tokenizer, data.val_words, cfg.max_length)
        model.train()
        loss = sum(l * w for l, w in zip(losses, weights)) / max(1, sum(weights))
        return token_report(data.val_words, data.val_tags, predicted, loss, data.train_words,
                            data.train_tags)

    # "O" is most words (95 % of real tweets): with o_weight < 1 the loss is the weighted mean
    # sum_i w(tag_i) * -log p(tag_i | piece_i) / sum_i w(tag_i), so entity words count for more
    class_weight = None
    if cfg.o_weight != 1.0:
        class_weight = torch.ones(len(labels), device=accelerator.device)
        class_weight[label2id["O"]] = cfg.o_weight
    history, best, best_state, best_epoch = [], None, None, 0
    step, seen, stopped, train_seconds = 0, 0, False, 0.0
    first_epoch, epoch_losses = 1, []
    resumed, order = resume_loop(checkpoint, accelerator, model, optimizer, scheduler, generator)
    if resumed is not None:
        (history, best, best_state, best_epoch, seen, first_epoch, epoch_losses,
         train_seconds) = (resumed.extra[k] for k in EPOCH_LOOP)
        step = resumed.step
        for row in history:                   # the curve of the part before the restart
            quiet.on_epoch(TokenEpoch(**row))
    model.train()
    for epoch in range(first_epoch, cfg.epochs + 1):
        if epoch != first_epoch or resumed is None:
            epoch_losses = []
        started = time.perf_counter()
        for batch in order.epoch(train_dl):
            with device_step():
                gold = batch.pop("labels")
                logits = model(**batch).logits            # [batch, pieces, tags]
                # mean of -log p(tag | piece; θ) over the first piece of each word (others: -100)
                loss = token_loss(logits, gold, class_weight)
                accelerator.backward(loss)
                if cfg.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            step += 1
            seen += gold.shape[0] * accelerator.num_processes
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
        with device_step():
            report = validate()
        partial = stopped and step % len(train_dl) != 0
        row = TokenEpoch(epoch, step, sum(epoch_losses) / max(1, len(epoch_losses)), report.loss,
                         report.precision, report.recall, report.f1, partial)
        history.append(asdict(row))
        quiet.on_epoch(row)
        if best is None or (report.f1, -report.loss) > (best.f1, -best.loss):
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
    return TokenOutcome(final, tokenizer, labels, best, best_epoch, history, stopped,
                        train_seconds, seen, notices)
