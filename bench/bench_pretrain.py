"""Pre-training lab figures: sentence-embedding throughput through the app's path (manager +
models/runners/embeddings.py, with PCA and the similarity matrix) vs a direct transformers call with the
same mean pooling; tiny pre-training tokens/s; time from pressing Start to the first sample
(step 0, gibberish) and to the first sample after training (step `sample_every`)."""
from __future__ import annotations

import time

import torch

from bench.common import Timer, manager, save, table

N_SENTENCES = 128
STEPS = 60


def _sentences() -> list[str]:
    from models.runners.embeddings import EXAMPLES
    base = [s for s, _ in EXAMPLES["en"]]
    return [f"{base[i % len(base)]} ({i})" for i in range(N_SENTENCES)]


def bench_embeddings(repeats: int = 3) -> list[dict]:
    """Interleaved repeats, best of each: the machine is shared, so single timings are noisy."""
    from transformers import AutoModel, AutoTokenizer

    from models.runners import embeddings as emb
    mgr = manager()
    sentences = _sentences()
    items = emb.parse_sentences("\n".join(sentences))

    def direct(tok, model):
        out = []
        with torch.no_grad():
            for i in range(0, len(sentences), emb.BATCH):
                enc = tok(sentences[i:i + emb.BATCH], padding=True, truncation=True,
                          max_length=256, return_tensors="pt")
                h = model(**enc).last_hidden_state
                m = enc["attention_mask"].unsqueeze(-1).float()
                out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1))
        return torch.cat(out).numpy()

    app_times, direct_times = [], []
    with mgr.use("minilm") as lm:
        folder = mgr.registry.files_dir(lm.spec)
        tok = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder).eval()
        emb.analyse(lm, emb.SentenceList(sentences[:8], [""] * 8))           # warm-up both
        direct(tok, model)
        for _ in range(repeats):
            with Timer() as a:
                res = emb.analyse(lm, items, "pca")
            with Timer() as d:
                direct_vecs = direct(tok, model)
            app_times.append(a.seconds)
            direct_times.append(d.seconds)
    agree = float(abs(direct_vecs - res.vectors).max())
    n = len(sentences)
    return [{"path": "app (manager + analyse: vectors, cosine, PCA)", "sentences": n,
             "best_s": min(app_times), "sentences_per_s": n / min(app_times),
             "max_abs_diff_vs_direct": agree},
            {"path": "direct AutoModel + mean pooling", "sentences": n,
             "best_s": min(direct_times), "sentences_per_s": n / min(direct_times),
             "max_abs_diff_vs_direct": 0.0}]


def bench_pretraining() -> list[dict]:
    import tempfile
    from pathlib import Path

    from models.training.pretrain import loop as pt
    from models.core.jobs import JobRunner
    jobs = JobRunner("bench")
    cfg = pt.PretrainConfig(name="bench-tiny", steps=STEPS, sample_every=STEPS // 2)
    corpus = pt.read_corpus(pt.bundled_corpora()["english"])
    cache = Path(tempfile.mkdtemp(prefix="bench-pretrain-"))
    pressed = time.perf_counter()
    jid = jobs.submit("pretrain", "bench", lambda ctx: pt.run_pretraining(ctx, cfg, corpus, cache))
    first_sample = first_trained_sample = None
    while True:
        job = jobs.snapshot(jid)
        now = time.perf_counter() - pressed
        samples = [e for e in job.events if "sample" in e]
        if samples and first_sample is None:
            first_sample = now
        if any(e["step"] > 0 for e in samples) and first_trained_sample is None:
            first_trained_sample = now
        if job.status in ("done", "failed", "cancelled"):
            break
        time.sleep(0.02)
    total = time.perf_counter() - pressed
    if job.status != "done":
        raise RuntimeError(job.error)
    res = job.result
    tps = sorted(e["tokens_per_s"] for e in job.events if "tokens_per_s" in e)
    return [{"steps": res.steps_done, "tokens_per_step": cfg.batch_size * cfg.block_size,
             "tokens_per_s_median": tps[len(tps) // 2], "params": res.n_params,
             "loss_first": res.first_loss, "loss_final": res.final_loss,
             "s_to_first_sample(step0)": first_sample,
             f"s_to_sample_after_{cfg.sample_every}_steps": first_trained_sample,
             "s_total_with_save": total, "torch_threads": torch.get_num_threads()}]


def main() -> None:
    emb_rows = bench_embeddings()
    table(emb_rows)
    print(f"app / direct throughput: {emb_rows[0]['sentences_per_s'] / emb_rows[1]['sentences_per_s']:.2f}")
    pre_rows = bench_pretraining()
    table(pre_rows)
    print("saved", save("bench_pretrain", emb_rows + pre_rows))


if __name__ == "__main__":
    main()
