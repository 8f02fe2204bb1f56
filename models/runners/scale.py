"""The cost of scale: from a transformer's shape to its parameters, memory, compute and time.

Three families cover the models the app shows:
  gpt2   learned positions, biases everywhere, LayerNorm, 4x MLP (GPT-2, GPT-3, the tiny model)
  bert   like gpt2 plus token-type embeddings, an embedding LayerNorm and a pooler (BERT, MiniLM)
  llama  no biases, RMSNorm, rotary positions (no position table), gated 3-matrix MLP and
         grouped-query attention with fewer key/value heads (Llama, SmolLM2)

Formulas (all approximations say so in the UI):
  parameters  counted layer by layer, exactly as transformers builds these classes; tests check
              them against sum(p.numel()) of real models (tied embeddings counted once)
  inference   weights + KV cache (2 · layers · kv_width · context · batch values)
  training    weights + gradients + Adam's two moments, 16 bytes/parameter either way: fp32 is
              4 + 4 + 8; bf16 mixed precision is 2 (bf16 weights) + 2 (grads) + 12 (fp32 master
              weights and moments), Rajbhandari et al. 2020 (ZeRO) §3.1
              + activations per layer ≈ s·b·h·(34 + 5·a·s/h) bytes at 16 bit, Korthikanti et al.
              2022 ("Reducing Activation Recomputation"), doubled for fp32
  compute     ≈ 6 · N · D FLOPs (2 forward + 4 backward per parameter per token), Kaplan et al.
              2020; GPT-3 175B on 300B tokens -> 3.14e23 (Brown et al. 2020, table D.1)
  time        FLOPs / (GPUs · peak FLOP/s · utilisation)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from models.core.errors import UserError, check_ranges
from models.core.families import family_of, scale_formulas

FAMILIES = scale_formulas()      # the parameter formulas below, one per family of the table

# Peak dense 16-bit tensor throughput (TFLOP/s) from the vendors' data sheets; fp32 is much lower.
GPUS: dict[str, tuple[float, float]] = {      # name -> (bf16/fp16 TFLOPS, fp32 TFLOPS)
    "NVIDIA V100": (125.0, 15.7),
    "NVIDIA T4": (65.0, 8.1),
    "NVIDIA A100": (312.0, 19.5),
    "NVIDIA H100 SXM": (989.0, 67.0),
    "NVIDIA RTX 4090": (165.0, 82.6),
}

# Bounds that reject typos and absurd values with a message instead of overflowing.
LIMITS = {
    "n_layers": (1, 10_000), "d_model": (1, 1_000_000), "n_heads": (1, 100_000),
    "n_kv_heads": (1, 100_000), "d_ff": (1, 10_000_000), "vocab": (1, 10_000_000),
    "context": (1, 10_000_000), "tokens": (1, 1e16), "gpus": (1, 10_000_000),
    "utilisation": (0.001, 1.0), "gpu_tflops": (0.001, 100_000.0), "batch": (1, 100_000),
}


# How the UI names each field in messages (English, Chinese): the error names what the user
# sees, not the code's variable.


@dataclass(frozen=True)
class Architecture:
    """The shape of a transformer. d_ff = 0 means the family's default (4·d_model);
    n_kv_heads = 0 means as many as n_heads (no grouped-query attention)."""
    family: str = "gpt2"
    n_layers: int = 12
    d_model: int = 768
    n_heads: int = 12
    vocab: int = 50257
    context: int = 1024
    d_ff: int = 0
    n_kv_heads: int = 0
    tied: bool = True            # output layer shares the token embedding matrix

    @property
    def ff(self) -> int:
        return self.d_ff or 4 * self.d_model

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def check(self) -> "Architecture":
        if self.family not in FAMILIES:
            raise UserError("scale_bad_family", family=self.family)
        for name in ("n_layers", "d_model", "n_heads", "vocab", "context"):
            _check_number(name, getattr(self, name))
        for name in ("d_ff", "n_kv_heads"):
            if getattr(self, name):
                _check_number(name, getattr(self, name))
        if self.d_model % self.n_heads:
            raise UserError("scale_heads_divide", d_model=self.d_model, n_heads=self.n_heads)
        if self.n_heads % self.kv_heads:
            raise UserError("scale_kv_divide", n_heads=self.n_heads, n_kv_heads=self.kv_heads)
        return self


@dataclass(frozen=True)
class ParamCount:
    embeddings: int     # token (+ position, + type) tables and their norm
    attention: int      # all layers
    mlp: int            # all layers
    norms: int          # layer norms inside and after the blocks
    head: int           # untied output layer, pooler; 0 when tied
    total: int

    @property
    def non_embedding(self) -> int:
        return self.total - self.embeddings


@dataclass(frozen=True)
class TrainingSetup:
    tokens: float = 300e9          # D: tokens seen in training
    gpus: int = 1024
    utilisation: float = 0.4       # real jobs reach 30-50% of the peak (MFU)
    gpu_tflops: float = 312.0      # peak of one GPU for the chosen dtype
    dtype: str = "bf16"            # "fp32" | "bf16" (mixed precision)
    batch: int = 1                 # sequences per GPU at a time (activations scale with it)

    def check(self) -> "TrainingSetup":
        for name in ("tokens", "gpus", "utilisation", "gpu_tflops", "batch"):
            _check_number(name, getattr(self, name))
        if self.dtype not in ("fp32", "bf16"):
            raise UserError("scale_bad_dtype")
        return self


@dataclass(frozen=True)
class Estimate:
    """Everything the calculator shows. Bytes are per model copy (not split across GPUs)."""
    arch: Architecture
    setup: TrainingSetup
    params: ParamCount
    inference_weights: float
    inference_kv_cache: float
    train_weights: float        # weights (+ fp32 master copy in bf16)
    train_gradients: float
    train_adam: float
    train_activations: float    # without recomputation, `batch` sequences of full context
    flops: float                # 6 N D
    seconds: float

    @property
    def inference_total(self) -> float:
        return self.inference_weights + self.inference_kv_cache

    @property
    def train_total(self) -> float:
        return self.train_weights + self.train_gradients + self.train_adam + self.train_activations

    def as_dict(self) -> dict:
        out = {"arch": asdict(self.arch), "setup": asdict(self.setup), "params": asdict(self.params)}
        out["params"]["non_embedding"] = self.params.non_embedding
        for name in ("inference_weights", "inference_kv_cache", "inference_total", "train_weights",
                     "train_gradients", "train_adam", "train_activations", "train_total",
                     "flops", "seconds"):
            out[name] = getattr(self, name)
        out["days"] = self.seconds / 86400
        return out


def out_of_range(name: str, value, lo: float, hi: float) -> UserError:
    return UserError("scale_out_of_range", field=name, lo=f"{lo:g}", hi=f"{hi:g}",
                     value=repr(value))


def _check_number(name: str, value) -> None:
    check_ranges({name: value}, LIMITS, out_of_range)


def count_params(arch: Architecture) -> ParamCount:
    """Exact parameter count of the family's transformers class (untied head counted once)."""
    a = arch.check()
    d, L, V, ff = a.d_model, a.n_layers, a.vocab, a.ff
    kv = a.kv_heads * a.head_dim
    if a.family == "llama":
        emb = V * d
        attn = L * (d * d + 2 * d * kv + d * d)            # q, k, v, o; no biases
        mlp = L * 3 * d * ff                                  # gate, up, down
        norms = L * 2 * d + d                                 # RMSNorm weights only
        head = 0 if a.tied else V * d
    else:
        emb = V * d + a.context * d
        attn = L * (d * (d + 2 * kv) + (d + 2 * kv) + d * d + d)   # qkv + bias, proj + bias
        mlp = L * (d * ff + ff + ff * d + d)
        norms = L * 2 * 2 * d                                 # two LayerNorms, weight + bias
        if a.family == "gpt2":
            norms += 2 * d                                    # final ln_f
            head = 0 if a.tied else V * d
        else:
            emb += 2 * d + 2 * d                              # token types + embedding LayerNorm
            head = d * d + d                                  # pooler (BERT has no LM head here)
    total = emb + attn + mlp + norms + head
    return ParamCount(emb, attn, mlp, norms, head, total)


def estimate(arch: Architecture, setup: TrainingSetup) -> Estimate:
    arch, setup = arch.check(), setup.check()
    p = count_params(arch)
    n = p.total
    half = setup.dtype == "bf16"
    act_bytes = 2 if half else 4
    kv_width = arch.kv_heads * arch.head_dim
    kv_cache = 2 * arch.n_layers * kv_width * arch.context * setup.batch * act_bytes
    s, b, h, a = arch.context, setup.batch, arch.d_model, arch.n_heads
    activations = arch.n_layers * s * b * h * (34 + 5 * a * s / h) * (act_bytes / 2)
    weights = n * (2 + 4 if half else 4)                 # bf16 copy + fp32 master copy
    grads = n * (2 if half else 4)
    adam = n * 8                                         # two fp32 moments
    flops = 6.0 * n * float(setup.tokens)
    seconds = flops / (setup.gpus * setup.gpu_tflops * 1e12 * setup.utilisation)
    return Estimate(arch, setup, p, n * act_bytes, kv_cache, weights, grads, adam, activations,
                    flops, seconds)


def growth(arch: Architecture, setup: TrainingSetup, widths=None) -> list[Estimate]:
    """The same model at other widths (layers, heads per width kept): how cost grows."""
    arch = arch.check()
    widths = widths or [64 * 2 ** i for i in range(9)]            # 64 .. 16384
    out = []
    for w in widths:
        heads = max(1, w // arch.head_dim) if arch.head_dim else 1
        heads = heads if w % heads == 0 else 1
        kv = arch.n_kv_heads and max(1, heads * arch.kv_heads // arch.n_heads)
        if kv and heads % kv:
            kv = 0
        ff = arch.d_ff and max(1, arch.d_ff * w // arch.d_model)
        out.append(estimate(replace(arch, d_model=w, n_heads=heads, n_kv_heads=kv, d_ff=ff), setup))
    return out


def from_config(config) -> Architecture:
    """Architecture of a transformers config (object or dict). Unknown model types -> UserError."""
    cfg = config if isinstance(config, dict) else config.to_dict()
    mt = cfg.get("model_type", "")
    fam = family_of(cfg)
    formula = fam.scale if fam else ""
    tied = bool(cfg.get("tie_word_embeddings", True))
    if formula == "gpt2":
        return Architecture("gpt2", cfg["n_layer"], cfg["n_embd"], cfg["n_head"], cfg["vocab_size"],
                            cfg["n_positions"], cfg.get("n_inner") or 0, 0, tied)
    if formula == "bert":
        return Architecture("bert", cfg["num_hidden_layers"], cfg["hidden_size"],
                            cfg["num_attention_heads"], cfg["vocab_size"],
                            cfg["max_position_embeddings"], cfg["intermediate_size"], 0, tied)
    if formula == "llama" and not cfg.get("attention_bias") and not cfg.get("mlp_bias"):
        return Architecture("llama", cfg["num_hidden_layers"], cfg["hidden_size"],
                            cfg["num_attention_heads"], cfg["vocab_size"],
                            cfg["max_position_embeddings"], cfg["intermediate_size"],
                            cfg.get("num_key_value_heads") or 0, tied)
    raise UserError("scale_unknown_arch", model_type=mt or "?")


# ---- presets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    arch: Architecture
    tokens: float
    note: str = ""          # where the numbers come from
    real_params: int | None = None   # counted from the actual weights, when we have them


PRESETS: list[Preset] = [
    Preset("gpt3", "GPT-3 175B", Architecture("gpt2", 96, 12288, 96, 50257, 2048), 300e9,
           "Brown et al. 2020: 96 layers, width 12288, 300B training tokens"),
    Preset("gpt2", "GPT-2 small (124M)", Architecture("gpt2", 12, 768, 12, 50257, 1024), 10e9,
           "Radford et al. 2019; training tokens not published (10B assumed)"),
    Preset("gpt2-xl", "GPT-2 XL (1.5B)", Architecture("gpt2", 48, 1600, 25, 50257, 1024), 10e9,
           "Radford et al. 2019; training tokens not published (10B assumed)"),
    Preset("bert-base", "BERT-base (110M)", Architecture("bert", 12, 768, 12, 30522, 512), 40e9,
           "Devlin et al. 2018: 1M steps x 256 sequences, mostly 128 tokens long (~40B tokens)"),
    Preset("minilm", "all-MiniLM-L6-v2 (packaged)", Architecture("bert", 6, 384, 12, 30522, 512,
           1536), 1e9, "packaged encoder; its distillation budget is not comparable (1B assumed)"),
    Preset("smollm2", "SmolLM2-135M (packaged)", Architecture("llama", 30, 576, 9, 49152, 8192,
           1536, 3), 2e12, "packaged decoder; trained on 2T tokens (SmolLM2 model card)"),
    Preset("tiny", "Tiny model of the pre-training lab", Architecture("gpt2", 2, 128, 4, 2000, 256),
           2e6, "the defaults of 'Train a tiny model'"),
]


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    raise UserError("scale_unknown_preset", key=key)


def format_count(n: float) -> str:
    """12345678 -> '12.3 M'; keeps 3 significant digits."""
    for unit, f in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= f:
            return f"{n / f:.3g} {unit}"
    return f"{n:.3g}"
