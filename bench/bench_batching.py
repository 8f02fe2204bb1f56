"""Many users at once on the packaged SmolLM2-135M-Instruct (greedy, as Applications' default):
requests per minute for 1 user asking one question after another vs 8 users asking at the
same moment, on two workloads from assets/eval/qa.jsonl through the Batcher:

- decode-heavy: the questions as Generate sends them, asking for a paragraph ("Explain in a
  paragraph: ..."; ~30-token chat prompts), each written to 64 new tokens (asked for a few
  words, SmolLM2 stops after ~4 tokens, which is not decode-heavy: "mean new tokens" in the
  table says what each workload really wrote);
- prefill-heavy: Applications' question answering with the context (~100-token prompts of
  which the first ~40, the worked example, are shared; a few words answered).

Compared side by side, on the same 8 prompts:
- `Batcher` (models/runners/batching.py): continuous batching, the app's path;
- `Batcher(continuous=False)`: the padded `generate` call per batch (what it replaced);
- transformers' own continuous batching, `model.generate_batch` (paged attention), greedy
  with no repetition penalty (it drops that processor), the raw answers only;
- raw `model.generate` on the 8 prompts padded into one call: the ceiling of batching.
Goal: 8 users >= 3.5x the requests/minute of one user (decode-heavy), >= 3x (prefill-heavy).

Then a long prompt arriving while 7 users write: the longest pause between two of their
tokens, vs the time the long prompt takes to read alone (it is read in chunks between steps).

    .venv/bin/python -m bench.bench_batching      (or `make bench`)
"""
from __future__ import annotations

import json
import logging
import os
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Timer, manager, save, table

QA = Path(__file__).resolve().parent.parent / "assets" / "eval" / "qa.jsonl"
USERS = 8
DECODE_TOKENS = 64   # decode-heavy: every answer is written on to 64 tokens (or its end)
REPEATS = int(os.environ.get("BENCH_REPEATS", 2))   # repeated; the median ratio is reported
QUICK = os.environ.get("BENCH_QUICK") == "1"        # the app's two paths only (a busy machine)


@dataclass(frozen=True)
class _Ids:
    """A prompt ready for Batcher.stream, shaped like Applications' prepared prompts."""
    input_ids: list


def _in_thread(fn):
    """Run fn in a worker thread, as Gradio runs handlers (and as the Batcher generates)."""
    box: list = []
    th = threading.Thread(target=lambda: box.append(fn()))
    th.start()
    th.join()
    return box[0]


def _app(run, make_batcher, items) -> tuple[float, float, int, list[int]]:
    """(seconds for 1 user asking the items in turn, seconds for all at once, batches, the
    answers' token counts). run(batcher, item) -> the answer's token count."""
    one = make_batcher()
    with Timer() as t1:
        alone = _in_thread(lambda: [run(one, item) for item in items])
    many = make_batcher()
    barrier = threading.Barrier(len(items))

    def user(item):
        barrier.wait()
        run(many, item)
    threads = [threading.Thread(target=user, args=(item,)) for item in items]
    with Timer() as tn:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    return t1.seconds, tn.seconds, many.batches_run, alone


def _raw(lm, prompts, new_tokens) -> tuple[float, float]:
    """Raw `generate`: each prompt alone in turn, then all in one padded call (greedy,
    repetition penalty 1.1 as the app, the same number of new tokens as the app wrote)."""
    import torch
    tok, model = lm.tokenizer, lm.model
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def gen(batch, n):
        width = max(len(p) for p in batch)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
        with torch.inference_mode():
            model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                           do_sample=False, repetition_penalty=1.1, pad_token_id=pad)
    with Timer() as t1:
        _in_thread(lambda: [gen([p], n) for p, n in zip(prompts, new_tokens)])
    with Timer() as tn:
        _in_thread(lambda: gen(prompts, max(new_tokens)))
    return t1.seconds, tn.seconds


def _library(lm, prompts, new_tokens) -> tuple[float, float]:
    """transformers' continuous batching (`generate_batch`): each prompt alone, then all."""
    import torch
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig
    tok, model = lm.tokenizer, lm.model
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    logging.getLogger("transformers").setLevel(logging.ERROR)
    # eos -1: every request writes its full count, as many tokens as the app's answer had
    config = ContinuousBatchingConfig(page_size=64, num_blocks=64, max_batch_tokens=1024,
                                      use_cuda_graph=False)

    def gen(batch, n):
        gc = GenerationConfig(max_new_tokens=n, do_sample=False, eos_token_id=-1, pad_token_id=pad)
        with torch.inference_mode():
            model.generate_batch(batch, generation_config=gc, continuous_batching_config=config,
                                 warmup=False)
    try:
        gen(prompts[:1], 2)                          # warm-up (the first call builds the cache)
        with Timer() as t1:
            _in_thread(lambda: [gen([p], n) for p, n in zip(prompts, new_tokens)])
        with Timer() as tn:
            _in_thread(lambda: gen(prompts, max(new_tokens)))
    finally:
        model.set_attn_implementation("eager")       # as the manager loads it
    return t1.seconds, tn.seconds


def _long_prompt(apps, Batcher, lm, settings, short, long) -> dict:
    """7 users write; a long prompt arrives 1 s later. The longest pause between two tokens of
    the 7, vs reading the long prompt alone."""
    import torch
    with Timer() as alone, torch.inference_mode():
        lm.model(input_ids=torch.tensor([long.input_ids]))
    batcher = Batcher()
    gaps: list[float] = []

    def writer(prep):
        last = None
        for _upd in batcher.stream(lm, prep.input_ids, settings):
            now = time.perf_counter()
            if last is not None:
                gaps.append(now - last)
            last = now
    threads = [threading.Thread(target=writer, args=(p,)) for p in short]
    for th in threads:
        th.start()
    time.sleep(1.0)
    late = threading.Thread(target=lambda: list(batcher.stream(lm, long.input_ids, settings)))
    late.start()
    for th in threads + [late]:
        th.join()
    return {"long prompt tokens": len(long.input_ids), "read alone (s)": alone.seconds,
            "longest pause of the 7 writers (s)": max(gaps) if gaps else 0.0,
            "median pause (s)": statistics.median(gaps) if gaps else 0.0}


def main() -> None:
    from models.runners.applications import run as apps
    from models.runners.batching import Batcher
    from models.runners.generation import GenerationSettings, prepare_prompt

    mgr = manager()
    greedy = GenerationSettings(greedy=True)
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line]
    out, ratios = [], {}
    with mgr.use("smollm2") as lm:
        writing = GenerationSettings(max_new_tokens=DECODE_TOKENS, greedy=True)

        def write_on(batcher, prep):    # the question's prompt, written on to the token limit
            last = None
            for last in batcher.stream(lm, prep.input_ids, writing):
                pass
            return len(last.token_ids)

        def answer(batcher, prep):      # Applications' question answering, as the tab runs it
            return apps.run_to_end(batcher, lm, prep, greedy).n_tokens
        workloads = {
            "decode-heavy": [_Ids(prepare_prompt(lm, f"Explain in a paragraph: {r['question']}",
                                                 True, DECODE_TOKENS).input_ids[0].tolist())
                             for r in rows][:USERS],
            "prefill-heavy": [apps.prepare_answer(lm, r["question"], r["context"])
                              for r in rows][:USERS],
        }
        runs = {"decode-heavy": write_on, "prefill-heavy": answer}
        apps.run_to_end(Batcher(), lm, workloads["prefill-heavy"][0], greedy)     # warm-up
        ways = {"Batcher (continuous, the app)": lambda: Batcher(max_batch=USERS),
                "Batcher(continuous=False) (padded generate)":
                    lambda: Batcher(max_batch=USERS, continuous=False)}
        answers: dict[str, list[int]] = {}
        for rep in range(REPEATS):          # repeated: a shared machine is noisy
            for way, make in ways.items():
                for name, preps in workloads.items():
                    t1, tn, batches, tokens = _app(runs[name], make, preps)
                    answers.setdefault(name, tokens)
                    out.append({"workload": name, "way": way, "run": rep + 1, "1 user s": t1,
                                "8 users s": tn, "ratio": t1 / tn, "batches": batches,
                                "mean new tokens": sum(tokens) / len(tokens)})
                    print(out[-1], flush=True)
            if QUICK:
                continue
            for name, preps in workloads.items():
                prompts = [list(p.input_ids) for p in preps]
                new = [max(1, n + 1) for n in answers[name]]   # the answers' tokens and their end
                for way, fn in (("raw generate (ceiling)", _raw),
                                ("transformers generate_batch", _library)):
                    try:
                        t1, tn = fn(lm, prompts, new)
                    except Exception as exc:   # a library API that moved: say so, keep going
                        print(f"{way}: {type(exc).__name__}: {exc}")
                        continue
                    out.append({"workload": name, "way": way, "run": rep + 1, "1 user s": t1,
                                "8 users s": tn, "ratio": t1 / tn, "batches": 1,
                                "mean new tokens": sum(new) / len(new)})
                    print(out[-1], flush=True)
        pause = {}
        if not QUICK:
            long_text = " ".join(r["context"] for r in rows if r["lang"] == "en")
            long = apps.prepare_answer(lm, "What is this text about?", long_text)
            pause = _long_prompt(apps, Batcher, lm, writing, workloads["decode-heavy"][:USERS - 1],
                                 long)
    table(out)
    for workload in workloads:
        for way in {r["way"] for r in out}:
            values = [r["ratio"] for r in out if r["workload"] == workload and r["way"] == way]
            if values:
                ratios[f"{workload}: {way}"] = statistics.median(values)
    print()
    goals = {"decode-heavy": 3.5, "prefill-heavy": 3.0}
    for key, ratio in sorted(ratios.items()):
        workload = key.split(":")[0]
        print(f"{key}: {USERS} users vs 1 = {ratio:.2f}x requests/minute "
              f"(goal for the app >= {goals[workload]}x)")
    if pause:
        print()
        table([pause])
    path = save("bench_batching", out, ratios=ratios, long_prompt=pause,
                device=mgr.device.describe())
    print(f"saved {path}")


if __name__ == "__main__":
    main()
