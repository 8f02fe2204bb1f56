"""Pre-train a tiny GPT from scratch on the user's corpus, as a background job.

Stages, each visible in the UI:
  1. corpus      plain UTF-8 text (bundled or uploaded), checked: not empty, not binary, enough
  2. tokenizer   a byte-level BPE trained on that corpus with the `tokenizers` library (so any
                 language works: every byte is in the base alphabet)
  3. model       a small GPT-2 (default 2 layers, width 128, 4 heads), random weights
  4. training    plain torch loop: random windows of `block_size` tokens, next-token
                 cross-entropy, AdamW with warm-up and cosine decay; loss events every few
                 steps and a generated sample every `sample_every` steps (step 0 included, so
                 students see the gibberish first)
  5. saving      save_pretrained + tokenizer (+ optimizer state for resume) into
                 <cache_dir>/pretrained/<name>, registered with the model manager so the
                 Generate and Attention tabs can use it

Stages 1 and 2 live in models/training/pretrain/data.py (re-exported here).
Stop = cancel the job: it saves where it is; resume = a new job that continues from the save.
In the app the job also keeps a checkpoint every few steps (models/training/checkpoint.py), so
a job cut off by a server restart is resumed from it (models/core/jobs.py `resume`, `rebuild`).
Reference: Karpathy's nanoGPT (train.py) for the loop and the learning-rate schedule.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from models.core.accounts import user_folder
from models.core.errors import UserError, check_ranges
from models.core.files import atomic_folder, model_params, read_json, slug
from models.runners.token_text import whole_characters
from models.training.checkpoint import Checkpointer
from models.training.pretrain.data import (MIN_CORPUS_CHARS, Corpus, bundled_corpora, check_corpus,  # noqa: F401
                            encode_corpus, read_corpus, train_tokenizer)

MAX_STEPS = 20_000             # a cap so a typo cannot start a day-long job
STATE_FILE = "training_state.pt"
CORPUS_FILE = "corpus.txt"
CONFIG_FILE = "pretrain_config.json"
# What the job reports as its phase (job.message): a key, worded by the UI ("pre.phase.<key>").
PHASES = ("tokenizer", "loading", "training", "saving", "done", "stopped")




# Bounds that keep a run small enough for a laptop and reject typos (check_ranges).
LIMITS = {"n_layer": (1, 12), "n_embd": (16, 768), "n_head": (1, 16), "block_size": (8, 512),
          "vocab_size": (300, 32_000), "batch_size": (1, 128), "learning_rate": (1e-5, 0.1),
          "steps": (1, MAX_STEPS), "sample_every": (1, MAX_STEPS), "sample_tokens": (1, 256),
          "seed": (0, 2**31), "report_every": (1, 1000)}


def _bad_setting(name: str, value, lo: float, hi: float) -> UserError:
    return UserError("pre_bad_setting", field=name, lo=f"{lo:g}", hi=f"{hi:g}", value=repr(value))


@dataclass
class PretrainConfig:
    name: str = "tiny-gpt"
    n_layer: int = 2             # two blocks already learn word shapes in minutes on a CPU
    n_embd: int = 128            # width; ~0.7M parameters with the default vocabulary
    n_head: int = 4
    block_size: int = 64         # training context: long enough for a sentence
    vocab_size: int = 2000       # BPE target; a small corpus may stop earlier
    batch_size: int = 16         # 16 x 64 = 1024 tokens per step
    learning_rate: float = 3e-3  # tiny models tolerate (and need) a high rate
    steps: int = 300             # ~1-2 minutes on a 2-core laptop; the bundled corpus shows
                                 # words by step ~100 and is memorised by ~300
    sample_every: int = 25
    sample_tokens: int = 48
    sample_prompt: str = ""      # empty: start from the document separator
    seed: int = 0
    report_every: int = 5

    def check(self) -> "PretrainConfig":
        check_ranges({name: getattr(self, name) for name in LIMITS}, LIMITS, _bad_setting)
        if self.n_embd % self.n_head:
            raise UserError("pre_heads_divide", width=self.n_embd, heads=self.n_head)
        if not slug(self.name):
            raise UserError("pre_bad_name")
        return self

    @classmethod
    def from_dict(cls, data: dict) -> "PretrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class PretrainResult:
    name: str
    key: str                     # registry key: use it in the Generate and Attention tabs
    path: str
    steps_done: int
    total_steps: int
    first_loss: float
    final_loss: float
    tokens_seen: int
    seconds: float
    stopped: bool
    vocab_size: int
    n_params: int
    samples: list = field(default_factory=list)   # [(step, text)]


def model_dir(cache_dir: Path, name: str) -> Path:
    """The folder of the run called `name`: pretrained/<slug(name)>, or a run saved under an
    earlier naming rule, found by the name its settings file recorded."""
    root = user_folder(Path(cache_dir) / "pretrained")    # classroom: each user's own runs
    folder = root / slug(name)
    if not folder.exists() and root.exists():
        for settings in root.glob(f"*/{CONFIG_FILE}"):
            if not settings.parent.name.startswith(".") and read_json(settings).get("name") == name:
                return settings.parent
    return folder


def has_saved_run(cache_dir: Path, name: str) -> bool:
    return (model_dir(cache_dir, name) / STATE_FILE).exists()


# ---- 3. model --------------------------------------------------------------------------------
def build_model(config: PretrainConfig, tok):
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(config.seed)
    cfg = GPT2Config(vocab_size=len(tok), n_embd=config.n_embd, n_layer=config.n_layer,
                     n_head=config.n_head,
                     # The Generate tab asks for up to 128 new tokens, so the saved model accepts
                     # 256 positions; those beyond block_size were never trained (they stay near
                     # their small random init), which the tab's explanation says.
                     n_positions=max(256, config.block_size),
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,   # tiny data: no dropout
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                     pad_token_id=tok.eos_token_id)
    model = GPT2LMHeadModel._from_config(cfg, attn_implementation="sdpa")
    model.generation_config.pad_token_id = tok.eos_token_id
    return model


def lr_at(step: int, config: PretrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10% (nanoGPT)."""
    warmup = max(1, min(50, config.steps // 10))
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, config.steps - warmup)
    return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


def get_batch(data: torch.Tensor, config: PretrainConfig, gen: torch.Generator) -> torch.Tensor:
    block = min(config.block_size, len(data))
    starts = torch.randint(0, len(data) - block + 1, (config.batch_size,), generator=gen)
    return torch.stack([data[s:s + block] for s in starts.tolist()])


@torch.no_grad()
def corpus_loss(model, data: torch.Tensor, config: PretrainConfig, windows: int = 32) -> float:
    """Mean next-token loss on fixed, evenly spaced windows of the corpus (deterministic)."""
    block = min(config.block_size, len(data))
    starts = torch.linspace(0, len(data) - block, windows).long().unique().tolist()
    batch = torch.stack([data[s:s + block] for s in starts]).to(_device_of(model))
    was_training = model.training
    model.eval()
    loss = float(model(input_ids=batch, attention_mask=torch.ones_like(batch), labels=batch).loss)
    model.train(was_training)
    return loss


@torch.no_grad()
def sample(model, tok, config: PretrainConfig, step: int) -> str:
    """A short generated text (fixed seed per step, so the training RNG is not disturbed).
    At least half of `sample_tokens` are generated (an untrained model often ends the text at
    once), and only whole characters are shown: a byte-level model can stop in the middle of a
    character, or emit bytes that form none."""
    prompt = config.sample_prompt.strip()
    ids = tok(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    ids = [tok.eos_token_id] + ids
    was_training = model.training
    model.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed + step)
        dev = _device_of(model)
        out = model.generate(torch.tensor([ids], device=dev),
                             attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=dev),
                             max_new_tokens=config.sample_tokens,
                             min_new_tokens=max(1, config.sample_tokens // 2), do_sample=True,
                             top_k=40, temperature=0.8, pad_token_id=tok.eos_token_id)
    model.train(was_training)
    return whole_characters(tok.decode(out[0][1:], skip_special_tokens=True))


# ---- 4 + 5. the job --------------------------------------------------------------------------
def run_pretraining(ctx, config: PretrainConfig, corpus: Corpus | None, cache_dir: Path,
                    manager=None, resume: bool = False) -> PretrainResult:
    """The job body (ctx: models.core.jobs.JobContext). Fresh run: corpus required; resume: the
    saved corpus, tokenizer, weights and optimizer state are used and training continues up
    to config.steps."""
    from transformers import AutoTokenizer, GPT2LMHeadModel
    started = time.time()
    config.check()
    folder = model_dir(cache_dir, config.name)
    if resume:
        if not (folder / STATE_FILE).exists():
            raise UserError("pre_nothing_to_resume", name=config.name)
        saved = PretrainConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text("utf-8")))
        # the shape is fixed by the saved weights; steps and sampling may change
        config = PretrainConfig.from_dict({**asdict(saved), "steps": max(config.steps, 1),
                                           "sample_every": config.sample_every,
                                           "sample_prompt": config.sample_prompt,
                                           "learning_rate": saved.learning_rate})
        corpus = Corpus((folder / CORPUS_FILE).read_text("utf-8"), "saved corpus")
        ctx.report(0.0, "loading")
        tok = AutoTokenizer.from_pretrained(folder)
        model = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="sdpa")
        state = torch.load(folder / STATE_FILE, weights_only=False)
    else:
        if corpus is None:
            raise UserError("pre_corpus_empty")
        corpus = check_corpus(corpus)
        ctx.report(0.0, "tokenizer")
        tok = train_tokenizer(corpus.text, config.vocab_size)
        model = build_model(config, tok)
        state = None
    data = encode_corpus(tok, corpus.text)
    if len(data) < 2 * config.block_size + 1:
        raise UserError("pre_corpus_few_tokens", tokens=len(data), need=2 * config.block_size + 1,
                        context=config.block_size)
    n_params = model_params(model)
    # the device the app was started on (--device); the weights train in fp32 and, on a GPU,
    # the forward pass runs in bf16 autocast
    device = manager.device.torch_device if manager is not None else torch.device("cpu")
    model.to(device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=(0.9, 0.95),
                            weight_decay=0.01)
    gen = torch.Generator().manual_seed(config.seed)
    step, samples, history = 0, [], []
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        step, samples, history = state["step"], state["samples"], state["history"]
    # the job's checkpoint (a run cut off by a restart): later than any saved run, so it wins
    checkpoint = Checkpointer(getattr(ctx, "checkpoint_dir", None))
    resumed = checkpoint.restore(model, opt)
    if resumed is not None:
        gen.set_state(resumed.data["generator"])
        step, samples, history = resumed.step, resumed.extra["samples"], resumed.extra["history"]
    if corpus.notice is not None:
        ctx.notice(corpus.notice.code, corpus.notice.message, **corpus.notice.params)
    ctx.report(step / config.steps, "training", info=True, vocab=len(tok),
               params=n_params, corpus_tokens=len(data), corpus_chars=len(corpus.text),
               start_step=step, total_steps=config.steps)
    for event in history:                       # replay the curve of the earlier part
        ctx.report(**event)
    for at, text in samples:                    # and its samples
        ctx.report(step=at, sample=text)
    first_loss = history[0]["loss"] if history else corpus_loss(model, data, config)
    if not history:
        history.append({"step": 0, "loss": first_loss})
        ctx.report(step=0, loss=first_loss)
    if step == 0:
        samples.append((0, sample(model, tok, config, 0)))
        ctx.report(step=0, sample=samples[-1][1])
    if manager is not None and hasattr(manager, "device_step"):
        def device_step():
            return manager.device_step(f"pre-train {config.name}")
    else:
        device_step = contextlib.nullcontext
    window_loss, window_n, window_start = 0.0, 0, time.perf_counter()
    tokens_per_step = config.batch_size * min(config.block_size, len(data))
    stopped, first_step = False, step
    while step < config.steps:
        if ctx.cancelled:
            stopped = True
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(step, config)
        batch = get_batch(data, config, gen).to(device)
        with device_step():          # requests from other users go first, between two steps
            with autocast:
                loss = model(input_ids=batch, attention_mask=torch.ones_like(batch),
                             labels=batch).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        step += 1
        if hasattr(ctx, "count_step"):   # the class's step limit (models/core/jobs.py):
            ctx.count_step(step - first_step)    # steps of this run (a resumed one too)
        window_loss, window_n = window_loss + loss.item(), window_n + 1
        if step % config.report_every == 0 or step == config.steps:
            secs = time.perf_counter() - window_start
            event = {"step": step, "loss": window_loss / window_n, "lr": lr_at(step - 1, config),
                     "tokens_per_s": window_n * tokens_per_step / secs if secs > 0 else 0.0}
            history.append(event)
            ctx.report(step / config.steps, None, **event)
            window_loss, window_n, window_start = 0.0, 0, time.perf_counter()
        if step % config.sample_every == 0 or step == config.steps:
            samples.append((step, sample(model, tok, config, step)))
            ctx.report(step=step, sample=samples[-1][1])
        if checkpoint.due(step):
            checkpoint.save(step, model, opt, None, {"generator": gen.get_state()},
                            {"samples": samples, "history": history})
    ctx.report(None, "saving")
    final_loss = corpus_loss(model, data, config)
    save_run(folder, model, tok, config, corpus.text, {
        "optimizer": opt.state_dict(), "generator": gen.get_state(), "step": step,
        "samples": samples, "history": history})
    key = ""
    if manager is not None:
        key = manager.register_local(str(folder), name=slug(config.name)).key
        try:
            manager.unload(key)        # an older copy of this name may be loaded: reload next use
        except UserError:
            pass
    ctx.report(None, "stopped" if stopped else "done", saved=True, key=key)
    return PretrainResult(config.name, key, str(folder), step, config.steps, first_loss,
                          final_loss, step * tokens_per_step, time.time() - started, stopped,
                          len(tok), n_params, samples)


def job_function(config: PretrainConfig, corpus: Corpus | None, manager, resume: bool = False):
    """The app's pre-training job (models/core/jobs.py): a fresh run on `corpus`, or a saved
    run continued (`resume`)."""
    cache_dir = manager.registry.cache_dir
    return lambda ctx: run_pretraining(ctx, config, corpus, cache_dir, manager, resume=resume)


def job_settings(config: PretrainConfig, corpus: Corpus | None, resume: bool = False) -> dict:
    """What `rebuild` needs, as plain JSON data (the job's row in the store)."""
    return {"config": asdict(config), "corpus": corpus.text if corpus is not None else None,
            "source": corpus.source if corpus is not None else "", "resume": resume}


def rebuild(manager, stored: dict):
    """The job function of a stored pre-training job (JobRunner.register's factory)."""
    corpus = Corpus(stored["corpus"], stored["source"]) if stored["corpus"] is not None else None
    return job_function(PretrainConfig.from_dict(stored["config"]), corpus, manager,
                        stored["resume"])


def save_run(folder: Path, model, tok, config: PretrainConfig, corpus_text: str, state: dict) -> None:
    """Write everything into a temporary folder, then swap it in, so a crash mid-save never
    leaves a half-written model under the final name."""
    with atomic_folder(folder) as tmp:
        model.to("cpu").save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=1), "utf-8")
        (tmp / CORPUS_FILE).write_text(corpus_text, "utf-8")
        torch.save(state, tmp / STATE_FILE)


def saved_runs(cache_dir: Path) -> list[str]:
    """Names of runs that can be resumed."""
    root = Path(cache_dir) / "pretrained"
    return sorted(p.name for p in root.glob("*") if (p / STATE_FILE).exists()) if root.exists() else []
