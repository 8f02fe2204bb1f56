"""One table of the model families the app knows, read by the registry, the attention
walkthrough, the scale calculator and the applications instead of each branching on
architecture names in its own words.

Adding a family is one entry here plus a tiny model of it in tests/tiny.py. A model whose
`model_type` is in no entry still loads and works wherever transformers' Auto classes and
`output_attentions` suffice; the walkthrough and the calculator then say they do not know it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    name: str
    model_types: tuple[str, ...]      # config.json "model_type" values of this family
    kind: str                         # "encoder" | "decoder" | "seq2seq"
    attention: str = ""               # how the walkthrough finds Q, K, V (its layouts by name)
    scale: str = ""                   # the calculator's parameter formula ("gpt2"|"bert"|"llama")
    rope: bool = False                # rotary positions applied to Q and K
    scaled: bool = True               # scores divided by sqrt(d_k) (T5: no, and a position bias)
    one_direction: bool = False       # a translator for one language pair only (opus-mt)
    prefixes: dict = field(default_factory=dict)   # task -> input prefix the model was trained on
    pairs: tuple = ()                 # (source, target) translation pairs a prefix model knows


FAMILIES: tuple[Family, ...] = (
    Family("bert", ("bert",), "encoder", attention="bert", scale="bert"),
    Family("distilbert", ("distilbert",), "encoder"),
    Family("gpt2", ("gpt2",), "decoder", attention="gpt2", scale="gpt2"),
    Family("llama", ("llama", "mistral"), "decoder", attention="llama", scale="llama", rope=True),
    # Qwen2 lays out attention like Llama but adds q/k/v biases: the calculator has no formula
    Family("qwen2", ("qwen2",), "decoder", attention="llama", rope=True),
    Family("t5", ("t5",), "seq2seq", attention="t5", scaled=False,
           prefixes={"summarize": "summarize: ",
                     "translate": "translate {source} to {target}: "},
           pairs=(("en", "de"), ("en", "fr"), ("en", "ro"))),
    Family("bart", ("bart",), "seq2seq", attention="bart"),
    Family("marian", ("marian",), "seq2seq", attention="bart", one_direction=True),
)

_BY_TYPE = {mt: fam for fam in FAMILIES for mt in fam.model_types}


def scale_formulas() -> tuple[str, ...]:
    """The scale calculator's parameter formulas, in table order (each names a family)."""
    return tuple(dict.fromkeys(f.scale for f in FAMILIES if f.scale))


def family_of(config) -> Family | None:
    """The family of a transformers config (object or dict), or None if the app has no entry."""
    model_type = config.get("model_type") if isinstance(config, dict) else getattr(
        config, "model_type", None)
    return _BY_TYPE.get(model_type or "")
