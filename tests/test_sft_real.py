"""Teach the packaged SmolLM2-135M-Instruct the bundled sample with the app's defaults, through
the app's own job (models/training/sft/job.py; the run's one such job, shared with the "Teach the
language model" golden path through the `trained` fixture): the held-out prompts' answers follow
the taught JSON format after training and not before, and the tuned model, registered, answers
through the same generation code as the Generate tab. Slow: a few minutes of training on a
2-core CPU (bench/bench_sft.py measures the same on all 46 held-out prompts)."""
from __future__ import annotations

import pytest

from models.training.sft.data import SAMPLE_TRAIN, follows, read_conversations, read_heldout
from models.training.sft.job import start_job, status_dict
from models.training.sft.loop import SFTConfig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(5400)]

# Instruction tuning's bar on the tab's held-out prompts, in one place (the golden path,
# tests/browser/test_golden_paths_sft.py, holds the page to the same figures). The issue's
# goal is 90 % in the taught format; bench/bench_sft.py measured 93 % (43 of 46) with the
# defaults. The tab answers 8 held-out prompts, where one miss is 12.5 points.
TUNED_FOLLOWS = 0.85          # at least 7 of the tab's 8
BASE_FOLLOWS = 0.20           # the untrained base: at most 1 of 8 (it answers in prose)


def sample_job(real_manager, jobs) -> str:
    """Start the teaching job on the sample as the tab's Start does (its 8 pre-filled held-out
    prompts, the format checked); returns the job id."""
    from webapp.tabs.sft import sample_heldout_text
    cfg = SFTConfig()
    data = read_conversations(SAMPLE_TRAIN, seed=cfg.seed)
    return start_job(real_manager, jobs, cfg, data, read_heldout(sample_heldout_text()), "",
                     check_format=True)


def test_smollm2_learns_the_json_format(real_manager, trained):
    from webapp.tabs.sft import HELDOUT_SHOWN
    st = status_dict(trained.finished("sft", lambda: sample_job(real_manager, trained.jobs), 3600))
    assert st["status"] == "done", (st["error"], st.get("detail"))
    shares = st["result"]["follows"]
    assert shares["n"] == HELDOUT_SHOWN
    last = st["evals"][-1]                              # the shares are the checker's marks
    assert shares["tuned"] == sum(map(bool, last["tuned_follows"])) / shares["n"]
    assert [follows(a) for a in last["tuned"]] == last["tuned_follows"]
    assert shares["base"] <= BASE_FOLLOWS, shares
    assert shares["tuned"] >= TUNED_FOLLOWS, shares
    # registered like a fine-tuned model: Generate lists it, and its chat mode answers in JSON
    from models.runners.generation import GenerationSettings, generate_text
    spec = real_manager.registry.get(st["result"]["key"])
    assert {"generate", "chat"} <= spec.tasks
    settings = GenerationSettings(max_new_tokens=24, greedy=True)
    with real_manager.use(spec.key) as lm:
        text = generate_text(lm, "What is the capital of Portugal?", settings).text
    assert follows(text), text
