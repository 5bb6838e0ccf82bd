"""Keep the cycle collector off what lives for the whole process.

A full (generation 2) collection walks every tracked object. After startup a service holds
hundreds of thousands that never die — jieba's dictionary and the trained classifier in intake,
the routing policy, SQLAlchemy's mappers, FastAPI's routes — and a full collection over them
took ~95 ms on intake's heap, with the event loop stopped: under a steady 50 orders/s every
order in flight then waited (201 → `dispatch.offered` spikes of 150–320 ms, issue #21). After
`freeze()` those objects sit in the permanent generation, which no collection walks; what is
allocated later is collected as before. Objects freed by reference counting are freed as before
too: only cyclic garbage among the frozen objects would be kept, and the frozen ones are, by
construction, the process's own long-lived state.

Once per process: a service process starts one app. Tests start hundreds, one after another, in
one process whose heap grows to hundreds of megabytes; a collection at each start would cost
them seconds apiece, and what the first app froze is the same modules' state the others share.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_heap() -> int:
    """Collect once (startup's own garbage is not kept), then freeze the survivors; how many
    objects are frozen. Later calls in the same process do nothing."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    return gc.get_freeze_count()
