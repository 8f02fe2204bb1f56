"""Which input tokens made an output likely: attributions on the input embeddings, with
Captum (BSD-3).

Methods
  ig            integrated gradients (Sundararajan et al. 2017): walk in `steps` small steps
                from a baseline (every word replaced by a "no word" token, see
                models/runners/parts.py baseline_id) to the real text and add up the gradient
                of the explained score (taken at points of each step chosen per kind of
                model: RULES) times the change of each token's embedding. This is what
                Captum's LayerIntegratedGradients computes on the embedding layer; here the
                embeddings are the input (Captum's IntegratedGradients on `inputs_embeds`),
                so encoder-decoders, whose embedding module also serves the decoder, work the
                same way.
  grad_x_input  the gradient at the real text times the embedding (Captum's InputXGradient):
                one backward pass, a first-order guess.

What is explained (the score F)
  decoders        log p(target | text): the sum over the target's tokens, read with the
                  target appended (teacher forcing); no target = the model's own next token
  classifiers     log p(class | text); no class = the predicted class
  encoder-decoder log p(output | text) over the output's tokens (no output = its first
                  greedy token)
  contrastive     logit(X) - logit(Y) at the same step ("why X and not Y"): for one token
                  each, equal to log p(X) - log p(Y), so by linearity its attributions are the
                  difference of the two single-target attributions.

Completeness: integrated gradients' scores add up to F(text) - F(baseline) when the path
integral is computed exactly; `completeness_error` = |sum - (F(x) - F(x'))| / |F(x) - F(x')|
says how far the `steps`-point approximation is from that (more steps: smaller).

Special tokens (the start token, [CLS], [SEP]) keep their real embedding in the baseline, so
their score is exactly 0: they are not words of the text.

prepare (tokens, target, baseline) -> run (Captum) -> post-process (one number per token).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from models.core.errors import Notice, UserError
from models.core.manager import LoadedModel
from models.runners.token_text import single_token_text
from models.runners.logit_lens import Guess
from models.runners.parts import (baseline_id, class_names, continuation_ids, decoder_start, embed,
                    forward_embeds, is_classifier, prepare, unsupported)

METHODS = ("ig", "grad_x_input")
MIN_STEPS, MAX_STEPS = 2, 512
# The points of the path where the gradient is taken, per kind of model, chosen by the
# completeness error (bench/bench_why.py, WHY_BENCH_RULES=1). Decoders: the middle of each of
# the `steps` equal pieces (Captum's "riemann_middle"): on 12 real news beginnings with SmolLM2,
# median / worst 4.2 % / 21.8 % at 32 steps (Captum's default Gauss-Legendre points: 6.8 % /
# 39.3 %; trapezoid 5.9 % / 20.6 %) and 0.5 % / 3.7 % at 64 (Gauss-Legendre 1.7 % / 10.3 %).
# Classifiers (a MiniLM fine-tuned in the app, 8 real lines): Gauss-Legendre, 0.01 % / 1.9 % at
# 32 steps against the midpoints' 0.5 % / 8.0 %. Encoder-decoders: not measured, Captum's default.
RULES = {"decoder": "riemann_middle"}
DEFAULT_RULE = "gausslegendre"
# 64 steps: every one of those texts under 5 % with either model, for twice the time of 32
# (~5 s for 30 tokens on a 2-core CPU); the tab shows the error and lets the user choose.
DEFAULT_STEPS = 64
MAX_TARGET_TOKENS = 16
TOKENS_PER_BATCH = 2048   # interpolation points x tokens run in one forward pass (memory cap)
TOP_K = 10


@dataclass(frozen=True)
class Plan:
    """Everything `run` needs: a prepared input and the score to explain."""
    kind: str
    family: str
    tokens: list
    ids: list
    fixed: list
    target: str                  # readable: the token(s) or class explained
    target_ids: list
    contrast: str | None
    contrast_id: int | None
    tail_ids: list               # decoders: target tokens appended after the text (teacher forcing)
    decoder_ids: list | None     # encoder-decoders: decoder input
    candidates: list             # top guesses at the explained step, for picking an alternative
    notice: Notice | None = None


@dataclass(frozen=True)
class Attribution:
    """scores[i] is token i's share of the explained score (0 for special tokens)."""
    model_name: str
    family: str
    kind: str
    method: str
    tokens: list
    scores: list
    fixed: list
    target: str
    target_ids: list
    contrast: str | None
    score: str                   # "logp" or "logit_diff"
    value: float                 # F(text)
    baseline_value: float        # F(baseline); nan for gradient x input
    completeness_error: float | None   # relative; integrated gradients only
    steps: int | None
    seconds: float
    candidates: list = field(default_factory=list)
    notice: Notice | None = None

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(1, self.steps or 1)


def rule(lm: LoadedModel) -> str:
    """Captum's integration rule for this kind of model (RULES)."""
    return RULES.get(lm.spec.kind, DEFAULT_RULE)


def check_steps(steps) -> int:
    try:
        steps = int(steps)
    except (TypeError, ValueError):
        steps = -1
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise UserError("why_bad_steps", low=MIN_STEPS, high=MAX_STEPS)
    return steps


def check_method(method) -> str:
    method = (method or "ig").strip()
    if method not in METHODS:
        raise UserError("why_bad_method", method=method, methods=", ".join(METHODS))
    return method


# ---- prepare ------------------------------------------------------------------------------
def _guesses(lm: LoadedModel, logits: torch.Tensor, names: list | None = None) -> list:
    p = logits.float().softmax(-1)
    v, i = p.topk(min(TOP_K, p.shape[-1]))
    return [Guess(names[int(t)] if names else single_token_text(lm.tokenizer, int(t)), int(t),
                  float(x)) for x, t in zip(v, i)]


def _class_index(lm: LoadedModel, label: str) -> int:
    names = class_names(lm)
    label = (label or "").strip()
    if label in names:
        return names.index(label)
    lowered = [n.lower() for n in names]
    if label.lower() in lowered:
        return lowered.index(label.lower())
    if label.isdigit() and int(label) < len(names):
        return int(label)
    raise UserError("why_unknown_class", label=label, classes=", ".join(names))


def _resolve(lm: LoadedModel, prompt: str, wanted: str, candidates: list) -> list[int]:
    """Token ids for text the user gave: one of the shown candidates (as displayed or as the
    token's own text, so a pick from the list is exactly that token), else its tokenization."""
    for c in candidates:
        if wanted in (c.token, lm.tokenizer.decode([c.token_id])):
            return [c.token_id]
    if lm.spec.kind == "decoder":
        return continuation_ids(lm, prompt, wanted)
    return [int(i) for i in lm.tokenizer(wanted.strip(), add_special_tokens=False)["input_ids"]]


def plan(lm: LoadedModel, text: str, target: str = "", contrast: str = "") -> Plan:
    """Decide what is explained (see the module docstring)."""
    kind = lm.spec.kind
    if not (kind == "decoder" or kind == "seq2seq" or is_classifier(lm)):
        raise unsupported(lm, "attribution")
    prep = prepare(lm, text)
    target, contrast = (target or "").strip("\n"), (contrast or "").strip("\n")
    ids, notice, dev = prep.ids, prep.notice, lm.device
    src = torch.tensor([ids], device=dev)
    if is_classifier(lm):
        names = class_names(lm)
        with torch.no_grad():
            logits = lm.model(input_ids=src).logits[0]
        candidates = _guesses(lm, logits, names)
        t = _class_index(lm, target) if target.strip() else candidates[0].token_id
        c = _class_index(lm, contrast) if contrast.strip() else None
        if c is not None and c == t:
            raise UserError("why_same_contrast")
        return Plan(kind, prep.family, prep.tokens, ids, prep.fixed, names[t], [t],
                    names[c] if c is not None else None, c, [], None, candidates, notice)
    with torch.no_grad():
        if kind == "decoder":
            first = lm.model(input_ids=src, logits_to_keep=1).logits[0, -1]
        else:
            first = lm.model(input_ids=src, decoder_input_ids=torch.tensor(
                [[decoder_start(lm)]], device=dev)).logits[0, -1]
    candidates = _guesses(lm, first)
    t_ids = (_resolve(lm, text, target, candidates) if target.strip()
             else [candidates[0].token_id])[:MAX_TARGET_TOKENS]
    if not t_ids:
        raise UserError("empty_text", what="target")
    c_id = None
    if contrast.strip():
        c_ids = _resolve(lm, text, contrast, candidates)
        if not c_ids:
            raise UserError("empty_text", what="alternative")
        c_id = c_ids[0]
        if len(t_ids) > 1 or len(c_ids) > 1:
            notice = Notice("why_first_token")
        t_ids = t_ids[:1]
        if c_id == t_ids[0]:
            raise UserError("why_same_contrast")
    target_text = "".join(single_token_text(lm.tokenizer, t) for t in t_ids)
    contrast_text = single_token_text(lm.tokenizer, c_id) if c_id is not None else None
    if kind == "decoder":
        return Plan(kind, prep.family, prep.tokens, ids, prep.fixed, target_text, t_ids,
                    contrast_text, c_id, t_ids[:-1], None, candidates, notice)
    return Plan(kind, prep.family, prep.tokens, ids, prep.fixed, target_text, t_ids,
                contrast_text, c_id, [], [decoder_start(lm)] + t_ids[:-1], candidates, notice)


# ---- run ----------------------------------------------------------------------------------
def score_fn(lm: LoadedModel, p: Plan):
    """F(embeddings [B, n, d]) -> [B]: the explained score (see module docstring)."""
    n_t = len(p.target_ids)
    tail = embed(lm, p.tail_ids).detach() if p.tail_ids else None

    def f(e: torch.Tensor) -> torch.Tensor:
        if p.kind == "decoder":
            full = torch.cat([e, tail.expand(e.shape[0], -1, -1)], 1) if tail is not None else e
            logits = forward_embeds(lm, full, keep=n_t)                 # [B, n_t, V]
        else:
            logits = forward_embeds(lm, e, p.decoder_ids)               # [B, n_t|1, V]
        logp = logits.float().log_softmax(-1)
        if p.contrast_id is not None:
            return logp[:, 0, p.target_ids[0]] - logp[:, 0, p.contrast_id]
        idx = torch.tensor(p.target_ids, device=e.device)
        return logp[:, torch.arange(n_t, device=e.device), idx].sum(-1)
    return f


def baseline_embeds(lm: LoadedModel, p: Plan) -> torch.Tensor:
    """Every word replaced by the baseline token; special tokens kept (score 0)."""
    base = [tid if fixed else baseline_id(lm) for tid, fixed in zip(p.ids, p.fixed)]
    return embed(lm, base).detach()


def run(lm: LoadedModel, p: Plan, method: str = "ig", steps: int = DEFAULT_STEPS) -> Attribution:
    from captum.attr import InputXGradient, IntegratedGradients
    method = check_method(method)
    f = score_fn(lm, p)
    x = embed(lm, p.ids).detach()
    started = time.perf_counter()
    error = None
    with torch.enable_grad():
        if method == "ig":
            steps = check_steps(steps)
            b = baseline_embeds(lm, p)
            batch = max(1, TOKENS_PER_BATCH // (len(p.ids) + len(p.tail_ids)))
            # Captum's own convergence delta would run F at the text and the baseline again;
            # it is sum(attributions) - (F(x) - F(x')), computed below from one forward pass
            attr = IntegratedGradients(f).attribute(
                x, baselines=b, n_steps=steps, method=rule(lm),
                internal_batch_size=min(batch, steps))
            with torch.no_grad():
                fx, fb = (float(v) for v in f(torch.cat([x, b])))
            delta = float(attr.detach().sum()) - (fx - fb)
            error = abs(delta) / max(abs(fx - fb), 1e-6)
        else:
            attr = InputXGradient(f).attribute(x.clone().requires_grad_(True))
            with torch.no_grad():
                fx = float(f(x)[0])
            fb, steps = float("nan"), None
    seconds = time.perf_counter() - started
    scores = [0.0 if fixed else float(s) for s, fixed in zip(attr.detach().sum(-1)[0], p.fixed)]
    return Attribution(lm.spec.name, p.family, p.kind, method, p.tokens, scores, p.fixed,
                       p.target, p.target_ids, p.contrast,
                       "logit_diff" if p.contrast_id is not None else "logp", fx, fb, error,
                       steps, seconds, p.candidates, p.notice)


def attribute(lm: LoadedModel, text: str, target: str = "", contrast: str = "",
              method: str = "ig", steps: int = DEFAULT_STEPS) -> Attribution:
    """Attributions of `text`'s tokens for `target` (and `contrast`); see module docstring."""
    method = check_method(method)
    if method == "ig":
        check_steps(steps)
    return run(lm, plan(lm, text, target, contrast), method, steps)
