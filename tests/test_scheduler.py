"""The device scheduler (models/core/scheduler.py) and the manager's memory reservations: a request
waits for at most the training step in progress; work shows its place in the queue; training
memory counts against the budget and work that cannot fit is refused with its sizes."""
from __future__ import annotations

import threading

import pytest

from models.core.errors import UserError
from models.core.scheduler import BACKGROUND, REQUEST, DeviceScheduler
from tests.conftest import until
from tests.messages import english


def _training(scheduler: DeviceScheduler, steps: list, stop: threading.Event,
              in_step: threading.Event, release: threading.Event):
    """A background job: each step holds the device until `release` is set once."""
    while not stop.is_set():
        with scheduler.slot(BACKGROUND, "train"):
            in_step.set()
            release.wait(30)                  # a deadline, should the test fail first
            steps.append(1)


def test_a_request_waits_for_at_most_the_step_in_progress():
    sched = DeviceScheduler()
    steps, stop, in_step, release = [], threading.Event(), threading.Event(), threading.Event()
    trainer = threading.Thread(target=_training, args=(sched, steps, stop, in_step, release))
    trainer.start()
    assert in_step.wait(5)                       # a step is running and holds the device
    seen = {}

    def request():
        seen["asked"] = len(steps)
        with sched.slot(REQUEST, "generate"):
            seen["got"] = len(steps)
    asker = threading.Thread(target=request)
    asker.start()
    until(sched.waiting, what="the request queued behind the step")
    assert [(w.kind, w.position) for w in sched.waiting()] == [(REQUEST, 1)]
    release.set()                                # every later step runs at once
    asker.join(5)
    stop.set()
    trainer.join(5)
    assert seen["got"] - seen["asked"] <= 1      # only the step in progress finished first


def test_requests_go_first_then_background_in_order():
    sched = DeviceScheduler()
    order, gate = [], threading.Event()

    def holder():
        with sched.slot(REQUEST, "first"):
            gate.wait(30)

    def work(kind, label):
        with sched.slot(kind, label):
            order.append(label)
    t0 = threading.Thread(target=holder)
    t0.start()
    until(lambda: sched.running() is not None, what="the first request to hold the device")
    threads = []
    for kind, label in [(BACKGROUND, "step-a"), (REQUEST, "req-1"), (BACKGROUND, "step-b"),
                        (REQUEST, "req-2")]:
        th = threading.Thread(target=work, args=(kind, label))
        th.start()
        threads.append(th)
        until(lambda: len(sched.waiting()) >= len(threads), what=f"{label} to queue")
    assert [w.label for w in sched.waiting()] == ["req-1", "req-2", "step-a", "step-b"]
    gate.set()
    for th in [t0] + threads:
        th.join(5)
    assert order == ["req-1", "req-2", "step-a", "step-b"]


def test_the_holder_may_ask_again_without_waiting_for_itself():
    sched = DeviceScheduler()
    with sched.slot(REQUEST, "outer"):
        with sched.slot(REQUEST, "inner"):        # e.g. a handler comparing two models
            assert sched.held_by_me()
    assert sched.running() is None and sched.steps_run[REQUEST] == 1


def test_manager_use_holds_the_device(make_manager, tiny_models):
    manager = make_manager()
    spec = manager.register_local(str(tiny_models["bert"]))
    with manager.use(spec.key):
        assert manager.scheduler.held_by_me()
        assert manager.scheduler.running() == (REQUEST, spec.key)
    assert manager.scheduler.running() is None


def test_training_memory_counts_against_the_budget(make_manager, tiny_models):
    manager = make_manager()
    spec = manager.register_local(str(tiny_models["bert"]))
    lm = manager.load(spec.key)
    manager.budget_bytes = lm.nbytes * 3
    with manager.reserve(lm.nbytes * 2, "finetune-1", "my-classifier"):
        assert manager.used_bytes() == lm.nbytes * 3
        assert manager.reserved() == {"finetune-1": lm.nbytes * 2}
    assert manager.used_bytes() == lm.nbytes
    # more than fits beside the idle model: the idle model is evicted to make room
    with manager.reserve(lm.nbytes * 3, "finetune-2"):
        assert not manager.is_loaded(spec.key)
    # more than the whole budget: refused, with both sizes in the message
    with pytest.raises(UserError) as err:
        with manager.reserve(lm.nbytes * 4, "finetune-3", "my-classifier"):
            pass
    assert err.value.code == "train_too_big"
    assert "my-classifier" in english(err.value) and "memory budget" in english(err.value)
    assert err.value.params["need"] and err.value.params["budget"]


def test_finetuning_takes_the_device_step_by_step_and_counts_its_memory(make_manager,
                                                                        tiny_models):
    """The real fine-tuning path (finetune_and_save): every step goes through the scheduler as
    background work, and while it trains its memory is counted in the budget."""
    import pandas as pd

    from models.training.finetune.loop import FinetuneConfig
    from models.training.finetune.data import load
    from models.training.finetune.job import finetune_and_save, training_bytes

    manager = make_manager()
    base = manager.register_local(str(tiny_models["bert"]))
    rows = [(f"{text} {i}", label) for i in range(4)
            for text, label in [("i love this movie", "pos"), ("what a wonderful day", "pos"),
                                ("this film was terrible", "neg"), ("the weather is nice", "pos"),
                                ("a dog ran in the park", "neg"), ("hello world", "neg")]]
    path = tiny_models["bert"].parent / "tiny_reviews.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    data = load(path, "text", "label")
    cfg = FinetuneConfig(base_model=base.key, epochs=1, batch_size=4, max_length=16)
    seen_budget = []

    class Watch:
        def on_begin(self, *a):
            seen_budget.append(manager.reserved())
        def on_step(self, info):
            pass
        def on_epoch(self, info):
            pass
        def on_notice(self, *a, **k):
            pass
    before = manager.scheduler.steps_run["background"]
    result = finetune_and_save(manager, cfg, data, "sched-test", callback=Watch())
    steps = manager.scheduler.steps_run["background"] - before
    assert result.history and steps >= 4      # ~19 training rows / batch 4, one epoch
    assert seen_budget and sum(seen_budget[0].values()) == training_bytes(
        manager.registry.files_dir(base), cfg)
    assert manager.reserved() == {}           # given back when training ends
