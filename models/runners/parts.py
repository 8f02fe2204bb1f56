"""Where each model family keeps the pieces an explanation needs, and how a text is encoded
for one.

- `lens_parts(lm)`: the stack of layers whose outputs the logit lens reads (the decoder's for
  an encoder-decoder) and the function that turns the last layer's output into the model's
  scores exactly as the model does (final norm, output layer, T5's rescaling, BART's bias;
  for a classifier: pooler and classifier). Checked by the lens itself: the last layer's
  scores must equal the model's own output.
- `embed(lm, ids)` and `forward_embeds(...)`: the input embeddings and a forward pass that
  starts from them, which is what integrated gradients interpolates.
- `prepare(lm, text)`: the ids of a text with the positions an explanation must hold fixed
  (special tokens, and the start token put in front of a decoder's text).

Families come from models/core/families.py (one table for the app); a model of another family
gets a clear "does not apply" message instead of a wrong picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from models.core.errors import Notice, UserError
from models.core.families import family_of
from models.core.manager import LoadedModel
from models.runners.generation import check_text
from models.runners.token_text import token_pieces

MAX_TOKENS = 256        # explanations run the model many times: keep inputs short on a CPU


@dataclass(frozen=True)
class LensParts:
    """blocks: the layers, in order; head(h [B, n, d]) -> scores [B, n, V] (classifiers:
    [B, 1, classes], read at the first token); where: "decoder" for encoder-decoders."""
    blocks: list
    head: Callable[[torch.Tensor], torch.Tensor]
    where: str
    classes: list | None = None        # class names of a classifier, else None


@dataclass(frozen=True)
class Prepared:
    """A text encoded for an explanation.

    ids     the input ids (the encoder's for encoder-decoders); for decoders a start token is
            put in front when the tokenizer adds none (models/runners/surprisal.py does the same), so
            the first real word is read like any other
    fixed   one flag per id: True for special tokens, held at their real value by attribution
    """
    kind: str
    family: str
    ids: list
    tokens: list
    fixed: list
    notice: Notice | None = None


def family_name(lm: LoadedModel) -> str:
    fam = family_of(lm.model.config)
    return fam.name if fam else getattr(lm.model.config, "model_type", "?")


def is_classifier(lm: LoadedModel) -> bool:
    return lm.spec.kind == "encoder" and lm.spec.head == "classification"


def class_names(lm: LoadedModel) -> list[str]:
    n = int(getattr(lm.model.config, "num_labels", 0) or 0)
    id2label = {int(k): str(v) for k, v in (lm.model.config.id2label or {}).items()}
    return [id2label.get(i, f"LABEL_{i}") for i in range(n)]


def unsupported(lm: LoadedModel, method: str) -> UserError:
    """The message for a method that does not apply to this model."""
    return UserError("why_not_for_model", method=method, name=lm.spec.name)


# ---- the logit lens's pieces ---------------------------------------------------------------
def lens_parts(lm: LoadedModel, method: str = "logit lens") -> LensParts:
    model, fam = lm.model, family_name(lm)
    cfg = model.config
    if lm.spec.kind == "decoder" and fam == "llama":
        base = model.model
        return LensParts(list(base.layers), lambda h: model.lm_head(base.norm(h)), "self")
    if lm.spec.kind == "decoder" and fam == "gpt2":
        base = model.transformer
        return LensParts(list(base.h), lambda h: model.lm_head(base.ln_f(h)), "self")
    if lm.spec.kind == "seq2seq" and fam == "t5":
        dec = model.get_decoder()
        scale = getattr(cfg, "scale_decoder_outputs", getattr(cfg, "tie_word_embeddings", True))

        def t5_head(h):
            h = dec.final_layer_norm(h)
            return model.lm_head(h * cfg.d_model ** -0.5 if scale else h)
        return LensParts(list(dec.block), t5_head, "decoder")
    if lm.spec.kind == "seq2seq" and fam in ("bart", "marian"):
        dec = model.get_decoder()
        norm = getattr(dec, "layer_norm", None)          # mBART-style; BART/Marian have none

        def bart_head(h):
            h = norm(h) if norm is not None else h
            return model.lm_head(h) + model.final_logits_bias.to(h.dtype)
        return LensParts(list(dec.layers), bart_head, "decoder")
    if is_classifier(lm) and fam == "bert" and getattr(model, "bert", None) is not None \
            and model.bert.pooler is not None:
        return LensParts(list(model.bert.encoder.layer),
                         lambda h: model.classifier(model.bert.pooler(h))[:, None, :], "self",
                         class_names(lm))
    if is_classifier(lm) and fam == "distilbert":
        def distil_head(h):
            return model.classifier(torch.relu(model.pre_classifier(h[:, 0])))[:, None, :]
        return LensParts(list(model.distilbert.transformer.layer), distil_head, "self",
                         class_names(lm))
    raise unsupported(lm, method)


# ---- inputs ---------------------------------------------------------------------------------
def _cut_notice(n: int, limit: int) -> Notice | None:
    if n <= limit:
        return None
    return Notice("why_cut", n=n, limit=limit)


def prepare(lm: LoadedModel, text: str, cap: int = MAX_TOKENS) -> Prepared:
    """Tokenize `text` for the model's kind (see Prepared)."""
    text = check_text(text, "text")
    tok, kind = lm.tokenizer, lm.spec.kind
    limit = max(4, min(cap, int(lm.max_length)))
    special = set(tok.all_special_ids)
    if kind == "decoder":
        ids = decoder_ids(lm, text)
        notice = _cut_notice(len(ids), limit)
        ids = ids[:limit]
    else:
        ids = tok(text, add_special_tokens=True)["input_ids"]
        notice = _cut_notice(len(ids), limit)
        if notice:
            ids = tok(text, add_special_tokens=True, truncation=True, max_length=limit)["input_ids"]
    ids = [int(i) for i in ids]
    fixed = [i in special for i in ids]
    return Prepared(kind, family_name(lm), ids, token_pieces(tok, ids), fixed, notice)


def decoder_ids(lm: LoadedModel, text: str) -> list[int]:
    """A decoder's ids for `text`, with a start token in front when the tokenizer adds none
    (the BOS token, else the end-of-text token that separates documents in pre-training).
    Every part of the tab reads the text this way, so their numbers agree."""
    tok = lm.tokenizer
    ids = [int(i) for i in tok(text, add_special_tokens=True)["input_ids"]]
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    if start is not None and (not ids or ids[0] != start):
        ids = [int(start)] + ids
    return ids


def continuation_ids(lm: LoadedModel, prompt: str, continuation: str) -> list[int]:
    """Token ids of `continuation` as it follows `prompt` (a word after a word gets its space:
    "Paris" after "is" is the token " Paris"; Chinese text follows directly)."""
    cont = continuation or ""
    first = cont.lstrip()[:1]
    if cont and not cont[0].isspace() and first.isascii() and first.isalnum() \
            and prompt and not prompt[-1].isspace():
        cont = " " + cont
    return [int(i) for i in lm.tokenizer(cont, add_special_tokens=False)["input_ids"]]


def baseline_id(lm: LoadedModel) -> int:
    """The token that stands for "no word here" in the attribution baseline.

    Chosen by the completeness error of 32 integrated-gradients steps (bench/bench_why.py):
    decoders: a single space — on SmolLM2 the path from spaces to the text is smooth enough
    that the scores add up to within a few per cent, while from the all-zero vector, the
    padding token (<|im_end|>) or the mean embedding the error stays above 50 %. Encoders:
    [MASK], the token BERT-style models learned to read as "a word is missing here" — on
    MiniLM fine-tuned in the app the error is below 2 % on every test text, against up to
    72 % from [PAD]. Else (encoder-decoders) the padding token, then the unknown or end
    token."""
    tok = lm.tokenizer
    if lm.spec.kind == "decoder":
        space = tok(" ", add_special_tokens=False)["input_ids"]
        if len(space) == 1:
            return int(space[0])
    if lm.spec.kind == "encoder" and tok.mask_token_id is not None:
        return int(tok.mask_token_id)
    for tid in (tok.pad_token_id, tok.unk_token_id, tok.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def embed(lm: LoadedModel, ids) -> torch.Tensor:
    """Input embeddings [B, n, d] of ids, as the model's first layer computes them (BART
    scales them inside its embedding module; position embeddings are added later)."""
    t = torch.as_tensor(ids, device=lm.device)
    if t.dim() == 1:
        t = t[None]
    emb = lm.model.get_encoder().get_input_embeddings() if lm.spec.kind == "seq2seq" else \
        lm.model.get_input_embeddings()
    return emb(t)


def forward_embeds(lm: LoadedModel, embeds: torch.Tensor, decoder_ids: list | None = None,
                   keep: int = 0) -> torch.Tensor:
    """Scores [B, n_out, V] (classifiers: [B, 1, classes]) from input embeddings [B, n, d].
    keep > 0: decoders compute only the last `keep` positions' logits (much less work)."""
    model, batch = lm.model, embeds.shape[0]
    if lm.spec.kind == "decoder":
        kwargs = {"logits_to_keep": keep} if keep else {}
        return model(inputs_embeds=embeds, **kwargs).logits
    mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
    if lm.spec.kind == "seq2seq":
        dec = torch.as_tensor(decoder_ids, device=embeds.device)[None].expand(batch, -1)
        return model(inputs_embeds=embeds, attention_mask=mask, decoder_input_ids=dec).logits
    return model(inputs_embeds=embeds, attention_mask=mask).logits[:, None, :]


def decoder_start(lm: LoadedModel) -> int:
    start = lm.model.config.decoder_start_token_id
    if start is None:
        start = lm.tokenizer.pad_token_id or 0
    return int(start)
