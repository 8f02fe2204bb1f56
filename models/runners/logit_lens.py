"""The logit lens (nostalgebraist 2020): what each layer already predicts.

A transformer keeps one vector per token, the residual stream, and every layer adds to it.
Only the last one is turned into a prediction: final norm, then the output layer. The lens
sends every layer's vector through that same final norm and output layer, giving a
prediction per layer and position: a layers x positions grid of the top token and its
probability, the rank the model's final choice has at every layer, and where it emerges.

Verified: the last layer through the lens must give the model's own output distribution;
`max_abs_diff` is the largest difference of the two probability vectors (< 1e-4 in float32),
as models/runners/walkthrough.py checks recomputed attention weights.

Families: decoders (Llama/SmolLM2, GPT-2), the decoder of encoder-decoders (T5, BART,
Marian: columns are the output tokens the model writes greedily for the text) and classifiers
fine-tuned in the app (BERT/MiniLM, DistilBERT: each layer's first token through the pooler
and classifier gives class probabilities). A base encoder predicts nothing: not applicable.

prepare (tokens, the model's pieces) -> run (one forward pass, a hook per layer) ->
post-process (per layer: top-k and the final token's rank, kept small).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.core.errors import Notice
from models.core.manager import LoadedModel
from models.runners.token_text import single_token_text, token_pieces
from models.runners.parts import decoder_start, lens_parts, prepare

TOP_K = 5
MAX_POSITIONS = 48        # columns of the grid (the last ones); more is unreadable and slow
LAYERS_PER_CHUNK = 8      # layers sent through the head at once (memory: 8 x columns x vocabulary)
SEQ2SEQ_NEW = 16          # output tokens an encoder-decoder writes for the lens


@dataclass(frozen=True)
class Guess:
    token: str
    token_id: int
    prob: float


@dataclass(frozen=True)
class LogitLens:
    """Rows are layers: row 0 is the embeddings (before any layer), row i the output of layer
    i. Columns are positions: column j holds what the model predicts *after* reading tokens[j].

    top          [rows][columns] -> the TOP_K guesses, most likely first
    final        [columns] the model's own top guess (the last row's first guess)
    final_rank   float array [rows, columns]: rank of that guess at every layer (1 = top)
    final_prob   float array [rows, columns]: its probability at every layer
    max_abs_diff largest |p_lens - p_model| of the last row against the model's own output
    """
    model_name: str
    family: str
    kind: str
    where: str                 # "self", "decoder" (encoder-decoder) or "classifier"
    tokens: list
    input_tokens: list         # the text's tokens (for encoder-decoders: the source)
    top: list
    final: list
    final_rank: np.ndarray
    final_prob: np.ndarray
    max_abs_diff: float
    dtype: str
    notice: Notice | None = None

    @property
    def rows(self) -> int:
        return len(self.top)

    @property
    def columns(self) -> int:
        return len(self.tokens)

    @property
    def verified(self) -> bool:
        return self.max_abs_diff < 1e-4

    def emergence(self, column: int = -1) -> int | None:
        """First layer from which the final guess stays the top token (None: only at the end
        or never)."""
        ranks = self.final_rank[:, column]
        for i in range(len(ranks)):
            if (ranks[i:] == 1).all():
                return i
        return None


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def logit_lens(lm: LoadedModel, text: str, top_k: int = TOP_K,
               max_positions: int = MAX_POSITIONS) -> LogitLens:
    parts = lens_parts(lm, "logit lens")
    prep = prepare(lm, text)
    model, dev = lm.model, lm.device
    src = torch.tensor([prep.ids], device=dev)
    tok = lm.tokenizer
    columns_ids, input_tokens = prep.ids, prep.tokens
    kwargs: dict = {"input_ids": src}
    if lm.spec.kind == "seq2seq":
        with torch.no_grad():
            out_ids = model.generate(src, attention_mask=torch.ones_like(src), do_sample=False,
                                     max_new_tokens=SEQ2SEQ_NEW, num_beams=1)[0].tolist()
        if out_ids[0] != decoder_start(lm):
            out_ids = [decoder_start(lm)] + out_ids
        dec = out_ids[:-1] if len(out_ids) > 1 else out_ids   # columns predict the next output
        kwargs.update(attention_mask=torch.ones_like(src),
                      decoder_input_ids=torch.tensor([dec], device=dev))
        columns_ids = dec
    states: list = [None] * (len(parts.blocks) + 1)

    def pre_hook(_mod, args, kw):
        states[0] = args[0] if args else kw.get("hidden_states")

    def hook_for(i):
        def hook(_mod, _args, out):
            states[i + 1] = _first(out)
        return hook
    handles = [parts.blocks[0].register_forward_pre_hook(pre_hook, with_kwargs=True)]
    handles += [b.register_forward_hook(hook_for(i)) for i, b in enumerate(parts.blocks)]
    try:
        with torch.no_grad():
            out = model(**kwargs)
    finally:
        for h in handles:
            h.remove()
    logits = out.logits.float()
    model_probs = (logits[:, None, :] if logits.dim() == 2 else logits)[0].softmax(-1)

    classifier = parts.classes is not None
    if classifier:
        labels, col_tokens = parts.classes, [input_tokens[0]]
        keep = 1
    else:
        keep = min(max_positions, len(columns_ids))
        col_tokens = token_pieces(tok, columns_ids)[-keep:] if lm.spec.kind == "seq2seq" \
            else input_tokens[-keep:]
    notice = prep.notice
    if not classifier and len(columns_ids) > keep:
        notice = notice or Notice("why_lens_cut", n=len(columns_ids), limit=keep)

    names: dict[int, str] = {}         # layers repeat their guesses: decode each id once

    def name(tid: int) -> str:
        if tid not in names:
            names[tid] = labels[tid] if classifier else single_token_text(tok, tid)
        return names[tid]

    top, ranks, probs = [], [], []
    final_ids = model_probs[-keep:].argmax(-1)                       # [columns]
    last_probs = None
    with torch.no_grad():
        # Layers go through the head a few at a time (one larger matrix product is faster than
        # one per layer); top-k and ranks are read from the logits and turned into
        # probabilities with one logsumexp, so the [layers, columns, vocabulary] softmax is
        # never written out. The last layer's full softmax is kept for the check.
        for first in range(0, len(states), LAYERS_PER_CHUNK):
            chunk = states[first:first + LAYERS_PER_CHUNK]
            hs = torch.cat([h if classifier else h[:, -keep:] for h in chunk])   # [c, cols, H]
            scores = parts.head(hs).float()                                      # [c, cols, V]
            lse = scores.logsumexp(-1, keepdim=True)
            k = min(top_k, scores.shape[-1])
            tv, ti = scores.topk(k, dim=-1)
            tv = (tv - lse).exp()
            chosen = scores.gather(-1, final_ids[None, :, None].expand(len(chunk), -1, 1))
            rank = (scores > chosen).sum(-1) + 1                                 # [c, cols]
            chosen_p = (chosen - lse)[..., 0].exp()
            for rv, ri, rr, rp in zip(tv.tolist(), ti.tolist(), rank.tolist(), chosen_p.tolist()):
                top.append([[Guess(name(i), i, v) for v, i in zip(cv, ci)]
                            for cv, ci in zip(rv, ri)])
                ranks.append(rr)
                probs.append(rp)
            if first + len(chunk) == len(states):
                last_probs = scores[-1].softmax(-1)
    diff = float((last_probs - model_probs[-keep:]).abs().max())
    final = [Guess(name(int(i)), int(i), float(model_probs[-keep:][j, i]))
             for j, i in enumerate(final_ids)]
    return LogitLens(lm.spec.name, prep.family, lm.spec.kind,
                     "classifier" if classifier else parts.where, col_tokens, input_tokens,
                     top, final, np.array(ranks, dtype=np.float32),
                     np.array(probs, dtype=np.float32), diff,
                     str(next(model.parameters()).dtype).replace("torch.", ""), notice)
