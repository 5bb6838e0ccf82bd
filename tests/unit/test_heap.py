"""libs.common.heap: the startup heap is frozen out of the cycle collector, once per process."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from libs.common import heap


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in a process that has not frozen yet; unfrozen afterwards (this is a test process)."""
    monkeypatch.setattr(heap, "_frozen", False)
    yield
    gc.unfreeze()


def test_freezing_moves_the_live_objects_out_of_every_generation(fresh_process: None) -> None:
    kept = [{"n": i} for i in range(1000)]  # long-lived state, as a service's dictionaries are
    frozen = heap.freeze_startup_heap()
    assert frozen >= len(kept)
    assert frozen == gc.get_freeze_count()
    assert gc.get_count()[2] == 0  # nothing left for a full collection to walk


def test_garbage_made_before_the_freeze_is_collected_not_kept(fresh_process: None) -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cycle collector frees it
    gone = weakref.ref(a)
    del a, b
    heap.freeze_startup_heap()
    assert gone() is None  # frozen without the collection first, the cycle would live on


def test_a_second_app_in_the_same_process_does_not_collect_again(
    fresh_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    heap.freeze_startup_heap()
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(1) or 0)
    heap.freeze_startup_heap()
    assert collections == []
