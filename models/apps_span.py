"""Answer a question with a decoder LM by choosing the most probable piece of the context.

Greedy decoding picks the answer one token at a time: a small model's first token is often
the start of a sentence rather than of the answer, and everything after follows from it.
Here every piece of the context (up to `MAX_CHARS`, starting and ending at a word or, in
Chinese, a character) is scored as a whole answer, with the model's own probabilities:

    score(piece) = log P(" " + piece | prompt) + log P(line break | prompt + piece)

so a piece must both be likely and be likely to *end* there. The prompt is computed once and
its key/value cache is shared by all the pieces that start at the same place (one forward
pass per group of starts). Greedy takes the best piece; sampling draws a piece with
probability ∝ exp(score / temperature) among the top-k. Then the chosen piece is read once
more, to show the top-5 candidates at each of its tokens like the other tasks do.

Used by the "+span" answer formats (models/apps_prompts.py); bench/bench_prompts.py measures
them against free generation and token-by-token copying.
"""
from __future__ import annotations

import copy
import math
import re
import time
from dataclasses import dataclass

import torch

MAX_CHARS = {"en": 48, "zh": 12}    # an answer is a name or a short phrase
GROUP_TOKENS = 8192                 # rows x prompt tokens of the shared cache in one pass
_WORD = re.compile(r"[^\W_][\w'’.-]*", re.UNICODE)
_ZH_SKIP = re.compile(r"[\s，。；：！？、“”‘’《》（）()「」]")


@dataclass
class Piece:
    start: int          # character offsets in the context
    end: int
    score: float        # log-probability of the piece and of a line break after it


def candidates(context: str, chinese: bool) -> dict[int, list[int]]:
    """start -> the ends a piece starting there may have (words or Chinese characters)."""
    out: dict[int, list[int]] = {}
    if chinese:
        keep = [i for i, ch in enumerate(context) if not _ZH_SKIP.match(ch)]
        ok = set(keep)
        for a in keep:
            ends = []
            for b in range(a + 1, min(len(context), a + MAX_CHARS["zh"]) + 1):
                if b - 1 not in ok:
                    break                      # a piece does not run over punctuation
                ends.append(b)
            out[a] = ends
        return out
    words = [(m.start(), m.end()) for m in _WORD.finditer(context)]
    for i, (a, _e) in enumerate(words):
        ends = []
        for _s, b in words[i:]:
            if b - a > MAX_CHARS["en"]:
                break
            end = b
            while end > a + 1 and context[end - 1] in ".-'’":   # "Paris." -> "Paris"
                end -= 1
            ends.append(end)
        out[a] = sorted(set(ends))
    return out


def _newline_logp(logp: torch.Tensor, newline_ids: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(logp[..., newline_ids], dim=-1)


def score_pieces(lm, prompt_ids: list[int], context: str, chinese: bool, lead: str,
                 newline_ids: list[int]) -> list[Piece]:
    """Every candidate piece with its score (see the module docstring)."""
    tok, model = lm.tokenizer, lm.model
    device = lm.device
    nl = torch.tensor(sorted(newline_ids), device=device)
    ids = torch.tensor([prompt_ids], device=device)
    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True)
    cache = out.past_key_values
    first = torch.log_softmax(out.logits[0, -1].float(), -1)
    cands = candidates(context, chinese)
    starts = [a for a, ends in cands.items() if ends]
    pieces: list[Piece] = []
    rows = max(1, min(16, GROUP_TOKENS // len(prompt_ids)))   # bounds the copied cache's memory
    for g in range(0, len(starts), rows):
        group = starts[g:g + rows]
        encs = []
        for a in group:
            text = lead + context[a:max(cands[a])]
            encs.append(tok(text, add_special_tokens=False, return_offsets_mapping=True))
        width = max(len(e["input_ids"]) for e in encs)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        batch = torch.tensor([e["input_ids"] + [pad] * (width - len(e["input_ids"]))
                              for e in encs], device=device)
        shared = copy.deepcopy(cache)
        shared.batch_repeat_interleave(len(group))
        mask = torch.ones(len(group), ids.shape[1] + width, dtype=torch.long, device=device)
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=batch, past_key_values=shared,
                                           attention_mask=mask, use_cache=False).logits.float(), -1)
        ends_nl = _newline_logp(logp, nl)                         # [rows, width]
        for row, (a, enc) in enumerate(zip(group, encs)):
            tids, offs = enc["input_ids"], enc["offset_mapping"]
            wanted = set(cands[a])
            total = 0.0
            for j, tid in enumerate(tids):
                total += float(first[tid]) if j == 0 else float(logp[row, j - 1, tid])
                if j + 1 < len(tids) and offs[j + 1][1] == offs[j][1]:
                    continue                   # the rest of this character's bytes follow
                b = a + offs[j][1] - len(lead)
                if b in wanted:
                    pieces.append(Piece(a, b, total + float(ends_nl[row, j])))
    return pieces


def choose(pieces: list[Piece], greedy: bool, temperature: float, top_k: int,
           seed: int | None) -> Piece:
    ranked = sorted(pieces, key=lambda p: p.score, reverse=True)
    if greedy or len(ranked) == 1:
        return ranked[0]
    pool = ranked[:top_k] if top_k and top_k > 0 else ranked
    weights = torch.tensor([p.score / max(float(temperature), 1e-3) for p in pool])
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    pick = int(torch.multinomial(torch.softmax(weights, 0), 1, generator=gen))
    return pool[pick]


@dataclass
class SpanRun:
    text: str
    start: int
    end: int
    token_ids: list
    steps: list          # batching.StepCandidates per token of the chosen piece
    seconds: float
    pieces: int          # how many pieces were scored
    probability: float   # exp(score): the model's probability of this answer, line break included


def answer(lm, prompt_ids: list[int], context: str, chinese: bool, lead: str, newline_ids,
           greedy: bool = True, temperature: float = 1.0, top_k: int = 0,
           seed: int | None = None) -> SpanRun:
    from .batching import TOP_N, StepCandidates
    started = time.perf_counter()
    pieces = score_pieces(lm, prompt_ids, context, chinese, lead, newline_ids)
    if not pieces:
        return SpanRun("", 0, 0, [], [], time.perf_counter() - started, 0, 0.0)
    best = choose(pieces, greedy, temperature, top_k, seed)
    tok = lm.tokenizer
    piece_ids = tok(lead + context[best.start:best.end], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([list(prompt_ids) + piece_ids], device=lm.device)
    with torch.inference_mode():
        probs = torch.softmax(lm.model(input_ids=ids).logits[0].float(), -1)
    steps = []
    for j, tid in enumerate(piece_ids):
        p = probs[len(prompt_ids) - 1 + j]
        top = p.topk(TOP_N)
        steps.append(StepCandidates(tuple(top.indices.tolist()), tuple(top.values.tolist()), None,
                                    float(p[tid]), None))
    return SpanRun(context[best.start:best.end], best.start, best.end, piece_ids, steps,
                   time.perf_counter() - started, len(pieces), math.exp(best.score))
