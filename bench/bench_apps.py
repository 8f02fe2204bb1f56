"""Applications on the packaged SmolLM2-135M-Instruct (greedy, as the tab's default):

1. Latency and tokens/s per task through the app's path (prepare -> Batcher -> post-process,
   with the top-5 recorder) vs a direct `model.generate` on the same input ids: the ratio is
   what the app's layers cost per token.
2. Throughput: requests/minute for 1 user asking one question after another vs 8 users
   asking at the same moment (the Batcher pads them into one generate). Goal: >= 3x.

    .venv/bin/python -m bench.bench_apps      (or `make bench`)
"""
from __future__ import annotations

import json
import statistics
import threading
from pathlib import Path

from bench.common import Timer, manager, save, table

QA = Path(__file__).resolve().parent.parent / "assets" / "eval" / "qa.jsonl"
USERS = 8
REPEATS = 3      # the throughput comparison is repeated; the median ratio is reported


def _direct(lm, prep) -> tuple[float, int]:
    """The raw library call the app's path is compared with."""
    import torch
    ids = torch.tensor([prep.input_ids], device=lm.device)
    pad = lm.tokenizer.pad_token_id or lm.tokenizer.eos_token_id
    with Timer() as tm, torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                max_new_tokens=prep.max_new_tokens, pad_token_id=pad,
                                repetition_penalty=1.1)
    return tm.seconds, out.shape[1] - ids.shape[1]


def _in_thread(fn):
    """Run fn in a worker thread, as Gradio runs handlers (and as the Batcher generates):
    on a busy machine torch in the main thread can be several times slower."""
    box: list = []
    th = threading.Thread(target=lambda: box.append(fn()))
    th.start()
    th.join()
    return box[0]


def _throughput(apps, Batcher, lm, settings, name, preps) -> list[dict]:
    one = Batcher()
    sequential = preps[:3]
    with Timer() as t1:
        alone = [apps.run_to_end(one, lm, prep, settings) for prep in sequential]
    many = Batcher(max_batch=len(preps))
    barrier = threading.Barrier(len(preps))
    done: list = []

    def user(prep):
        barrier.wait()
        done.append(apps.run_to_end(many, lm, prep, settings))
    threads = [threading.Thread(target=user, args=(p,)) for p in preps]
    with Timer() as tn:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    return [{"workload": name, "users": 1, "requests": len(sequential), "seconds": t1.seconds,
             "req_per_min": 60 * len(sequential) / t1.seconds, "generate_calls": one.batches_run,
             "mean_tokens": sum(d.n_tokens for d in alone) / len(alone)},
            {"workload": name, "users": len(preps), "requests": len(done), "seconds": tn.seconds,
             "req_per_min": 60 * len(done) / tn.seconds, "generate_calls": many.batches_run,
             "mean_tokens": sum(d.n_tokens for d in done) / len(done)}]


def main() -> None:
    from models.runners.applications import run as apps
    from models.runners.batching import Batcher
    from models.runners.generation import GenerationSettings
    from webapp.i18n import STRINGS

    mgr = manager()
    greedy = GenerationSettings(greedy=True)
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line]
    en = [r for r in rows if r["lang"] == "en"]
    with mgr.use("smollm2") as lm:
        tasks = {
            "summarize (short)": apps.prepare_summarize(lm, STRINGS["apps.sum.example"][0], "short"),
            "translate en->fr": apps.prepare_translate(lm, "The weather is nice today.", "en", "fr"),
            "answer": apps.prepare_answer(lm, en[1]["question"], en[1]["context"]),
        }
        apps.run_to_end(Batcher(), lm, tasks["answer"], greedy)        # warm-up
        out = []
        for name, prep in tasks.items():
            with Timer() as tm:
                upd = apps.run_to_end(Batcher(), lm, prep, greedy)
            direct_s, direct_n = _in_thread(lambda: _direct(lm, prep))
            app_tps = upd.n_tokens / tm.seconds
            direct_tps = direct_n / direct_s
            out.append({"task": name, "tokens": upd.n_tokens, "app_s": tm.seconds,
                        "app_tok_s": app_tps, "direct_tokens": direct_n,
                        "direct_tok_s": direct_tps,
                        "app_vs_direct_s_per_token": direct_tps / app_tps})
        table(out)

        # throughput: 1 user in sequence vs USERS at once, on two workloads
        workloads = {
            "QA with context (prefill-heavy)":
                [apps.prepare_answer(lm, r["question"], r["context"]) for r in rows][:USERS],
            "questions without context (decode-heavy)":
                [apps.prepare_answer(lm, r["question"], "") for r in rows][:USERS],
        }
        through, found = [], {}
        for rep in range(REPEATS):          # repeated: a shared machine is noisy
            for name, preps in workloads.items():
                rows_ = _throughput(apps, Batcher, lm, greedy, name, preps)
                for r in rows_:
                    r["run"] = rep + 1
                through += rows_
                found.setdefault(name, []).append(rows_[1]["req_per_min"] / rows_[0]["req_per_min"])
    print()
    table(through)
    ratios = {name: statistics.median(values) for name, values in found.items()}
    for name, ratio in ratios.items():
        each = ", ".join(f"{v:.1f}x" for v in found[name])
        print(f"{name}: {USERS} users vs 1 = {ratio:.1f}x requests/minute, median of {each} "
              "(goal >= 3x)")
    path = save("bench_apps", out, throughput=through, throughput_ratios=ratios,
                device=mgr.device.describe())
    print(f"saved {path}")


if __name__ == "__main__":
    main()
