"""Answer a question with a decoder LM by choosing the most probable piece of the context.

Greedy decoding picks the answer one token at a time: a small model's first token is often
the start of a sentence rather than of the answer, and everything after follows from it.
Here every piece of the context (up to `MAX_CHARS`, starting and ending at a word or, in
Chinese, a character) is scored as a whole answer, with the model's own probabilities:

    score(piece) = log P(" " + piece | prompt) + log P(line break | prompt + piece)

so a piece must both be likely and be likely to *end* there. Calibrated formats subtract
a share c of the same score under a question that asks nothing ("What does the text
mention?"): score − c · score_null. A small model likes some pieces whatever is asked (the
first name in the context, the subject of the sentence); this discounts them, as
domain-conditional PMI does (Holtzman et al. 2021, "Surface form competition"). The prompt is computed once and
its key/value cache is shared by all the pieces that start at the same place (one forward
pass per group of starts). Greedy takes the best piece; sampling draws a piece with
probability ∝ exp(score / temperature) among the top-k. Then the chosen piece is read once
more, to show the top-5 candidates at each of its tokens like the other tasks do.

Used by the "+span" answer formats (models/runners/applications/prompts.py); bench/bench_prompts.py measures
them against free generation and token-by-token copying.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import torch

from models.runners.forward import (ReadPrompt, cache_argument, continuation_logprobs,
                                    read_prompt, shared_rows)

MAX_CHARS = {"en": 48, "zh": 12}    # an answer is a name or a short phrase
READ_BACK = 128                     # tokens of the chosen text per forward pass when read back
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


def score_pieces(lm, prompt_ids: list[int], context: str, chinese: bool, lead: str,
                 newline_ids: list[int], prompt: ReadPrompt | None = None) -> list[Piece]:
    """Every candidate piece with its score (see the module docstring). The prompt is read
    once; every start's longest piece is read after it in pieces that fit the request's memory
    (models/runners/forward.py), and each shorter piece is scored on the way."""
    tok = lm.tokenizer
    prompt = prompt or read_prompt(lm, prompt_ids)
    cands = candidates(context, chinese)
    starts = [a for a, ends in cands.items() if ends]
    encs = [tok(lead + context[a:max(cands[a])], add_special_tokens=False,
                return_offsets_mapping=True) for a in starts]
    scored = continuation_logprobs(lm, prompt, [e["input_ids"] for e in encs], newline_ids)
    pieces: list[Piece] = []
    for a, enc, got in zip(starts, encs, scored):
        offs = enc["offset_mapping"]
        wanted = set(cands[a])
        total = 0.0
        for j, lp in enumerate(got.token_logp):
            total += lp
            if j + 1 < len(offs) and offs[j + 1][1] == offs[j][1]:
                continue                   # the rest of this character's bytes follow
            b = a + offs[j][1] - len(lead)
            if b in wanted:
                pieces.append(Piece(a, b, total + got.next_logp[j]))
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


def calibrated(pieces: list[Piece], null: list[Piece], share: float) -> list[Piece]:
    """score − share · (the same piece's score under the null question)."""
    base = {(p.start, p.end): p.score for p in null}
    return [Piece(p.start, p.end, p.score - share * base.get((p.start, p.end), 0.0))
            for p in pieces]


def answer(lm, prompt_ids: list[int], context: str, chinese: bool, lead: str, newline_ids,
           greedy: bool = True, temperature: float = 1.0, top_k: int = 0,
           seed: int | None = None, null_ids: list[int] | None = None,
           calibrate: float = 0.0) -> SpanRun:
    started = time.perf_counter()
    prompt = read_prompt(lm, prompt_ids)
    pieces = score_pieces(lm, prompt_ids, context, chinese, lead, newline_ids, prompt)
    raw = {(p.start, p.end): p.score for p in pieces}
    if null_ids and calibrate:
        pieces = calibrated(pieces, score_pieces(lm, null_ids, context, chinese, lead,
                                                 newline_ids), calibrate)
    if not pieces:
        return SpanRun("", 0, 0, [], [], time.perf_counter() - started, 0, 0.0)
    best = choose(pieces, greedy, temperature, top_k, seed)
    piece_ids, steps = _read_back(lm, prompt, lead + context[best.start:best.end])
    return SpanRun(context[best.start:best.end], best.start, best.end, piece_ids, steps,
                   time.perf_counter() - started, len(pieces), math.exp(raw[best.start, best.end]))


def _read_back(lm, prompt: ReadPrompt, text: str) -> tuple[list[int], list]:
    """The chosen text read once more after the prompt (its cache, not copied): its token ids
    and the top candidates at each of its tokens (shown like a generation's), READ_BACK tokens
    per forward pass."""
    from models.runners.batching import TOP_N, StepCandidates
    piece_ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    cache = shared_rows(prompt.cache, 1)
    name = cache_argument(lm.model)
    dists = [torch.softmax(prompt.last_logits, -1)]
    with torch.inference_mode():
        for a in range(0, max(len(piece_ids) - 1, 0), READ_BACK):
            b = min(a + READ_BACK, len(piece_ids) - 1)
            ids = torch.tensor([piece_ids[a:b]], device=lm.device)
            mask = torch.ones(1, prompt.tokens + b, dtype=torch.long, device=lm.device)
            logits = lm.model(input_ids=ids, attention_mask=mask, use_cache=True,
                              **{name: cache}).logits[0].float()
            dists.extend(torch.softmax(logits, -1))
    steps = []
    for tid, p in zip(piece_ids, dists):
        top = p.topk(TOP_N)
        steps.append(StepCandidates(tuple(top.indices.tolist()), tuple(top.values.tolist()), None,
                                    float(p[tid]), None))
    return piece_ids, steps


# ---- extractive summaries ----------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?])(?=\s+[\"“‘(]?[A-Z])")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of the text (Chinese or Latin punctuation)."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start()
        if text[start:end].strip():
            out.append((start, end))
        start = end
    if text[start:].strip():
        out.append((start, len(text)))
    # trim the spaces around each sentence
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b - len(text[a:b]) + len(text[a:b].rstrip()))
            for a, b in out]


def sentence_scores(lm, prompt_ids: list[int], text: str, spans: list[tuple[int, int]],
                    lead: str = "", prompt: ReadPrompt | None = None) -> list[float]:
    """Mean log-probability per token of each sentence as the model's reply to the prompt,
    read in pieces that fit the request's memory (models/runners/forward.py)."""
    tok = lm.tokenizer
    prompt = prompt or read_prompt(lm, prompt_ids)
    encs = [tok(lead + text[a:b], add_special_tokens=False)["input_ids"] or [tok.eos_token_id]
            for a, b in spans]
    scored = continuation_logprobs(lm, prompt, encs)
    return [sum(got.token_logp) / len(got.token_logp) for got in scored]


def extract(lm, prompt_ids: list[int], text: str, n: int, lead: str = "") -> SpanRun:
    """The `n` sentences the model scores highest, in the text's order (at most all but one
    sentence of a text of two or more, so the summary is shorter than the text)."""
    started = time.perf_counter()
    spans = sentences(text)
    n = max(1, min(n, len(spans) - 1)) if len(spans) > 1 else 1
    prompt = read_prompt(lm, prompt_ids)
    scores = sentence_scores(lm, prompt_ids, text, spans, lead, prompt)
    best = sorted(sorted(range(len(spans)), key=lambda i: -scores[i])[:n])
    joiner = "" if re.search(r"[\u3400-\u9fff]", text) else " "
    chosen = joiner.join(text[spans[i][0]:spans[i][1]] for i in best)
    ids, steps = _read_back(lm, prompt, lead + chosen)
    first = spans[best[0]]
    return SpanRun(chosen, first[0], spans[best[-1]][1], ids, steps,
                   time.perf_counter() - started, len(spans),
                   math.exp(sum(scores[i] for i in best) / len(best)))
