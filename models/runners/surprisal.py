"""The pre-training objective made visible: how surprised a causal LM is by each token.

A causal LM is trained to give the next token a high probability; its loss on a token is the
surprisal −log p(token | everything before it). Perplexity is exp(mean surprisal): "the model
was as unsure as if it chose uniformly among this many tokens". One forward pass gives every
position's distribution; we keep only each position's top-k, so the result stays small.

The text is prefixed with the model's BOS token (or EOS, the document separator GPT-style
models see in pre-training) so the first real token also gets a surprisal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.core.errors import Notice, UserError
from models.core.manager import LoadedModel
from models.runners.token_text import PARTIAL, single_token_text, token_pieces

MAX_TOKENS = 512     # one forward pass on a laptop CPU stays around a second with SmolLM2
TOP_K = 10


@dataclass(frozen=True)
class Candidate:
    token: str
    token_id: int
    prob: float


@dataclass
class SurprisalResult:
    """tokens[i] is the i-th token of the text; surprisal[i] = −ln p(tokens[i] | before) in
    nats (None when the model had no context to predict it from); top[i] = the TOP_K tokens the
    model expected *after* tokens[i], most likely first; rank[i] = rank of the actual token
    among all predictions for its position (1 = the model's first choice)."""
    tokens: list[str]
    token_ids: list[int]
    surprisal: list[float | None]
    probs: list[float | None]
    rank: list[int | None]
    top: list[list[Candidate]]
    model_name: str
    notice: Notice | None = None
    alone: list[str] | None = None    # each token shown by itself (hex bytes for part of a
                                      # character): for "the token after position i"

    def label(self, i: int) -> str:
        """Token i for a sentence about that one token: its text, or its bytes when it is only
        the first part of a character (never the ◌ placeholder)."""
        return self.alone[i] if self.alone and self.tokens[i] == PARTIAL else self.tokens[i]

    @property
    def scored(self) -> list[float]:
        return [s for s in self.surprisal if s is not None]

    @property
    def mean_surprisal(self) -> float:
        return sum(self.scored) / len(self.scored) if self.scored else float("nan")

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean_surprisal) if self.scored else float("nan")

    @property
    def bits(self) -> list[float | None]:
        return [None if s is None else s / math.log(2) for s in self.surprisal]


def token_text(tokenizer, token_id: int) -> str:
    """A readable form of one candidate token (its bytes in hex when it is part of a
    character; see models/runners/token_text.py)."""
    return single_token_text(tokenizer, token_id)


@torch.no_grad()
def token_surprisal(lm: LoadedModel, text: str, top_k: int = TOP_K) -> SurprisalResult:
    tok, model = lm.tokenizer, lm.model
    text = (text or "").strip()
    if not text:
        raise UserError("empty_text", what="text")
    if getattr(lm.spec, "kind", "decoder") != "decoder":
        raise UserError("wrong_task", name=lm.spec.name)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    limit = min(MAX_TOKENS, lm.max_length) - (prefix is not None)
    notice = None
    if len(ids) > limit:
        notice = Notice("pre_text_cut", n=len(ids), limit=limit)
        ids = ids[:limit]
    full = ([prefix] if prefix is not None else []) + ids
    input_ids = torch.tensor([full], device=lm.device)
    logits = model(input_ids=input_ids).logits[0].float()          # [t, vocab]
    logp = torch.log_softmax(logits, dim=-1)
    offset = 1 if prefix is not None else 0
    surprisal, probs, ranks = [], [], []
    for i, tid in enumerate(ids):
        pos = i + offset - 1                   # the position whose output predicts token i
        if pos < 0:
            surprisal.append(None), probs.append(None), ranks.append(None)
            continue
        lp = logp[pos, tid]
        surprisal.append(float(-lp))
        probs.append(float(lp.exp()))
        ranks.append(int((logp[pos] > lp).sum()) + 1)
    k = min(top_k, logits.shape[-1])
    top_lp, top_ids = logp[offset:].topk(k, dim=-1)          # predictions after each token
    top = [[Candidate(token_text(tok, int(t)), int(t), float(math.exp(float(p))))
            for p, t in zip(row_p, row_t)] for row_p, row_t in zip(top_lp, top_ids)]
    tokens = token_pieces(tok, ids)
    alone = [token_text(tok, t) for t in ids]
    return SurprisalResult(tokens, ids, surprisal, probs, ranks, top, lm.spec.name, notice, alone)
