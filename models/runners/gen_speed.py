"""How long a generation will take on this device, said before it starts.

Reading the prompt (prefill) costs about 2·N floating-point operations per token for a model
of N parameters (embeddings excluded: they are a lookup) plus the attention scores, 4·L·H·d_h
per pair of tokens (QKᵀ and the weighted sum of V, L layers, H heads of width d_h). Prompts are
read in chunks (tasks.py), so a chunk attends to itself and everything before it: the pair
count is what `_pairs` adds up. Each new token then costs about one short step plus its
attention over the context.

`SpeedMeter` turns that count into seconds with this device's measured rate: a short
calibration run the first time a model is asked about (a forward pass over CALIBRATION_TOKENS
tokens and a few one-token steps), refined by every real generation (`record`). It keeps no
model, only numbers, per loaded model.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch

from models.core.files import model_params
from models.core.manager import LoadedModel
from models.runners.forward import cache_argument

PREFILL_CHUNK = 512        # tokens read per forward pass: progress to show, memory bounded
CALIBRATION_TOKENS = 128   # a forward pass that takes well under a second on a laptop CPU
CALIBRATION_STEPS = 4


@dataclass
class Speed:
    flops_per_s: float     # effective rate while reading a prompt
    step_s: float          # seconds per new token with a short context


@dataclass(frozen=True)
class Shape:
    body_params: int       # parameters outside the embeddings
    attn_per_pair: int     # 4·L·H·d_h: attention FLOPs per (query, key) pair


def model_shape(lm: LoadedModel) -> Shape:
    model = lm.model
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    total = model_params(model)
    emb = model.get_input_embeddings()
    body = total - (emb.weight.numel() if emb is not None else 0)
    layers = _first(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _first(cfg, "num_attention_heads", "n_head", "num_heads")
    width = _first(cfg, "hidden_size", "n_embd", "d_model")
    head_dim = getattr(cfg, "head_dim", None) or (width // heads if width and heads else 0)
    return Shape(max(body, 1), 4 * layers * heads * head_dim)


def _first(cfg, *names) -> int:
    for name in names:
        value = getattr(cfg, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 0


def _pairs(n: int, chunk: int = PREFILL_CHUNK) -> int:
    """(query, key) pairs computed when n tokens are read in chunks (eager attention computes
    every pair of a chunk's queries with all keys so far, masked or not)."""
    total, start = 0, 0
    while start < n:
        end = min(start + chunk, n)
        total += (end - start) * end
        start = end
    return total


def prefill_flops(shape: Shape, n: int) -> float:
    return 2.0 * shape.body_params * n + shape.attn_per_pair * _pairs(n)


class SpeedMeter:
    """Measured speed per loaded model; see the module docstring."""

    def __init__(self):
        self._lock = threading.Lock()
        self._speeds: dict[tuple, Speed] = {}

    @staticmethod
    def _key(lm: LoadedModel) -> tuple:
        return (lm.spec.key, id(lm.model), str(lm.device))

    def known(self, lm: LoadedModel) -> bool:
        with self._lock:
            return self._key(lm) in self._speeds

    def speed(self, lm: LoadedModel) -> Speed:
        """The measured speed, calibrating first if this model was never measured. The caller
        holds the device (manager.use)."""
        with self._lock:
            found = self._speeds.get(self._key(lm))
        if found is None:
            found = self.calibrate(lm)
        return found

    def calibrate(self, lm: LoadedModel) -> Speed:
        model, shape = lm.model, model_shape(lm)
        vocab = int(model.get_input_embeddings().weight.shape[0])
        ids = (torch.arange(CALIBRATION_TOKENS) % max(vocab - 10, 1) + 10) % vocab
        ids = ids[None].to(lm.device)
        from transformers import DynamicCache

        name = cache_argument(model)
        with torch.inference_mode():
            model(input_ids=ids[:, :8])                         # warm-up (first-call overheads)
            cache = DynamicCache(config=model.config)
            extra = {name: cache} if name else {}
            started = time.perf_counter()
            model(input_ids=ids, use_cache=True, **extra)
            prefill_s = time.perf_counter() - started
            started = time.perf_counter()
            for i in range(CALIBRATION_STEPS):
                model(input_ids=ids[:, i:i + 1], use_cache=True, **extra)
            step_s = (time.perf_counter() - started) / CALIBRATION_STEPS
        speed = Speed(prefill_flops(shape, CALIBRATION_TOKENS) / max(prefill_s, 1e-6), step_s)
        with self._lock:
            self._speeds[self._key(lm)] = speed
        return speed

    def record(self, lm: LoadedModel, prompt_tokens: int, prefill_s: float, new_tokens: int,
               decode_s: float) -> None:
        """Refine the figures with a real run (prompts of 64+ tokens say something about the
        prefill rate; 4+ new tokens about the step time)."""
        shape = model_shape(lm)
        with self._lock:
            speed = self._speeds.get(self._key(lm))
            rate = prefill_flops(shape, prompt_tokens) / prefill_s if prefill_s > 0 else None
            per_step = decode_s / (new_tokens - 1) if new_tokens > 4 and decode_s > 0 else None
            if speed is None:
                if rate is None or per_step is None or prompt_tokens < 64:
                    return
                self._speeds[self._key(lm)] = Speed(rate, per_step)
                return
            if rate is not None and prompt_tokens >= 64:
                speed.flops_per_s = 0.5 * speed.flops_per_s + 0.5 * rate
            if per_step is not None:
                speed.step_s = 0.5 * speed.step_s + 0.5 * per_step

    def estimate(self, lm: LoadedModel, prompt_tokens: int, new_tokens: int) -> float:
        """Seconds to read `prompt_tokens` and write `new_tokens` (at most)."""
        speed, shape = self.speed(lm), model_shape(lm)
        read = prefill_flops(shape, prompt_tokens) / speed.flops_per_s
        # each new token attends over the whole context
        attend = shape.attn_per_pair * prompt_tokens * new_tokens / speed.flops_per_s
        return read + new_tokens * speed.step_s + attend

    def prompt_seconds(self, lm: LoadedModel, prompt_tokens: int, new_tokens: int) -> float:
        """The part of the estimate that the prompt's length causes."""
        return self.estimate(lm, prompt_tokens, new_tokens) - self.estimate(lm, 0, new_tokens)

    def fits_in(self, lm: LoadedModel, seconds: float, new_tokens: int, upper: int) -> int:
        """The longest prompt (<= upper tokens) whose own cost stays within `seconds`."""
        lo, hi = 0, int(upper)
        if self.prompt_seconds(lm, hi, new_tokens) <= seconds:
            return hi
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.prompt_seconds(lm, mid, new_tokens) <= seconds:
                lo = mid
            else:
                hi = mid - 1
        return lo
