"""libs.common.heap: the startup heap is frozen out of the cycle collector, and thawed again."""

from __future__ import annotations

import gc
import weakref

from libs.common import heap


def test_freezing_moves_the_live_objects_out_of_every_generation_and_thawing_brings_them_back() -> None:
    kept = [{"n": i} for i in range(1000)]  # long-lived state, as a service's dictionaries are
    try:
        frozen = heap.freeze_startup_heap()
        assert frozen >= len(kept)
        assert frozen == gc.get_freeze_count()
        assert gc.get_count()[2] == 0  # nothing left for a full collection to walk
    finally:
        heap.thaw()
    assert gc.get_freeze_count() == 0


def test_garbage_made_before_the_freeze_is_collected_not_kept() -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cycle collector frees it
    gone = weakref.ref(a)
    del a, b
    try:
        heap.freeze_startup_heap()
        assert gone() is None  # frozen without the collection first, the cycle would live on
    finally:
        heap.thaw()
