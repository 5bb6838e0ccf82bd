"""Keep the cycle collector off what lives for the whole process.

A full (generation 2) collection walks every tracked object. After startup a service holds
hundreds of thousands that never die — jieba's dictionary and the trained classifier in intake,
the routing policy, SQLAlchemy's mappers, FastAPI's routes — and a full collection over them
took ~95 ms on intake's heap, with the event loop stopped: under a steady 50 orders/s every
order in flight then waited (201 → `dispatch.offered` spikes of 150–270 ms, issue #21). After
`freeze()` those objects sit in the permanent generation, which no collection walks; what is
allocated later is collected as before. Objects freed by reference counting are freed as before
too: only cyclic garbage among the frozen objects would be kept, and the frozen ones are, by
construction, the process's own long-lived state.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once (startup's own garbage is not kept), then freeze the survivors; how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    """At shutdown: the frozen objects are ordinary again (tests run several apps in one process,
    one after another, and each app's objects must be collectable once it stopped)."""
    gc.unfreeze()
