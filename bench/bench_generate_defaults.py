"""Generate tab: how often the packaged SmolLM2-135M-Instruct answers the tab's pre-filled
prompts (English and Chinese defaults, every example) right, under the tab's default settings.

For each prompt of assets/eval/generate.jsonl: the greedy answer (right or not) and, sampling
with the default temperature / top-k / top-p / repetition penalty, the share of SAMPLES answers
that are right. The samples are drawn in one batch (num_return_sequences: independent draws,
the same as SAMPLES seeds, at a fraction of the time). An answer is right when it contains one
of `right_if_any` and none of `wrong_if_any` (other capitals, refusals like "I'm sorry"), and
has no "�". For Chinese prompts, `in_chinese` counts the answers right *in Chinese*.

    make bench   (or: .venv/bin/python -m bench.run_all generate_defaults)
    .venv/bin/python -m bench.bench_generate_defaults --all --temperatures 0.3,0.7 --samples 16

Without --all only the prompts the tab shows are measured (and each must be in the eval set).
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from bench.common import Timer, manager, save, table

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "assets" / "eval" / "generate.jsonl"
SAMPLES = 16
_CJK = re.compile(r"[\u4e00-\u9fff]")


def load_items() -> list[dict]:
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


def tab_prompts() -> dict[str, str]:
    """The prompts the Generate tab pre-fills or offers: {prompt: role}."""
    from webapp.i18n import STRINGS
    from webapp.tabs.generate import EXAMPLES
    en, zh = STRINGS["gen.prompt_value"]
    out = {en: "default (en)", zh: "default (zh)"}
    for row in EXAMPLES:
        out.setdefault(row[0], "example")
    return out


def is_right(item: dict, answer: str) -> bool:
    low = answer.lower()
    if "\ufffd" in answer or not answer.strip():
        return False
    if any(w.lower() in low for w in item["wrong_if_any"]):
        return False
    return any(w.lower() in low for w in item["right_if_any"])


def in_chinese(item: dict, answer: str) -> bool:
    words = [w for w in item["right_if_any"] if _CJK.search(w)]
    return is_right(item, answer) and any(w in answer for w in words)


def measure(lm, item: dict, settings, samples: int) -> dict:
    import torch

    from models.runners.generation import generate_text, prepare_prompt, shown_text
    greedy_settings = type(settings)(**{**settings.__dict__, "greedy": True, "seed": None})
    greedy = generate_text(lm, item["prompt"], greedy_settings, chat=item["chat"]).text
    # what a user gets with the tab's defaults as they are (its fixed seed), by the app's path
    default = generate_text(lm, item["prompt"], settings, chat=item["chat"]).text
    if samples <= 0:          # greedy only
        return {"greedy": greedy, "greedy_right": is_right(item, greedy),
                "greedy_zh": in_chinese(item, greedy), "default": default,
                "default_right": is_right(item, default), "answers": [], "right": 0, "zh": 0}
    prompt = prepare_prompt(lm, item["prompt"], item["chat"], settings.max_new_tokens)
    n = prompt.input_ids.shape[1]
    torch.manual_seed(0)
    tok = lm.tokenizer
    with torch.inference_mode():
        out = lm.model.generate(input_ids=prompt.input_ids.repeat(samples, 1),
                                attention_mask=torch.ones_like(prompt.input_ids).repeat(samples, 1),
                                max_new_tokens=settings.max_new_tokens,
                                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
                                else tok.eos_token_id, **settings.generate_kwargs())
    answers = [shown_text(tok, row[n:].tolist()) for row in out]
    return {"greedy": greedy, "greedy_right": is_right(item, greedy),
            "greedy_zh": in_chinese(item, greedy), "default": default,
            "default_right": is_right(item, default), "answers": answers,
            "right": sum(is_right(item, a) for a in answers),
            "zh": sum(in_chinese(item, a) for a in answers)}


def main(argv: list[str] | None = None) -> None:
    from models.runners.generation import GenerationSettings
    from webapp.tabs.generate import DEFAULTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--all", action="store_true", help="every prompt of the eval set")
    ap.add_argument("--ids", default="", help="only these items, e.g. gen-en-01,gen-zh-03")
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--temperatures", default="", help="e.g. 0.3,0.7 (default: the tab's)")
    args = ap.parse_args(argv if argv is not None else [])
    items = load_items()
    shown = tab_prompts()
    by_prompt = {it["prompt"]: it for it in items}
    missing = [p for p in shown if p not in by_prompt]
    if missing:
        raise SystemExit(f"prompts shown by the tab but not in {EVAL.name}: {missing}")
    chosen = items if args.all else [by_prompt[p] for p in shown]
    if args.ids:
        chosen = [it for it in items if it["id"] in args.ids.split(",")]
    temps = [float(x) for x in args.temperatures.split(",") if x] or [DEFAULTS.temperature]
    rows, details = [], []
    with manager().use("smollm2") as lm:
        for temp in temps:
            settings = GenerationSettings(**{**DEFAULTS.__dict__, "temperature": temp})
            for item in chosen:
                with Timer() as tm:
                    r = measure(lm, item, settings, args.samples)
                row = {"id": item["id"], "shown as": shown.get(item["prompt"], "-"),
                       "prompt": item["prompt"][:44], "T": temp,
                       "greedy": "right" if r["greedy_right"] else "WRONG",
                       f"seed {settings.seed}": "right" if r["default_right"] else "WRONG",
                       "sampled right": f"{r['right']}/{args.samples}",
                       "rate": r["right"] / max(args.samples, 1), "seconds": tm.seconds}
                if item["lang"] == "zh":
                    row["in Chinese"] = f"{r['zh']}/{args.samples}" + (" +greedy" if r["greedy_zh"] else "")
                rows.append(row)
                details.append({"id": item["id"], "temperature": temp, **r})
                print(f"{item['id']} T={temp}: greedy {r['greedy'][:70]!r} · "
                      f"seed {settings.seed}: {r['default'][:70]!r} · "
                      f"{r['right']}/{args.samples} right", flush=True)
    table(rows)
    path = save("generate_defaults", rows, details=details, samples=args.samples,
                settings=DEFAULTS.__dict__)
    print(f"saved {path}")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
