"""Applications on the real packaged SmolLM2-135M-Instruct: the question-answering eval on
assets/samples/qa_eval.jsonl (English and Chinese pairs written for this app), summaries, and
the /summarize /translate /answer API with several users at once. A 135M model is often
wrong, so only robust things are asserted; the eval's figures are printed and saved to
tests/artifacts/qa_eval.json."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from models import apps
from models.batching import Batcher
from models.tasks import GenerationSettings

pytestmark = pytest.mark.slow
EVAL = Path(__file__).resolve().parent.parent / "assets" / "samples" / "qa_eval.jsonl"
GREEDY = GenerationSettings(greedy=True)


def _run_all(manager, make_prep, items):
    """Every item as a separate user, at once: the batcher serves them together."""
    batcher = Batcher(max_batch=len(items), window_s=1.0)
    results = [None] * len(items)
    with manager.use("smollm2") as lm:
        preps = [make_prep(lm, item) for item in items]

        def user(i):
            results[i] = apps.run_to_end(batcher, lm, preps[i], GREEDY)
        threads = [threading.Thread(target=user, args=(i,)) for i in range(len(items))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    return preps, results


def test_qa_eval_right_entities(real_manager, artifacts):
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 10 and {r["lang"] for r in rows} == {"en", "zh"}
    _preps, outs = _run_all(real_manager,
                            lambda lm, r: apps.prepare_answer(lm, r["question"], r["context"]), rows)
    report = {"en": [0, 0], "zh": [0, 0], "answers": []}
    for row, out in zip(rows, outs):
        right = any(a.lower() in out.text.lower() for a in row["answers"])
        report[row["lang"]][0] += right
        report[row["lang"]][1] += 1
        report["answers"].append({"question": row["question"], "answer": out.text, "right": right})
        assert out.done and out.text.strip()
    (artifacts / "qa_eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"\nSmolLM2 QA eval: English {report['en'][0]}/{report['en'][1]}, "
          f"Chinese {report['zh'][0]}/{report['zh'][1]} answers contain the right entity")
    assert report["en"][0] * 2 >= report["en"][1]


def test_summaries_are_shorter_than_their_input_and_not_empty(real_manager):
    from webapp.i18n import STRINGS
    texts = list(STRINGS["apps.sum.example"])          # the English and the Chinese example
    preps, outs = _run_all(real_manager,
                           lambda lm, text: apps.prepare_summarize(lm, text, "short"), texts)
    for text, prep, out in zip(texts, preps, outs):
        assert out.text.strip() and len(out.text) < len(text)
        assert "Summarize the following text in one sentence" in prep.prompt_text
        assert 0 < out.n_tokens <= apps.LENGTHS["short"][1] and out.tokens_per_s > 0


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client
    return Client(app_url, verbose=False)


def test_api_serves_several_users_at_once_without_mixing_answers(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/summarize", "/translate", "/answer", "/summary_quality",
            "/translation_quality"} <= names
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    picked = [r for r in rows if r["answers"][0] in ("Nairobi", "Mars", "Amazon")]
    jobs = [client.submit("smollm2", r["question"], r["context"], True, 0.7, 50, "en",
                          api_name="/answer") for r in picked]
    results = [job.result() for job in jobs]
    others = {r["answers"][0] for r in picked}
    for row, (answer, stats, sent, insight, where) in zip(picked, results):
        own = row["answers"][0]
        assert row["question"] in sent and row["context"] in sent
        assert own in answer and not (others - {own}) & set(answer.replace(".", " ").split())
        assert "tokens/s" in stats and "<details" in insight
    assert any("batch" in stats for _a, stats, *_ in results)


def test_api_translate_and_quality_figures(client):
    text, stats, sent, _insight = client.predict(
        "smollm2", "Good morning.", "en", "fr", True, 0.7, 50, "en", api_name="/translate")
    assert text.strip() and "into French" in sent and "SmolLM2" in stats
    scores = client.predict(text, text, "fr", "en", api_name="/translation_quality")
    assert "**BLEU** 100.0" in scores
    with pytest.raises(Exception, match="empty"):
        client.predict("smollm2", "   ", "short", True, 0.7, 50, "en", api_name="/summarize")
    with pytest.raises(Exception, match="reference"):
        client.predict("a summary", " ", "en", api_name="/summary_quality")
