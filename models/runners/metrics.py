"""Quality figures against a reference the user provides, computed offline.

- ROUGE-1 / ROUGE-2 / ROUGE-L (F1) for summaries, with the `rouge-score` package. Its
  default tokenizer keeps only [a-z0-9] and would score Chinese as empty, so text is split
  into words for Latin script and single characters for Chinese (the usual practice for
  Chinese ROUGE).
- BLEU and chrF for translations, with `sacrebleu` (the `zh` tokenizer for Chinese
  targets). `evaluate.load` needs the Hub, so it is not used.
Scores are 0..100, like the papers report them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from models.core.errors import UserError

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)


class _MixedTokenizer:
    """Words for alphabetic scripts, characters for CJK, lower-cased."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall((text or "").lower())


@dataclass(frozen=True)
class Scores:
    """name -> value (0..100), in display order."""
    values: dict


# The most words (or Chinese characters) of an output or a reference that are scored: ROUGE-L
# fills a table of output × reference words, so two pasted books would take more memory than the
# machine has (1 M characters each: past 18 GB); 2,000 x 2,000 words takes ~2 s, and a summary
# or translation is far shorter.
MAX_WORDS = 2_000


def _check(candidate: str, reference: str) -> None:
    if not (candidate or "").strip():
        raise UserError("no_output")
    if not (reference or "").strip():
        raise UserError("no_reference")
    tok = _MixedTokenizer()
    for text in (candidate, reference):
        # counted on a prefix: a text over the limit is refused without reading all of it
        n = len(tok.tokenize(text[:MAX_WORDS * 20]))
        if n > MAX_WORDS:
            raise UserError("metric_too_long", limit=MAX_WORDS)


def rouge(candidate: str, reference: str) -> Scores:
    from rouge_score import rouge_scorer
    _check(candidate, reference)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=_MixedTokenizer())
    result = scorer.score(reference, candidate)
    return Scores({"ROUGE-1": 100 * result["rouge1"].fmeasure,
                   "ROUGE-2": 100 * result["rouge2"].fmeasure,
                   "ROUGE-L": 100 * result["rougeL"].fmeasure})


def bleu_chrf(candidate: str, reference: str, target_lang: str = "en") -> Scores:
    import sacrebleu
    _check(candidate, reference)
    tokenize = "zh" if target_lang == "zh" else "13a"
    bleu = sacrebleu.sentence_bleu(candidate, [reference], tokenize=tokenize)
    chrf = sacrebleu.sentence_chrf(candidate, [reference])
    return Scores({"BLEU": float(bleu.score), "chrF": float(chrf.score)})
