"""Analyse meaning with an instruct LM asked for JSON, checked against a schema.

The model is asked for {"entities": [{"text", "label"}], "relations": [{"subject",
"predicate", "object"}], "sentiment"}. What it writes is parsed and validated with pydantic
(`LMAnswer`); output that is not JSON, or JSON of another shape, is reported as invalid with the
reasons and the raw text (never hidden or repaired behind the user's back). Entities are placed
in the text by exact search (the model gives no offsets); one that is not in the text is
dropped with a notice, because the model invented it.

The prompt format is chosen by measurement on assets/eval/analysis_en.conll
(bench/bench_analysis.py; figures in README "Analyse meaning").
"""
from __future__ import annotations

import json
import re
import time
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from models.core.errors import Notice
from models.runners.analysis import Analysis, Entity, Relation, prepare_text
from models.runners.generation import check_text
from models.runners.token_text import whole_characters

LABELS = ("person", "organisation", "place", "date", "number", "other")
LM_MAX_CHARS = 1_500     # SmolLM2 reads ~2 s per 1 000 characters on 2 CPU cores, then writes
MAX_NEW_TOKENS = 200     # room for ~8 entities and ~4 relations of JSON


class LMEntity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1)
    label: str = Field(min_length=1)


class LMRelation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    subject: str = Field(min_length=1)
    predicate: str = Field(min_length=1)
    object: str = Field(min_length=1)


class LMAnswer(BaseModel):
    """The shape the LM is asked for. Extra keys are ignored; missing lists are an error."""
    model_config = ConfigDict(extra="ignore")
    entities: list[LMEntity]
    relations: list[LMRelation] = []
    sentiment: Literal["positive", "negative", "neutral"] | None = None


_SCHEMA_LINE = ('{"entities": [{"text": "...", "label": "person|organisation|place|date|number|'
                'other"}], "relations": [{"subject": "...", "predicate": "...", "object": "..."}],'
                ' "sentiment": "positive|negative|neutral"}')
_EX_TEXT = "Tim Cook announced in Berlin on Monday that Apple will open a new office."
_EX_JSON = ('{"entities": [{"text": "Tim Cook", "label": "person"}, {"text": "Berlin", "label": '
            '"place"}, {"text": "Monday", "label": "date"}, {"text": "Apple", "label": '
            '"organisation"}], "relations": [{"subject": "Apple", "predicate": "will open", '
            '"object": "a new office"}], "sentiment": "neutral"}')

_EX2_TEXT = "张伟昨天在上海参观了复旦大学，他很喜欢那里。"
_EX2_JSON = ('{"entities": [{"text": "张伟", "label": "person"}, {"text": "昨天", "label": "date"}, '
             '{"text": "上海", "label": "place"}, {"text": "复旦大学", "label": "organisation"}], '
             '"relations": [{"subject": "张伟", "predicate": "参观了", "object": "复旦大学"}], '
             '"sentiment": "positive"}')

# name -> (system line or None, user message template, text the answer starts with)
FORMATS = {
    "instruction": (
        None,
        "Find the named entities, the subject-verb-object relations and the sentiment of the "
        "text. Answer with JSON only, in this form:\n" + _SCHEMA_LINE + "\n\nText: {text}",
        ""),
    "one-example": (
        "You extract information from text and answer with JSON only.",
        "Text: " + _EX_TEXT + "\nJSON: " + _EX_JSON + "\n\nText: {text}\nJSON:",
        ""),
    "one-example + start": (
        "You extract information from text and answer with JSON only.",
        "Text: " + _EX_TEXT + "\nJSON: " + _EX_JSON + "\n\nText: {text}\nJSON:",
        '{"entities": [{"text": "'),
    # two worked examples, English and Chinese, with different names: a small model copies a
    # single example's names into its answer
    "two-examples + start": (
        "You extract information from text and answer with JSON only. Use only words that "
        "are in the text.",
        "Text: " + _EX_TEXT + "\nJSON: " + _EX_JSON + "\n\nText: " + _EX2_TEXT + "\nJSON: "
        + _EX2_JSON + "\n\nText: {text}\nJSON:",
        '{"entities": [{"text": "'),
}
# "... + copy": the same prompt, and while the model writes an entity's "text" it may only
# write words of the text (`CopyOnly`): an entity can no longer be a name from the example.
# Measured on the first tweet of assets/eval/analysis_en.conll: its first name was right, then
# SmolLM2 copied a whole sentence as a name and looped to the token limit (invalid JSON, 359 s
# against 81 s): not the default (README "Analyse meaning")
FORMATS["one-example + start + copy"] = FORMATS["one-example + start"]
FORMATS["two-examples + start + copy"] = FORMATS["two-examples + start"]
DEFAULT_FORMAT = "one-example + start"   # measured best; README "Analyse meaning"


def build_prompt(tokenizer, text: str, fmt: str = DEFAULT_FORMAT) -> tuple[str, str]:
    """(prompt as the model sees it, the start of the answer we wrote for it)."""
    system, user, start = FORMATS[fmt]
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user.replace("{text}", text)}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return prompt + start, start


def _first_json_object(raw: str) -> str | None:
    """The first balanced {...} in `raw` (the model may add words before or after it)."""
    begin = raw.find("{")
    if begin < 0:
        return None
    depth, in_str, esc = 0, False, False
    for i in range(begin, len(raw)):
        ch = raw[i]
        if in_str:
            esc = not esc and ch == "\\"
            if ch == '"' and not esc:
                in_str = False
            elif ch != "\\":
                esc = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return raw[begin:i + 1]
    return None


def validate(raw: str) -> tuple[LMAnswer | None, list[str]]:
    """Parse and check the model's output. Returns (answer, []) or (None, reasons)."""
    block = _first_json_object(raw)
    if block is None:
        return None, ["no complete JSON object ({...}) in the output"]
    try:
        data = json.loads(block)
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON: {exc.msg} at character {exc.pos}"]
    try:
        return LMAnswer.model_validate(data), []
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg']}"
                      for err in exc.errors()[:5]]


def place_entities(text: str, items: list[LMEntity]) -> tuple[list[Entity], list[str]]:
    """Find each entity the model named in the text (exact, then ignoring case), left to right
    for repeats. Returns (entities with offsets, names that are not in the text)."""
    used: set[tuple[int, int]] = set()
    found, missing = [], []
    lower = text.lower()
    for item in items:
        name = item.text.strip()
        at, start = -1, 0
        while True:
            at = text.find(name, start)
            if at < 0:
                at = lower.find(name.lower(), start)
            if at < 0 or (at, at + len(name)) not in used:
                break
            start = at + 1
        if at < 0 or not name:
            missing.append(name)
            continue
        used.add((at, at + len(name)))
        found.append(Entity(text[at:at + len(name)], item.label.strip().lower(), at,
                            at + len(name)))
    found.sort(key=lambda e: e.start)
    return found, missing


class _JsonClosed(StoppingCriteria):
    """Stops generation once the answer holds a complete JSON object: the rest would only be
    words after it (or a loop), and a 135M model writes ~20 tokens a second on a CPU."""

    def __init__(self, tokenizer, n_prompt: int, start: str):
        self.tokenizer, self.n_prompt, self.start = tokenizer, n_prompt, start

    def __call__(self, input_ids, scores, **kwargs):
        new = self.tokenizer.decode(input_ids[0, self.n_prompt:], skip_special_tokens=True)
        return _first_json_object(self.start + new) is not None


_OPEN_VALUE = re.compile(r'"text"\s*:\s*"([^"\\]*)$')


def _piece_strings(tokenizer) -> list[str]:
    """Every token id's text, computed once per tokenizer (a 49k vocabulary: about a second)."""
    cached = getattr(tokenizer, "_llm_explorer_pieces", None)
    if cached is None:
        cached = [tokenizer.decode([i]) for i in range(len(tokenizer))]
        try:
            tokenizer._llm_explorer_pieces = cached
        except AttributeError:
            pass
    return cached


class CopyOnly(LogitsProcessor):
    """While the answer is inside an entity's "text" value, only tokens that keep that value a
    piece of the analysed text (or close it with '"' once it is one) may come next: among the
    model's TOP_K likeliest tokens, the likeliest that does is written. Outside those values
    the model writes freely. Greedy decoding with a rule, as grammar-constrained generation
    does; a name that is not in the text can no longer be written."""
    TOP_K = 50

    def __init__(self, tokenizer, n_prompt: int, start: str, text: str):
        self.tokenizer, self.n_prompt, self.start = tokenizer, n_prompt, start
        self.text, self.pieces = text.lower(), _piece_strings(tokenizer)

    def allowed(self, value: str, piece: str) -> bool:
        """Does `piece` keep `value` a piece of the text (any case), or close it as one?"""
        quote = piece.find('"')
        if quote < 0:
            return bool(piece) and (value + piece).lower() in self.text
        return bool(value + piece[:quote]) and (value + piece[:quote]).lower() in self.text

    def __call__(self, input_ids, scores):
        written = self.start + self.tokenizer.decode(input_ids[0, self.n_prompt:],
                                                     skip_special_tokens=True)
        match = _OPEN_VALUE.search(written)
        if match is None:
            return scores
        value = match.group(1)
        top = torch.topk(scores[0], min(self.TOP_K, scores.shape[-1])).indices.tolist()
        keep = [i for i in top if i < len(self.pieces) and self.allowed(value, self.pieces[i])]
        if not keep:
            return scores                   # nothing fits: let the model write what it would
        masked = torch.full_like(scores, float("-inf"))
        masked[0, keep] = scores[0, keep]
        return masked


def generate_json(lm, prompt: str, start: str, max_new_tokens: int = MAX_NEW_TOKENS,
                  copy_from: str | None = None) -> str:
    """Greedy continuation of `prompt` (already templated) until the JSON object closes; with
    `copy_from`, entity names are kept to pieces of that text (`CopyOnly`)."""
    ids = lm.tokenizer(check_text(prompt), add_special_tokens=False,
                       return_tensors="pt")["input_ids"].to(lm.device)
    processors = LogitsProcessorList(
        [CopyOnly(lm.tokenizer, ids.shape[1], start, copy_from)] if copy_from else [])
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                            max_new_tokens=int(max_new_tokens), logits_processor=processors,
                            stopping_criteria=StoppingCriteriaList(
                                [_JsonClosed(lm.tokenizer, ids.shape[1], start)]),
                            pad_token_id=lm.tokenizer.pad_token_id or lm.tokenizer.eos_token_id)
    return whole_characters(lm.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))


def analyze_lm(manager, key: str, text: str, fmt: str = DEFAULT_FORMAT,
               max_new_tokens: int = MAX_NEW_TOKENS) -> Analysis:
    """Ask an instruct LM (greedy) for the JSON, validate it, place its entities in the text."""
    started = time.perf_counter()
    text, notices = prepare_text(text, LM_MAX_CHARS)
    spec = manager.registry.get(key)
    with manager.use(key) as lm, manager.guard():
        prompt, start = build_prompt(lm.tokenizer, text, fmt)
        written = generate_json(lm, prompt, start, max_new_tokens,
                                copy_from=text if fmt.endswith("+ copy") else None)
    raw = start + written
    answer, errors = validate(raw)
    result = Analysis(key, spec.name, "lm", text, notices=notices, valid=answer is not None,
                      raw=raw, prompt=prompt, errors=errors)
    if answer is not None:
        result.entities, missing = place_entities(text, answer.entities)
        if missing:
            result.notices.append(Notice("an_invented", names=", ".join(missing[:5])))
        result.relations = [Relation(r.subject, r.predicate, r.object) for r in answer.relations]
        if answer.sentiment:
            result.sentiment = {"label": answer.sentiment, "score": None, "model": spec.name}
    result.seconds = time.perf_counter() - started
    return result

