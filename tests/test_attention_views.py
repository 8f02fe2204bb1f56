"""What a browser session keeps of an attention run (models/runners/attention.py ViewStore):
a handle in the session, the weights in one store bounded per person and in bytes, counted
against the model manager's memory budget; a view let go says so instead of drawing nothing.
Bytes are counted, not timed."""
from __future__ import annotations

import numpy as np
import pytest

from models.core.errors import UserError
from models.runners.attention import AttentionMap, AttentionResult, ViewStore, result_bytes

SMOLLM2_512 = 30 * 9 * 512 * 512 * 2          # layers x heads x n x n, float16


def fake_result(n: int = 64, layers: int = 2, heads: int = 3) -> AttentionResult:
    w = np.full((layers, heads, n, n), 1.0 / n, dtype=np.float16)
    toks = [f"t{i}" for i in range(n)]
    return AttentionResult("m", "M", "encoder", {"self": AttentionMap("self", "self", toks, toks,
                                                                      w)}, toks)


def test_a_session_keeps_a_handle_and_the_store_bounds_each_person(make_manager):
    manager = make_manager(budget=10 * 2**20)
    store = ViewStore(manager, cap_bytes=4 * 2**20, per_owner=2)
    one = fake_result()
    size = result_bytes(one)
    assert size == 2 * 3 * 64 * 64 * 2
    handles = [store.put("user:amy", fake_result()) for _ in range(5)]
    assert all(isinstance(h, str) and len(h) < 64 for h in handles)
    assert len(store) == 2 and store.bytes_by_owner() == {"user:amy": 2 * size}
    assert store.get(handles[0]) is None and store.get(handles[-1]) is not None
    # another person's handle is not theirs
    assert store.get(handles[-1], owner="user:bob") is None
    # what is kept is counted against the manager's budget, and given back when let go
    assert manager.reserved() == {ViewStore.LABEL: 2 * size}
    assert manager.used_bytes() == 2 * size
    store.drop_owner("user:amy")
    assert manager.reserved() == {} and store.total_bytes() == 0


def test_thirty_students_with_512_token_views_stay_under_the_cap(make_manager):
    """The issue's case: thirty students each showing a 512-token SmolLM2 attention. Every
    view is ~141 MB in float16; the store keeps at most its cap, whatever the number of
    sessions, and each student's newest view is there until others push it out."""
    manager = make_manager(budget=8 * 2**30)
    store = ViewStore(manager)                         # default cap: a quarter of the budget
    assert store.cap_bytes == 2 * 2**30
    arrays = {}
    for i in range(30):
        # shared array: the test counts the store's bookkeeping, not 4 GB of real memory
        w = arrays.setdefault("w", np.zeros((30, 9, 512, 512), dtype=np.float16))
        toks = ["x"] * 512
        res = AttentionResult("smollm2", "SmolLM2", "decoder",
                              {"self": AttentionMap("self", "self", toks, toks, w, True)}, toks)
        store.put(f"user:s{i}", res)
        assert store.total_bytes() <= store.cap_bytes
        assert manager.used_bytes() <= manager.budget_bytes
    assert result_bytes(res) == SMOLLM2_512
    assert len(store) == store.cap_bytes // SMOLLM2_512 == 15
    assert store.evicted == 15
    assert manager.reserved()[ViewStore.LABEL] == store.total_bytes()


def test_a_view_that_does_not_fit_beside_busy_work_is_refused(make_manager):
    manager = make_manager(budget=2 * 2**20)
    store = ViewStore(manager, cap_bytes=10 * 2**20)
    with manager.reserve(int(1.5 * 2**20), "training", "a training job"):
        with pytest.raises(UserError) as err:
            store.put("user:amy", fake_result(n=256, layers=2, heads=4))   # 1 MB
        assert err.value.code == "budget_busy"
        small = store.put("user:amy", fake_result(n=64))                    # 48 KB fits
        assert store.get(small) is not None
        # a bigger one lets the store's own older views go first
        store.put("user:bob", fake_result(n=128, layers=2, heads=4))        # 256 KB
    assert manager.used_bytes() == store.total_bytes() > 0


def test_the_tab_says_when_a_view_was_let_go():
    from webapp.tabs.attention import kept
    store = ViewStore(None, cap_bytes=10 * 2**20, per_owner=1)
    assert kept(store, None) is None                     # no run yet: the old message follows
    first = store.put("session:api", fake_result())
    assert kept(store, first) is not None
    store.put("session:api", fake_result())
    with pytest.raises(UserError) as err:
        kept(store, first)
    assert err.value.code == "att_view_gone"
