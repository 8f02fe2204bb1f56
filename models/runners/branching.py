"""Branching generation: "what if it had picked the other word?"

A model writes one token at a time. At every step it has a probability for every token; the
path it takes is one of many. A branch is described by the prompt and the choices made so
far, as ranks among that step's alternatives (1 = the most likely token, 2 = the second…).
After the choices the model goes on with its own first choice for `extend` more steps (or
until it ends the text), so every branch is a full little continuation with its probability
(the product of the chosen tokens' probabilities).

Works for decoders (one forward pass over the prompt, read with a start token in front as
the other parts of the tab read it, then one token at a time with the key/value cache) and
encoder-decoders (the decoder writes the output token by token for the encoded text).
Classifiers and plain encoders do not write text: not applicable.

`follow` starts from given tokens instead of ranks (an answer the Generate tab sampled, or a
path's first tokens and the alternative the user clicked): they are read in one forward pass
after the prompt, then the model goes on by itself as above.

prepare (prompt ids, choices checked) -> run (the steps) -> post-process (steps with their
top-k alternatives, the text, the probability).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch

from models.core.errors import UserError
from models.core.manager import LoadedModel
from models.runners.generation import check_text
from models.runners.token_text import single_token_text, whole_characters
from models.runners.logit_lens import Guess
from models.runners.parts import decoder_ids, decoder_start, unsupported

TOP_K = 5
EXTEND = 8                # steps the model continues on its own after the last choice
MAX_STEPS = 48            # choices + extension
MAX_PROMPT_TOKENS = 256
MAX_FOLLOW = 256          # tokens of a given path (Generate writes up to 1024): the first ones


@dataclass(frozen=True)
class Step:
    """One generated token: `top` holds the TOP_K alternatives (most likely first), `rank`
    the chosen token's place among them (1 = the model's own first choice)."""
    index: int
    chosen: Guess
    rank: int
    top: list
    picked: bool              # chosen by the user (True) or the model's first choice (False)


@dataclass(frozen=True)
class Branch:
    model_name: str
    prompt: str
    prompt_tokens: int
    choices: list             # ranks as asked (1-based)
    steps: list
    text: str                 # the continuation
    logprob: float            # sum of ln p over the chosen tokens
    ended: bool               # the model ended the text (end token)

    @property
    def probability(self) -> float:
        return math.exp(self.logprob)


def parse_choices(choices) -> list[int]:
    """Ranks from a list or a text such as "1, 3" or "[1, 3]" (1 = the most likely)."""
    if choices is None or choices == "":
        return []
    if isinstance(choices, str):
        text = choices.strip()
        try:
            raw = json.loads(text) if text.startswith("[") else [c for c in text.replace(
                ";", ",").split(",") if c.strip()]
        except json.JSONDecodeError:
            raw = None
    else:
        raw = list(choices)
    try:
        ranks = [int(str(c).strip()) for c in raw]
    except (TypeError, ValueError):
        ranks = None
    if ranks is None or any(not 1 <= r <= TOP_K for r in ranks):
        raise UserError("why_bad_choices", most=MAX_STEPS, k=TOP_K)
    if len(ranks) > MAX_STEPS:
        raise UserError("why_bad_choices", most=MAX_STEPS, k=TOP_K)
    return ranks


class _Stepper:
    """Next-token logits one step at a time, for a decoder or an encoder-decoder.

    `forced`: tokens read after the prompt in the same forward pass (teacher forcing);
    `forced_logits[i]` is the step that wrote forced[i], `logits` the step after them all."""

    def __init__(self, lm: LoadedModel, prompt: str, forced: list | tuple = ()):
        self.lm, model, tok = lm, lm.model, lm.tokenizer
        dev = lm.device
        ids = (decoder_ids(lm, prompt) if lm.spec.kind == "decoder" else
               tok(prompt, add_special_tokens=True)["input_ids"])[-MAX_PROMPT_TOKENS:]
        self.prompt_tokens = len(ids)
        forced = [int(i) for i in forced]
        if lm.spec.kind == "decoder":
            src = torch.tensor([ids + forced], device=dev)
            out = model(input_ids=src, use_cache=True)
            self.cache, self.enc = out.cache, None
            self.forced_logits = out.logits[0, len(ids) - 1:-1]
            self.logits = out.logits[0, -1]
        else:
            src = torch.tensor([ids], device=dev)
            self.enc = model.get_encoder()(input_ids=src, attention_mask=torch.ones_like(src))
            self.mask = torch.ones_like(src)
            self.dec = [decoder_start(lm)] + forced
            logits = self._dec_logits(all_steps=True)
            self.forced_logits, self.logits = logits[:-1], logits[-1]

    def _dec_logits(self, all_steps: bool = False):
        dev = self.lm.device
        logits = self.lm.model(encoder_outputs=self.enc, attention_mask=self.mask,
                               decoder_input_ids=torch.tensor([self.dec], device=dev)).logits[0]
        return logits if all_steps else logits[-1]

    def take(self, token_id: int) -> None:
        if self.enc is None:
            out = self.lm.model(input_ids=torch.tensor([[token_id]], device=self.lm.device),
                                cache=self.cache, use_cache=True)
            self.cache, self.logits = out.cache, out.logits[0, -1]
        else:
            self.dec.append(token_id)
            self.logits = self._dec_logits()


def branch(lm: LoadedModel, prompt: str, choices=None, extend: int = EXTEND) -> Branch:
    if lm.spec.kind not in ("decoder", "seq2seq"):
        raise unsupported(lm, "branching")
    prompt = check_text(prompt, "prompt")
    ranks = parse_choices(choices)
    tok = lm.tokenizer
    eos = {t for t in (tok.eos_token_id, getattr(lm.model.generation_config, "eos_token_id", None))
           if isinstance(t, int)}
    steps, ids, logprob, ended = [], [], 0.0, False
    with torch.no_grad():
        stepper = _Stepper(lm, prompt)
        for i in range(min(MAX_STEPS, len(ranks) + max(0, int(extend)))):
            logp = stepper.logits.float().log_softmax(-1)
            top_lp, top_ids = logp.topk(min(TOP_K, logp.shape[-1]))
            top = [Guess(single_token_text(tok, int(t)), int(t), math.exp(float(v)))
                   for v, t in zip(top_lp, top_ids)]
            picked = i < len(ranks)
            rank = ranks[i] if picked else 1
            if rank > len(top):
                raise UserError("why_bad_choices", most=MAX_STEPS, k=len(top))
            chosen = top[rank - 1]
            steps.append(Step(i, chosen, rank, top, picked))
            ids.append(chosen.token_id)
            logprob += math.log(max(chosen.prob, 1e-45))
            if chosen.token_id in eos:
                ended = True
                break
            stepper.take(chosen.token_id)
    text = whole_characters(tok.decode(ids, skip_special_tokens=True))
    return Branch(lm.spec.name, prompt, stepper.prompt_tokens, ranks[:len(steps)], steps, text,
                  logprob, ended)


def _top(tok, logp) -> list:
    top_lp, top_ids = logp.topk(min(TOP_K, logp.shape[-1]))
    return [Guess(single_token_text(tok, int(t)), int(t), math.exp(float(v)))
            for v, t in zip(top_lp, top_ids)]


def follow(lm: LoadedModel, prompt: str, ids, extend: int = EXTEND) -> Branch:
    """The path that takes the given tokens (a written answer, such as the Generate tab's, or
    a path's first tokens and the alternative clicked), then the model's own first choice for
    `extend` more steps. The given tokens are read in one forward pass after the prompt
    (teacher forcing): each step gets the model's probability of the token taken, its rank
    among all tokens (it may lie outside the top-k when the answer was sampled) and the top-k
    alternatives. At most MAX_FOLLOW given tokens are read; `choices` holds their ranks.
    The prompt is read exactly as given (not stripped): an answer continues the very text it
    was written after (a chat prompt ends with a newline after "assistant")."""
    if lm.spec.kind not in ("decoder", "seq2seq"):
        raise unsupported(lm, "branching")
    check_text(prompt, "prompt")        # refuses an empty or too long prompt
    tok = lm.tokenizer
    forced = [int(i) for i in ids][:MAX_FOLLOW]
    eos = {t for t in (tok.eos_token_id, getattr(lm.model.generation_config, "eos_token_id", None))
           if isinstance(t, int)}
    steps, taken, logprob, ended = [], [], 0.0, False
    with torch.no_grad():
        stepper = _Stepper(lm, prompt, forced)
        vocab = stepper.logits.shape[-1]
        if any(not 0 <= i < vocab for i in forced):
            raise ValueError(f"token ids outside {lm.spec.name}'s vocabulary ({vocab})")
        for i, token_id in enumerate(forced):
            logp = stepper.forced_logits[i].float().log_softmax(-1)
            rank = int((logp > logp[token_id]).sum()) + 1
            chosen = Guess(single_token_text(tok, token_id), token_id, math.exp(float(logp[token_id])))
            steps.append(Step(i, chosen, rank, _top(tok, logp), True))
            taken.append(token_id)
            logprob += float(logp[token_id])
            if token_id in eos:
                ended = True
                break
        for i in range(len(steps), len(steps) + (0 if ended else max(0, int(extend)))):
            if i > len(forced):
                stepper.take(taken[-1])
            logp = stepper.logits.float().log_softmax(-1)
            top = _top(tok, logp)
            steps.append(Step(i, top[0], 1, top, False))
            taken.append(top[0].token_id)
            logprob += math.log(max(top[0].prob, 1e-45))
            if top[0].token_id in eos:
                ended = True
                break
    text = whole_characters(tok.decode(taken, skip_special_tokens=True))
    return Branch(lm.spec.name, prompt, stepper.prompt_tokens,
                  [s.rank for s in steps if s.picked], steps, text, logprob, ended)
