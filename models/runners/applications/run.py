"""Applications of language models: summarize, translate, answer questions.

transformers 5 has no pipelines for these tasks, so the runners are written here, in the
three stages of a pipeline (README "Architecture"):

  prepare       text + options -> token ids and the exact text the model reads
                (chat template for instruct LMs; task prefix for T5; plain input for BART
                and Marian), cut to the context window with a notice, never silently
  run           batched, streamed `generate` (models/runners/batching.py) — device-agnostic
  post-process  token ids -> text, speed figures, and the top-5 candidates of every step

Extractive question answering (start/end logits over a context) lives in models/runners/applications/qa.py.
Which model is better for a task, and what to say when it cannot be used offline, is
decided by `advice` from the registry, not by the UI.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

from models.runners.applications import prompts
from models.runners.applications import span as apps_span
from models.runners.applications.prompts import LANGUAGES, PromptFormat
from models.runners.batching import Batcher, StepCandidates, _eos_ids
from models.core.errors import Notice, UserError
from models.core.families import Family, family_of
from models.core.manager import LoadedModel
from models.core.registry import ModelSpec
from models.runners.generation import GenerationSettings, check_text

# Summary length -> (sentences asked of an instruct model, max new tokens)
LENGTHS = {"short": ("one sentence", 48), "medium": ("two or three sentences", 96),
           "long": ("one paragraph", 160)}
SENTENCES = {"short": 1, "medium": 2, "long": 3}   # an extractive summary's sentences
# The translation directions T5 was trained on, with the prefix it expects.
SPAN_MAX_TOKENS = 1024   # "+span" answers compare every piece of the context: up to this prompt
# The longest prompt an application reads, whatever the model's window (SmolLM2's is 8,192): an
# extractive summary reads the prompt, then scores its sentences against it (about 1.5x the
# reading again). A 20,000-character paste of BBC news on this 2-core CPU, quiet (load 1.4):
# cut to 1,024 tokens, read in 3.3 s + scored in 4.7 s; cut to 2,048, 8.4 s + 14.7 s; on a busy
# machine (load 5-9) the 2,048-token run took 160 s. The device is the class's, one request at a
# time, so one student's paste may hold it for seconds, not minutes: 1,024 tokens (about 4,000
# characters of English, 700 Chinese characters). A longer text is cut with the "cut" notice.
DOC_TOKENS = 1024
# The most a translation writes (below); a source that needs more is cut to what fits, with the
# "cut" notice, rather than translated in part without a word
TRANSLATION_TOKENS = 384
ANSWER_TOKENS = 40   # short answers; a Chinese character takes ~3 of SmolLM2's byte-level tokens
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_STOP = {"the", "a", "an", "is", "are", "was", "were", "of", "in", "on", "to", "and", "or",
         "it", "its", "this", "that", "answer", "question", "context", "by", "for", "as", "at"}
_OPUS = re.compile(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})(?![a-z])", re.I)


@dataclass(frozen=True)
class Prepared:
    """The model input for one request: ids (without padding) and the text they encode."""
    task: str
    input_ids: list
    prompt_text: str          # exactly what the model reads (chat template / prefix applied)
    max_new_tokens: int
    notices: tuple = ()       # Notice items: input cut to fit, ...
    fmt: PromptFormat | None = None   # decoder LMs: the prompt format (apps_prompts.py)
    copy_from: str | None = None      # "copy" formats: the answer must be a piece of this text
    null_ids: list | None = None      # calibrated span formats: the prompt with a question
                                      # that asks nothing (models/runners/applications/span.py)
    sentences: int = 0                # "+extract" summaries: how many sentences to pick


@dataclass(frozen=True)
class TokenInsight:
    """One generated token and the 5 most likely candidates at that step:
    candidates = [(token text, model probability, probability after sampling settings)]."""
    text: str
    model_p: float
    sample_p: float | None
    candidates: tuple


@dataclass
class AppUpdate:
    text: str
    n_tokens: int
    seconds: float            # generation time of this request's batch so far
    waited: float             # time queued before the batch started
    batch_size: int           # requests served together with this one
    done: bool = False
    insight: list = field(default_factory=list)   # TokenInsight per token, filled when done

    @property
    def tokens_per_s(self) -> float:
        return self.n_tokens / self.seconds if self.seconds > 0 else 0.0


def is_chinese(text: str) -> bool:
    return len(_CJK.findall(text or "")) >= max(1, len(text or "") // 10)


def lang_pair(spec: ModelSpec) -> tuple[str, str] | None:
    """A translator's direction: declared in the registry, or read from an opus-mt name."""
    if spec.lang_pair:
        return spec.lang_pair
    found = _OPUS.search(f"{spec.name} {spec.location}")
    return (found.group(1).lower(), found.group(2).lower()) if found else None


def check_task(spec: ModelSpec, task: str) -> None:
    if task not in spec.tasks:
        raise UserError("wrong_task", name=spec.name, task=task)


def _prefixes(lm: LoadedModel) -> Family:
    """The model's family (models/core/families.py): its task prefixes and translation pairs."""
    return family_of(lm.model.config) or Family("", (), lm.spec.kind)


def _prefix_pairs(fam: Family) -> dict:
    """(source, target) -> the input prefix, for a family that translates by prefix (T5)."""
    return {(s, t): fam.prefixes["translate"].format(source=LANGUAGES[s], target=LANGUAGES[t])
            for s, t in fam.pairs}


# ---- prepare ---------------------------------------------------------------------------------
def _first_tokens(tok, doc: str, n: int) -> str:
    """The text of the document's first `n` tokens, as the user wrote it: cut where the n-th
    token's character ends (a byte-level tokenizer splits a Chinese character over tokens, and
    decoding only some of them would end the text in "�")."""
    if getattr(tok, "is_fast", False):
        offsets = tok(doc, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return doc[:offsets[n - 1][1]] if n else ""
    return tok.decode(tok(doc, add_special_tokens=False)["input_ids"][:n]).rstrip("\ufffd")


def _fit(lm: LoadedModel, doc_ids: list[int], room: int, notices: list,
         cap: int | None = None) -> list[int]:
    """Keep the beginning of a document that does not fit the `room` the prompt leaves (or is
    over `cap` tokens), and say so."""
    if room < 16:
        raise UserError("apps_no_room", name=lm.spec.name, max_length=lm.max_length)
    room = room if cap is None else min(room, cap)
    if len(doc_ids) > room:
        notices.append(Notice("cut", n=len(doc_ids), room=room, name=lm.spec.name))
        return doc_ids[:room]
    return doc_ids


def _lm_prepare(lm: LoadedModel, task: str, fmt: PromptFormat, render, doc: str,
                max_new: int, most: int | None = None,
                doc_most: int | None = None) -> tuple[Prepared, str]:
    """Decoder LMs: `render(doc)` is the whole prompt in format `fmt`. Only the document is
    shortened if the whole does not fit the context window or `most` tokens (or the document
    is over `doc_most`), with the "cut" notice. -> (prepared, the document kept)."""
    tok = lm.tokenizer
    if fmt.chat and not getattr(tok, "chat_template", None):
        raise UserError("wrong_task", name=lm.spec.name)
    notices: list = []
    shell = len(tok(render(""), add_special_tokens=False)["input_ids"])
    doc_ids = tok(doc, add_special_tokens=False)["input_ids"]
    room = min(lm.max_length - max_new, DOC_TOKENS if most is None else most) - shell
    kept = _fit(lm, doc_ids, room, notices, doc_most)
    if len(kept) < len(doc_ids):
        doc = _first_tokens(tok, doc, len(kept))
    text = render(doc)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    return Prepared(task, ids, text, max_new, tuple(notices), fmt), doc


def _chat(lm: LoadedModel, fmt: PromptFormat, task: str, user: str, shot=None) -> str:
    return lm.tokenizer.apply_chat_template(prompts.chat_messages(fmt, task, user, shot),
                                            add_generation_prompt=True, tokenize=False)


def _seq2seq_prepare(lm: LoadedModel, task: str, prefix: str, doc: str, max_new: int) -> Prepared:
    """Encoder-decoder models read the (prefixed) source; the decoder writes the output."""
    tok = lm.tokenizer
    notices: list = []
    prefix_ids = tok(prefix, add_special_tokens=False)["input_ids"] if prefix else []
    doc_ids = tok(doc, add_special_tokens=False)["input_ids"]
    specials = len(tok("", add_special_tokens=True)["input_ids"])
    limit = min(lm.max_length, 1024)
    kept = _fit(lm, doc_ids, limit - len(prefix_ids) - specials, notices)
    source = prefix + (_first_tokens(tok, doc, len(kept)) if len(kept) < len(doc_ids) else doc)
    ids = tok(source, add_special_tokens=True)["input_ids"][:limit]
    return Prepared(task, ids, source, max_new, tuple(notices))


def summary_tokens(length: str, chinese: bool) -> int:
    """Max new tokens of a summary: SmolLM2's byte-level tokenizer needs about 2.5 tokens per
    Chinese character, so a Chinese summary of the same length gets more tokens."""
    n = LENGTHS[length][1]
    return int(n * 2.5) if chinese else n


def prepare_summarize(lm: LoadedModel, text: str, length: str = "medium",
                      fmt: str | None = None) -> Prepared:
    check_task(lm.spec, "summarize")
    text = check_text(text, "text")
    if length not in LENGTHS:
        raise UserError("bad_setting", value=length, choices=", ".join(LENGTHS))
    sentences = LENGTHS[length][0]
    zh = is_chinese(text)
    max_new = summary_tokens(length, zh)
    if lm.spec.kind == "seq2seq":
        prefix = _prefixes(lm).prefixes.get("summarize", "")
        return _seq2seq_prepare(lm, "summarize", prefix, text, max_new)
    lang = "zh" if zh else "en"
    form = prompts.lookup("summarize", fmt, lang)
    in_zh = " Write the summary in Chinese." if zh else ""
    instruction = f"Summarize the following text in {sentences}.{in_zh}\n\n"
    if form.chat:
        ex_text, ex_sum = prompts.SUMMARY_SHOTS[lang]
        shot = (instruction + ex_text, ex_sum)
        prep, kept = _lm_prepare(lm, "summarize", form,
                                 lambda doc: _chat(lm, form, "summarize", instruction + doc, shot),
                                 text, max_new)
        # extractive: the summary is picked from the sentences of the text the model read
        return replace(prep, copy_from=kept, sentences=SENTENCES[length]) if form.extract else prep
    label = "Summary (in Chinese)" if zh else "Summary"
    frame = f"Text: {{doc}}\n{label}, in {sentences}:"
    head = ""
    if form.shots:
        ex_text, ex_sum = prompts.SUMMARY_SHOTS[lang]
        head = frame.format(doc=ex_text) + f" {ex_sum}\n\n"
    return _lm_prepare(lm, "summarize", form, lambda doc: head + frame.format(doc=doc),
                       text, max_new)[0]


def prepare_translate(lm: LoadedModel, text: str, source: str, target: str,
                      max_new_tokens: int | None = None, fmt: str | None = None) -> Prepared:
    """max_new_tokens: by default about 3x the source's tokens (a translation has roughly
    the source's length), 5x into Chinese (a byte-level tokenizer such as SmolLM2's spends ~3
    tokens on a Chinese character); at least 24, at most 384."""
    check_task(lm.spec, "translate")
    text = check_text(text, "text")
    ratio = 5 if target == "zh" else 3
    if max_new_tokens is None:
        n = len(lm.tokenizer(text, add_special_tokens=False)["input_ids"])
        max_new_tokens = max(24, min(TRANSLATION_TOKENS, ratio * n))
    source_most = max(8, int(max_new_tokens) // ratio)     # what the answer's length can hold
    for code in (source, target):
        if code not in LANGUAGES:
            raise UserError("bad_language", language=str(code))
    if source == target:
        raise UserError("same_language")
    if lm.spec.kind == "seq2seq":
        fam = _prefixes(lm)
        if "translate" in fam.prefixes:
            pairs = _prefix_pairs(fam)
            prefix = pairs.get((source, target))
            if prefix is None:
                raise UserError("unsupported_pair", name=lm.spec.name, pairs=_pairs_text(pairs))
            return _seq2seq_prepare(lm, "translate", prefix, text, max_new_tokens)
        pair = lang_pair(lm.spec)
        if pair is not None and pair != (source, target):
            raise UserError("unsupported_pair", name=lm.spec.name, pairs=_pairs_text({pair: ""}))
        prep = _seq2seq_prepare(lm, "translate", "", text, max_new_tokens)
        if pair is None:
            note = Notice("pair_unknown", name=lm.spec.name)
            prep = replace(prep, notices=prep.notices + (note,))
        return prep
    form = prompts.lookup("translate", fmt, source)
    src, tgt = LANGUAGES[source], LANGUAGES[target]
    ex_src, ex_tgt = prompts.TRANSLATE_SHOT[source], prompts.TRANSLATE_SHOT[target]
    if form.chat:
        instruction = (f"Translate the following {src} text into {tgt}. Reply with the "
                       "translation only.\n\n")
        shot = (instruction + ex_src, ex_tgt)
        return _lm_prepare(lm, "translate", form,
                           lambda doc: _chat(lm, form, "translate", instruction + doc, shot),
                           text, max_new_tokens, doc_most=source_most)[0]
    head = f"{src}: {ex_src}\n{tgt}: {ex_tgt}\n\n" if form.shots else ""
    return _lm_prepare(lm, "translate", form, lambda doc: f"{head}{src}: {doc}\n{tgt}:",
                       text, max_new_tokens, doc_most=source_most)[0]


def prepare_answer(lm: LoadedModel, question: str, context: str,
                   fmt: str | None = None) -> Prepared:
    """Generative QA with a decoder LM (extractive models: models/runners/applications/qa.py). In a "copy"
    format the answer is restricted to a piece of the context (models/runners/applications/prompts.py)."""
    check_task(lm.spec, "answer")
    question = check_text(question, "question")
    context = (context or "").strip()
    lang = "zh" if is_chinese(question) else "en"
    form = prompts.lookup("answer", fmt, lang)
    if not context:                    # nothing to copy from: the model answers from memory
        form = replace(form, copy=False)
        if form.chat:
            user = f"Answer the question in a few words.\n\nQuestion: {question}"
            return _lm_prepare(lm, "answer", form, lambda _doc: _chat(lm, form, "answer", user),
                               "", ANSWER_TOKENS)[0]
        return _lm_prepare(lm, "answer", form, lambda _doc: f"Question: {question}\nAnswer:",
                           "", ANSWER_TOKENS)[0]
    ex_ctx, ex_q, ex_a = prompts.QA_SHOTS[lang]
    most = SPAN_MAX_TOKENS if form.span else DOC_TOKENS
    asked = len(lm.tokenizer(question, add_special_tokens=False)["input_ids"])
    if asked > most // 4:           # the context, not the question, must fill what is read
        raise UserError("question_too_long", n=asked, limit=most // 4)
    if form.chat:
        def block(doc, q):
            return ("Answer the question using the context. Reply with a short answer only."
                    f"\n\nContext: {doc}\n\nQuestion: {q}")
        shot = (block(ex_ctx, ex_q), ex_a)
        prep, kept = _lm_prepare(lm, "answer", form,
                                 lambda doc: _chat(lm, form, "answer", block(doc, question), shot),
                                 context, ANSWER_TOKENS, most)
    else:
        def block(doc, q):
            return prompts.qa_block(form, lang, doc, q)
        shown = block(ex_ctx, ex_q)
        head = f"{shown}{'' if shown.endswith('：') else ' '}{ex_a}\n\n" if form.shots else ""
        prep, kept = _lm_prepare(lm, "answer", form, lambda doc: head + block(doc, question),
                                 context, ANSWER_TOKENS, most)
    if form.copy:
        prep = replace(prep, copy_from=kept)
    if form.span and form.calibrate and not form.chat:
        null = head + block(kept, prompts.NULL_QUESTION[lang])
        prep = replace(prep, null_ids=lm.tokenizer(null, add_special_tokens=False)["input_ids"])
    return prep


def _pairs_text(pairs) -> list[list[str]]:
    """The translation directions as [[source, target], ...] language codes: plain data for a
    message (webapp/text.py words a "pairs" parameter in the user's language)."""
    return [[a, b] for a, b in pairs]


# ---- run + post-process ---------------------------------------------------------------------
def run(batcher: Batcher, lm: LoadedModel, prep: Prepared,
        settings: GenerationSettings) -> Iterator[AppUpdate]:
    """Stream one prepared request through the batcher. The caller holds `lm`.
    The text is post-processed as it grows (apps_prompts.clean): never a broken character at
    its end; in a format that stops at a line break, the request ends there."""
    if lm.spec.source == "engine":    # served by an OpenAI-compatible engine
        from models.runners import engine
        yield from engine.run_app(lm, prep, settings)
        return
    settings = replace(settings, max_new_tokens=prep.max_new_tokens)
    tok = lm.tokenizer
    fmt = prep.fmt
    if fmt is not None and fmt.span and prep.copy_from:
        yield _run_span(batcher, lm, prep, settings)
        return
    if fmt is not None and fmt.extract and prep.copy_from:
        yield _run_extract(batcher, lm, prep)
        return
    allowed = None
    if fmt is not None and fmt.copy and prep.copy_from:
        allowed = prompts.copy_rule(tok, prep.copy_from, _eos_ids(lm.model, tok))
    last = None
    stream = batcher.stream(lm, prep.input_ids, settings, allowed)
    try:
        for upd in stream:
            raw = tok.decode(upd.token_ids, skip_special_tokens=True)
            if fmt is None:
                text, stopped = prompts.drop_broken(raw).strip(), False
            else:
                text, stopped = prompts.clean(raw, fmt)
            last = AppUpdate(text, len(upd.token_ids), upd.seconds, upd.waited, upd.batch_size,
                             upd.done or stopped)
            if last.done:
                last.insight = insight(tok, upd.token_ids, upd.steps)
                yield last
                return
            yield last
    finally:
        stream.close()                  # a stopped request frees its row in the batch


def _run_span(batcher: Batcher, lm: LoadedModel, prep: Prepared,
              settings: GenerationSettings) -> AppUpdate:
    """The "+span" formats: the most probable piece of the context (models/runners/applications/span.py). It
    takes its turn on the device with the batched generations."""
    lead = "" if prep.prompt_text.endswith("：") else " "
    queued = time.perf_counter()
    with batcher.device_lock:
        waited = time.perf_counter() - queued
        got = apps_span.answer(lm, prep.input_ids, prep.copy_from, is_chinese(prep.copy_from),
                               lead, prompts.newline_ids(lm.tokenizer), settings.greedy,
                               settings.temperature, settings.top_k, settings.seed,
                               null_ids=prep.null_ids, calibrate=prep.fmt.calibrate)
    out = AppUpdate(got.text, len(got.token_ids), got.seconds, waited, 1, done=True)
    out.insight = insight(lm.tokenizer, got.token_ids, got.steps)
    return out


def _run_extract(batcher: Batcher, lm: LoadedModel, prep: Prepared) -> AppUpdate:
    """The "+extract" summary formats: the text's own sentences the model scores highest
    (models/runners/applications/span.py), as many as the length asks for. Takes its turn on the device."""
    queued = time.perf_counter()
    with batcher.device_lock:
        waited = time.perf_counter() - queued
        got = apps_span.extract(lm, prep.input_ids, prep.copy_from, prep.sentences)
    out = AppUpdate(got.text, len(got.token_ids), got.seconds, waited, 1, done=True)
    out.insight = insight(lm.tokenizer, got.token_ids, got.steps)
    return out


def run_to_end(batcher: Batcher, lm: LoadedModel, prep: Prepared,
               settings: GenerationSettings) -> AppUpdate:
    last = None
    for last in run(batcher, lm, prep, settings):
        pass
    return last


def insight(tok, token_ids: list, steps: list[StepCandidates]) -> list[TokenInsight]:
    """Token ids + recorded candidates -> readable rows for the insight view."""
    rows = []
    for tid, step in zip(token_ids, steps):
        cands = tuple((tok.decode([i]), mp, None if step.sample_p is None else step.sample_p[n])
                      for n, (i, mp) in enumerate(zip(step.ids, step.model_p)))
        rows.append(TokenInsight(tok.decode([tid]), step.chosen_model_p, step.chosen_sample_p,
                                 cands))
    return rows


def find_span(answer: str, context: str, question: str = "") -> tuple[int, int] | None:
    """Where a generated answer occurs in the context, to highlight it: the whole answer if it
    is there (case-insensitive), else the longest run of its words found in the context that
    starts and ends with a word not in the question ("The capital of Kenya is Nairobi." ->
    "Nairobi")."""
    answer = (answer or "").strip().strip(".。!！\"'“”")
    if not answer or not context:
        return None
    at = context.lower().find(answer.lower())
    if at >= 0:
        return at, at + len(answer)
    words = re.findall(r"\w+", answer)[:64]
    known = {w.lower() for w in re.findall(r"\w+", question or "")} | _STOP
    best = None
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            if words[i].lower() in known or words[j - 1].lower() in known:
                continue
            found = re.search(r"\W+".join(map(re.escape, words[i:j])), context, re.I)
            if found and (best is None or found.end() - found.start() > best[1] - best[0]):
                best = (found.start(), found.end())
                break
    return best


# ---- which model is better -------------------------------------------------------------------
