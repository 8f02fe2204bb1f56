"""Prompt formats for the Applications tab, measured on the evaluation set (assets/eval/):
which way of asking the packaged SmolLM2-135M-Instruct works best per task. The app's
default format per task (models/runners/applications/prompts.py DEFAULT) is the one this bench picks on the
`dev` items; the held-out `test` items show whether the choice holds.

Every run goes through the app's own path (apps.prepare_* -> Batcher -> post-processing), so
the figures are what a user gets. Per task and format:
  answer     % of answers that contain a right answer, English and Chinese, dev and test
  summarize  ROUGE-1/2/L F1 against the reference; % shorter than the text; % echoing
             "SmolLM"; % ending in a broken character "�"; % in the text's script
  translate  chrF and BLEU against the reference; % of outputs in the target script
Then greedy vs sampling (temperature 0.7, top-k 50, 3 seeds) for the default format.

    .venv/bin/python -m bench.bench_prompts [answer summarize translate] [--formats a,b] [--lang en|zh] [--show] [--no-sampling]
"""
from __future__ import annotations

import json
import os
import re
import statistics
import sys
import threading
from pathlib import Path

from bench.common import Timer, manager, save, table

EVAL = Path(__file__).resolve().parent.parent / "assets" / "eval"
BATCH = 8                   # requests served together (the app's Batcher default)
SEEDS = (1, 2, 3)           # sampling runs
SHOW = False                # --show: print every output (to read what the model wrote)
ONLY_LANG = None            # --lang en|zh: only the items in that (source) language
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def load(name: str) -> list[dict]:
    rows = [json.loads(line) for line in (EVAL / f"{name}.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    return [r for r in rows if ONLY_LANG is None or r.get("lang", r.get("source_lang")) == ONLY_LANG]


def in_script(text: str, lang: str) -> bool:
    """Is the text written in the language's script? Chinese: most letters are CJK
    characters; other languages: Latin letters and no CJK character."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if not text.strip():
        return False
    if lang == "zh":
        return cjk > 0 and cjk >= 2 * latin / 5       # a CJK character carries ~a word
    return latin > 0 and cjk == 0


def answer_right(answer: str, item: dict) -> bool:
    """The answer contains one of the acceptable answers (case-insensitive). A Chinese question
    needs a Chinese (or digit) answer: those are the only forms listed."""
    low = answer.lower()
    return any(a.lower() in low for a in item["answers"])


def run_many(apps, Batcher, lm, preps, settings) -> list:
    """All requests at once, as many users would: the Batcher serves BATCH at a time."""
    batcher = Batcher(max_batch=BATCH, window_s=0.2)
    out = [None] * len(preps)
    gate = threading.Semaphore(BATCH)

    def user(i):
        with gate:
            out[i] = apps.run_to_end(batcher, lm, preps[i], settings)
    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(preps))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if SHOW:
        for prep, o in zip(preps, out):
            print(f"    [{prep.fmt.key if prep.fmt else '-'}] {o.text!r}", flush=True)
    return out


def _show(row: dict) -> dict:
    """Print a row as soon as it is measured (a full run takes a while on a CPU)."""
    print("  " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in row.items()), flush=True)
    return row


def _pct(flags) -> float:
    flags = list(flags)
    return 100.0 * sum(flags) / len(flags) if flags else float("nan")


def bench_answer(apps, Batcher, lm, formats, settings, label="greedy") -> tuple[list, list]:
    items = load("qa")
    rows, details = [], []
    for fmt in formats:
        preps = [apps.prepare_answer(lm, it["question"], it["context"], fmt=fmt) for it in items]
        with Timer() as tm:
            outs = run_many(apps, Batcher, lm, preps, settings)
        right = [answer_right(o.text, it) for o, it in zip(outs, items)]

        def pick(lang, split=None):
            return [r for r, it in zip(right, items)
                    if it["lang"] == lang and (split is None or it["split"] == split)]
        rows.append(_show({"format": fmt, "decoding": label, "en %": _pct(pick("en")),
                     "zh %": _pct(pick("zh")), "en dev": _pct(pick("en", "dev")),
                     "en test": _pct(pick("en", "test")), "zh dev": _pct(pick("zh", "dev")),
                     "zh test": _pct(pick("zh", "test")),
                     "broken end %": _pct(o.text.endswith("\ufffd") for o in outs),
                     "seconds": tm.seconds}))
        details += [{"task": "answer", "format": fmt, "decoding": label, "id": it["id"],
                     "output": o.text, "right": r} for it, o, r in zip(items, outs, right)]
    return rows, details


def bench_summarize(apps, Batcher, lm, formats, settings, label="greedy") -> tuple[list, list]:
    from models.runners import metrics
    items = load("summarize")
    rows, details = [], []
    for fmt in formats:
        preps = [apps.prepare_summarize(lm, it["text"], "short", fmt=fmt) for it in items]
        with Timer() as tm:
            outs = run_many(apps, Batcher, lm, preps, settings)
        for lang in ("en", "zh"):
            pairs = [(it, o) for it, o in zip(items, outs) if it["lang"] == lang]
            if not pairs:
                continue
            scores = [metrics.rouge(o.text, it["reference"]).values if o.text.strip()
                      else {"ROUGE-1": 0.0, "ROUGE-2": 0.0, "ROUGE-L": 0.0} for it, o in pairs]
            rows.append(_show({"format": fmt, "decoding": label, "lang": lang,
                         **{k: statistics.mean(s[k] for s in scores) for k in scores[0]},
                         "shorter %": _pct(0 < len(o.text) < len(it["text"]) for it, o in pairs),
                         "SmolLM echo %": _pct("smol" in o.text.lower() for _it, o in pairs),
                         "broken end %": _pct(o.text.endswith("\ufffd") for _it, o in pairs),
                         "right script %": _pct(in_script(o.text, lang) for _it, o in pairs),
                         "seconds": tm.seconds}))
        details += [{"task": "summarize", "format": fmt, "decoding": label, "id": it["id"],
                     "output": o.text} for it, o in zip(items, outs)]
    return rows, details


def bench_translate(apps, Batcher, lm, formats, settings, label="greedy") -> tuple[list, list]:
    from models.runners import metrics
    items = load("translate")
    rows, details = [], []
    for fmt in formats:
        preps = [apps.prepare_translate(lm, it["text"], it["source_lang"], it["target_lang"],
                                        fmt=fmt) for it in items]
        with Timer() as tm:
            outs = run_many(apps, Batcher, lm, preps, settings)
        for pair in (("en", "zh"), ("zh", "en")):
            got = [(it, o) for it, o in zip(items, outs)
                   if (it["source_lang"], it["target_lang"]) == pair]
            if not got:
                continue
            scores = [metrics.bleu_chrf(o.text, it["reference"], pair[1]).values
                      if o.text.strip() else {"BLEU": 0.0, "chrF": 0.0} for it, o in got]
            rows.append(_show({"format": fmt, "decoding": label, "pair": "→".join(pair),
                         "chrF": statistics.mean(s["chrF"] for s in scores),
                         "BLEU": statistics.mean(s["BLEU"] for s in scores),
                         "target script %": _pct(in_script(o.text, pair[1]) for _it, o in got),
                         "broken end %": _pct(o.text.endswith("\ufffd") for _it, o in got),
                         "seconds": tm.seconds}))
        details += [{"task": "translate", "format": fmt, "decoding": label, "id": it["id"],
                     "output": o.text} for it, o in zip(items, outs)]
    return rows, details


BENCHES = {"answer": bench_answer, "summarize": bench_summarize, "translate": bench_translate}


def main(argv=None) -> None:
    from dataclasses import replace

    from models.runners.applications import run as apps
    from models.runners.applications.prompts import DEFAULT, FORMATS
    from models.runners.batching import Batcher
    from models.runners.generation import GenerationSettings

    global SHOW, ONLY_LANG
    argv = list(sys.argv[1:] if argv is None else argv)
    sampling = "--no-sampling" not in argv
    argv = [a for a in argv if a != "--no-sampling"]
    if "--lang" in argv:
        at = argv.index("--lang")
        ONLY_LANG = argv[at + 1]
        del argv[at:at + 2]
    if "--show" in argv:
        SHOW = True
        argv.remove("--show")
    only = None
    if "--formats" in argv:
        at = argv.index("--formats")
        only = argv[at + 1].split(",")
        del argv[at:at + 2]
    tasks = [t for t in argv if t in BENCHES] or list(BENCHES)
    greedy = GenerationSettings(greedy=True)
    mgr = manager()
    with mgr.use("smollm2") as lm:
        for task in tasks:
            formats = list(FORMATS[task]) if only is None else [f for f in only if f in FORMATS[task]]
            print(f"\n--- {task}: {len(formats)} formats, greedy", flush=True)
            rows, det = BENCHES[task](apps, Batcher, lm, formats, greedy)
            defaults = sorted(set(DEFAULT[task].values()))
            if sampling and (only is None or set(defaults) & set(only)):  # greedy vs sampling
                for seed in SEEDS:
                    sample = replace(GenerationSettings(greedy=False, temperature=0.7, top_k=50,
                                                        top_p=0.95), seed=seed)
                    more, det2 = BENCHES[task](apps, Batcher, lm, defaults, sample,
                                               f"sampling seed {seed}")
                    rows += more
                    det += det2
            table(rows)
            # one file per task, so measuring one task again keeps the others' figures
            path = save(f"bench_prompts_{task}", rows, defaults=DEFAULT[task], outputs=det,
                        device=mgr.device.describe(), load_average=os.getloadavg())
            print(f"saved {path}")
    print("\ndefaults (models/runners/applications/prompts.py):", DEFAULT)


if __name__ == "__main__":
    main()
