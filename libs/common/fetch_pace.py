"""How long a consumer's fetch may wait at the broker: short while records flow, long when quiet.

Why (issue #21, measured with bench/idle.py on the whole idle stack): Tansu holds an empty fetch
for its `fetch_max_wait_ms` and answers a record that arrives meanwhile only at its next look —
after up to about half the wait (random arrivals: 50 ms wait → p50 14 / max 30 ms; 1,000 ms →
p50 196 / max 448 ms). So the wait is a price paid in latency while busy and in CPU while idle:
at 50 ms every idle consumer costs the broker ≈ 2 % of a core and its own process ≈ 1 %; the six
services idle burned 45 % of a core, 20 % of it in the broker. One fixed setting cannot be both.

So the wait follows the traffic: `busy_ms` (50) while this consumer has seen a record within
`idle_after` seconds (5 s: a province's ~1 order/s keeps it busy), `idle_ms` (1,000) after
that. The first record after a quiet spell is delivered up to ≈ `idle_ms`/2 later than a busy
one; the records after it at busy pace. The getmany timeout follows too (the fetch loop's own
wake-ups): `poll_busy_ms` / `poll_idle_ms`.

aiokafka builds each FetchRequest from `Fetcher._fetch_max_wait_ms` (aiokafka 0.14; the version
is pinned below 0.15 in pyproject.toml and tests/unit/test_fetch_pace.py fails if the name goes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

BUSY_MS = 50
IDLE_MS = 1000
IDLE_AFTER_S = 5.0


class FetchPace:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        busy_ms: int = BUSY_MS,
        idle_ms: int = IDLE_MS,
        idle_after: float = IDLE_AFTER_S,
        poll_busy_ms: int = 100,
        poll_idle_ms: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer, self.busy_ms, self.idle_ms, self.idle_after = consumer, busy_ms, idle_ms, idle_after
        self.poll_busy_ms, self.poll_idle_ms, self.clock = poll_busy_ms, poll_idle_ms, clock
        self.last_record_at = clock()  # a consumer starts busy: it has a backlog to read, perhaps
        self.idle = False
        self.switches = 0

    @property
    def poll_ms(self) -> int:
        """The getmany timeout for the next poll."""
        return self.poll_idle_ms if self.idle else self.poll_busy_ms

    def saw(self, records: int) -> None:
        """After each poll: how many records it returned."""
        now = self.clock()
        if records:
            self.last_record_at = now
        idle = now - self.last_record_at >= self.idle_after
        if idle != self.idle:
            self.idle = idle
            self.switches += 1
        self._apply()

    def wake(self) -> None:
        """Busy now (something says records are coming: a rebalance, a broker reset)."""
        self.last_record_at = self.clock()
        self.idle = False
        self._apply()

    def _apply(self) -> None:
        fetcher = getattr(self.consumer, "_fetcher", None)  # made by start()
        if fetcher is not None:
            fetcher._fetch_max_wait_ms = self.idle_ms if self.idle else self.busy_ms
