"""How a task is put to an instruct (or plain) language model: prompt formats, the worked
examples of few-shot formats, and what is done to the output (stop at a line break, keep the
answer, copy the answer out of the context).

A 135M model is very sensitive to the form of its prompt, so every format here is measured
on the evaluation set in assets/eval/ by bench/bench_prompts.py, and the best one per task is
the app's default (`DEFAULT`). The UI always shows the exact prompt that was sent.

Dimensions a format can vary (`PromptFormat`):
  chat          the model's chat template (an instruction as the user's message), or plain
                text the model continues ("Context: ... Question: ... Answer:")
  system        our own system line instead of the chat template's default one (SmolLM2's
                says "You are a helpful AI assistant named SmolLM", which it tends to echo)
  shots         one worked example first, in the input's language
  stop/extract  the output ends at its first line break; echoed labels ("Answer:") and
                quotes around the output are dropped
  question-first  QA: the question also before the context, so the model reads the context
                knowing what is asked (it reads left to right)
  native        plain frames: the labels in the input's language ("上下文：… 问题：… 答案：")
  extract       summarize: the summary is made of the text's own sentences, the ones the
                model finds most likely as the answer to the instruction (per token)
  span          QA: instead of choosing the answer token by token, score every piece of the
                context as a whole answer and take the most probable (models/runners/applications/span.py)
  calibrated    span: a piece the model finds likely whatever the question (the first name
                of the context, a word it repeats) is discounted: half its score under a
                question that asks nothing is subtracted
  copy          question answering only: the answer must be a piece of the context — at each
                step the model may only pick a token that continues some span of the context,
                so the answer is always found in the context, in the context's language
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Callable

LANGUAGES = {"en": "English", "zh": "Chinese", "de": "German", "fr": "French", "es": "Spanish",
             "ro": "Romanian"}


@dataclass(frozen=True)
class PromptFormat:
    key: str
    chat: bool                 # in the chat template (else plain text the model continues)
    system: bool = False       # chat: our own system line instead of the template's default
    shots: bool = False        # one worked example before the real input
    stop: bool = False         # stop at the first line break and keep only the answer
    copy: bool = False         # QA: the answer may only be a piece of the context
    question_first: bool = False   # QA: the question before the context too (and after it)
    native: bool = False       # plain frames: labels in the input's language ("问题：")
    span: bool = False         # QA: score every piece of the context as a whole answer
    calibrate: float = 0.0     # span: subtract this share of each piece's score under a
                               # question that asks nothing (models/runners/applications/span.py)
    extract: bool = False      # summarize: pick the text's own sentences the model scores
                               # highest as the summary, instead of writing new ones


def _formats(*items: PromptFormat) -> dict[str, PromptFormat]:
    return {f.key: f for f in items}


# The ways of asking for a text the model writes itself (summaries and translations).
_WRITTEN = (
    PromptFormat("chat-raw", chat=True),
    PromptFormat("chat", chat=True, stop=True),
    PromptFormat("chat+system", chat=True, system=True, stop=True),
    PromptFormat("chat+system+few-shot", chat=True, system=True, shots=True, stop=True),
    PromptFormat("plain", chat=False, stop=True),
    PromptFormat("few-shot", chat=False, shots=True, stop=True))

# "raw" is what the app did before measuring: the instruction in the chat template, no stop.
FORMATS: dict[str, dict[str, PromptFormat]] = {
    "answer": _formats(
        PromptFormat("chat-raw", chat=True),
        PromptFormat("chat", chat=True, stop=True),
        PromptFormat("plain", chat=False, stop=True),
        PromptFormat("few-shot", chat=False, shots=True, stop=True),
        PromptFormat("chat+copy", chat=True, stop=True, copy=True),
        PromptFormat("plain+copy", chat=False, stop=True, copy=True),
        PromptFormat("few-shot+copy", chat=False, shots=True, stop=True, copy=True),
        PromptFormat("few-shot+copy+question-first", chat=False, shots=True, stop=True,
                     copy=True, question_first=True),
        PromptFormat("few-shot+copy+native", chat=False, shots=True, stop=True, copy=True,
                     native=True),
        PromptFormat("few-shot+copy+question-first+native", chat=False, shots=True, stop=True,
                     copy=True, question_first=True, native=True),
        PromptFormat("few-shot+span", chat=False, shots=True, stop=True, copy=True, span=True),
        PromptFormat("few-shot+span+calibrated", chat=False, shots=True, stop=True, copy=True,
                     span=True, calibrate=0.5)),
    "summarize": _formats(*_WRITTEN, PromptFormat("chat+system+extract", chat=True,
                                                  system=True, stop=True, extract=True)),
    "translate": _formats(*_WRITTEN),
}
# The measured best per task and input language, chosen on the `dev` items of assets/eval/
# (bench/bench_prompts.py; figures in the README). Question answering differs by language:
# in English copying token by token is best (81 % of dev questions), in Chinese scoring
# whole pieces of the context is (55 % against 27 %: the model starts a Chinese answer at
# the start of a clause and copies the clause). Summaries: the model's choice among the
# text's own sentences beats what it writes (ROUGE-1 27 vs 17 in English, 35 vs 16 in
# Chinese, where what it writes is mostly not Chinese words at all).
DEFAULT = {"answer": {"en": "few-shot+copy", "zh": "few-shot+span"},
           "summarize": {"en": "chat+system+extract", "zh": "chat+system+extract"},
           "translate": {"en": "few-shot", "zh": "few-shot"}}

SYSTEM = {"summarize": "You write short, faithful summaries of texts.",
          "translate": "You are a careful translator."}

# ---- worked examples (not from the evaluation set) -------------------------------------------
QA_SHOTS = {
    "en": ("Jenny lives in Leeds and works at a bakery on Park Road. She starts at six every "
           "morning.", "Where does Jenny work?", "at a bakery on Park Road"),
    "zh": ("珍妮住在伦敦，她每天坐地铁去一家银行上班。", "珍妮在哪里上班？", "一家银行"),
}
SUMMARY_SHOTS = {
    "en": ("The town's swimming pool will close for repairs from 1 July. The roof has leaked for "
           "two winters, and engineers found that some of the steel beams have rusted. The work "
           "will cost about two million pounds and should take eight months. Until then, "
           "swimmers can use the pool at the sports centre in the next town, and the council "
           "will run a free bus there on Saturdays.",
           "The town pool closes on 1 July for eight months of roof repairs; a free Saturday bus "
           "will take swimmers to a nearby pool."),
    "zh": ("市体育馆的游泳池将从七月一日起关闭维修。屋顶已经漏水两个冬天，工程师还发现部分钢梁生锈。"
           "维修费用约两百万元，预计需要八个月。在此期间，市民可以去邻近城区的体育中心游泳，"
           "市里每周六会安排免费班车。",
           "游泳池七月一日起关闭维修八个月，期间周六有免费班车送市民去邻近的游泳馆。"),
}
# One sentence in every language of LANGUAGES, for few-shot translation in any direction.
TRANSLATE_SHOT = {
    "en": "Could you tell me when the next bus to the city centre leaves?",
    "zh": "请问下一班去市中心的公交车什么时候出发？",
    "de": "Können Sie mir sagen, wann der nächste Bus ins Stadtzentrum fährt?",
    "fr": "Pouvez-vous me dire quand part le prochain bus pour le centre-ville ?",
    "es": "¿Podría decirme cuándo sale el próximo autobús al centro de la ciudad?",
    "ro": "Îmi puteți spune când pleacă următorul autobuz spre centrul orașului?",
}


QA_LABELS = {"en": ("Context: ", "Question: ", "Answer:"), "zh": ("上下文：", "问题：", "答案：")}
# The question that asks nothing, for the calibrated span formats.
NULL_QUESTION = {"en": "What does the text mention?", "zh": "文中提到了什么？"}


def qa_block(fmt: PromptFormat, lang: str, context: str, question: str) -> str:
    """One context + question in a plain frame, ending where the answer starts."""
    c, q, a = QA_LABELS[lang if fmt.native else "en"]
    first = f"{q}{question}\n" if fmt.question_first else ""
    return f"{first}{c}{context}\n{q}{question}\n{a}"


def default_key(task: str, lang: str) -> str:
    """The measured default format of a task for an input in `lang` (English for any
    language other than Chinese)."""
    return DEFAULT[task]["zh" if lang == "zh" else "en"]


def lookup(task: str, key: str | None, lang: str = "en") -> PromptFormat:
    from models.core.errors import UserError
    key = key or default_key(task, lang)
    if key not in FORMATS[task]:
        raise UserError("bad_setting", value=key, choices=", ".join(FORMATS[task]))
    return FORMATS[task][key]


# ---- prompt texts ------------------------------------------------------------------------------
def chat_messages(fmt: PromptFormat, task: str, user: str, shot: tuple[str, str] | None) -> list:
    msgs = [{"role": "system", "content": SYSTEM[task]}] if fmt.system and task in SYSTEM else []
    if fmt.shots and shot:
        msgs += [{"role": "user", "content": shot[0]}, {"role": "assistant", "content": shot[1]}]
    return msgs + [{"role": "user", "content": user}]


# ---- output post-processing --------------------------------------------------------------------
_LABEL = re.compile(r"^\s*(?:(?:the\s+)?answer(?:\s+is)?|a|summary|translation|"
                    r"答案|回答|摘要|总结|译文|翻译)\s*[:：]\s*", re.I)
_QUOTES = "\"'“”‘’「」《》"


def drop_broken(text: str) -> str:
    """Byte-level tokenizers can stop inside a character: decoding then ends in U+FFFD "�"
    (and a model can produce stray byte tokens). Drop those broken characters."""
    return text.replace("\ufffd", "")


_CLAUSE = re.compile(r"[，。；！？]")


def clean(text: str, fmt: PromptFormat) -> tuple[str, bool]:
    """The text the user sees, and whether the output is complete (a line break was reached
    in a format that stops there; for a copied answer, also the end of a Chinese clause: an
    answer is a name or a phrase, not the rest of the sentence)."""
    text = drop_broken(text)
    if not fmt.stop:
        return text.strip(), False
    body = text.lstrip()
    done = "\n" in body
    body = body.split("\n", 1)[0].strip()
    if fmt.copy and _CLAUSE.search(body):
        body, done = _CLAUSE.split(body, 1)[0].strip(), True
    body = _LABEL.sub("", body).strip()
    if len(body) > 1 and body[0] in _QUOTES and body[-1] in _QUOTES:
        body = body[1:-1].strip()
    return body, done


# ---- copy: the answer is a piece of the context ----------------------------------------------
_NEWLINE_IDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def newline_ids(tok) -> frozenset:
    """Token ids whose text holds a line break (computed once per tokenizer)."""
    ids = _NEWLINE_IDS.get(tok)
    if ids is None:
        vocab = tok.get_vocab()
        ids = frozenset(i for t, i in vocab.items() if "\n" in tok.convert_tokens_to_string([t]))
        _NEWLINE_IDS[tok] = ids
    return ids


def copy_rule(tok, context: str, stop_ids: set) -> Callable[[list], set]:
    """-> allowed(generated ids) for the batcher: the tokens that keep the answer a contiguous
    piece of the context's tokens, or a stop token once the answer is whole characters.
    The context is tokenized as it starts the text and after a space, so its first word can be
    copied either way ("Answer: Canberra")."""
    sources = [tok(context, add_special_tokens=False)["input_ids"],
               tok(" " + context, add_special_tokens=False)["input_ids"]]
    stops = set(stop_ids) | set(newline_ids(tok))
    where: dict[int, list] = {}
    for s, ids in enumerate(sources):
        for j, t in enumerate(ids):
            where.setdefault(t, []).append((s, j))
    # a piece may start only where a character starts (a byte-level token can be half of one)
    starts = {t for ids in sources for j, t in enumerate(ids)
              if not tok.decode(ids[j:j + 1] + ids[j + 1:j + 3])[:1] == "\ufffd"}

    def allowed(gen: list) -> set:
        if not gen:
            return starts
        out = set()
        n = len(gen)
        for s, j in where.get(gen[-1], ()):
            ids = sources[s]
            if j + 1 < len(ids) and j - n + 1 >= 0 and ids[j - n + 1:j + 1] == gen:
                out.add(ids[j + 1])
        if not tok.decode(gen).endswith("\ufffd"):
            out |= stops
        return out or stops
    return allowed
