"""Waiting between tries: one delay policy and one retry loop for every part that retries.

Why not tenacity: most of our retries are not "call f until it works" but long-lived loops
(the outbox relay, a consumer's supervisor, a LISTEN connection) whose delay grows while a
dependency is away and starts small again once it is back, and whose waiting is shown by
/readyz (the inbox consumer's `waiting_since`). That state has to outlive one call and be
readable from outside, which tenacity keeps inside its retry loop; the rest (a bounded retry
of a lost serialization conflict) is five lines. No dependency for what this module does.

`Backoff` is the delay policy: `first`, multiplied by `factor` after each failure up to `cap`,
with optional ±`jitter` (a fraction) so replicas retrying one dependency spread out;
`reset()` after a success. `retry()` awaits a step until it succeeds, a failure it should not
retry, or `attempts` run out. A cancellation is never caught or delayed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(eq=False)  # identity, not value: kept in sets of the waits in progress
class Backoff:
    first: float = 0.2
    cap: float = 5.0
    factor: float = 2.0
    jitter: float = 0.0
    failures: int = field(default=0, init=False)  # failures since the last reset
    since: float | None = field(default=None, init=False)  # monotonic time of the first of them
    _delay: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._delay = self.first

    def next(self) -> float:
        """The delay before the next try (and count one failure)."""
        if self.since is None:
            self.since = time.monotonic()
        self.failures += 1
        delay, self._delay = self._delay, min(self._delay * self.factor, self.cap)
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return delay

    async def sleep(self) -> float:
        """Sleep the next delay; returns it."""
        delay = self.next()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        """It worked: the next failure waits `first` again."""
        self._delay, self.failures, self.since = self.first, 0, None


def _always(_exc: BaseException) -> bool:
    return True


async def retry(
    step: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    when: Callable[[BaseException], bool] = _always,
    attempts: int | None = None,
    on_retry: Callable[[BaseException, int, float], None] | None = None,
) -> T:
    """`await step()` until it returns. A failure `when(exc)` accepts is tried again after
    `backoff.next()` — at most `attempts` tries in all (None: for ever); any other failure, or
    the last try's, is raised as it is. `on_retry(exc, tries_so_far, delay)` is called before
    each wait (to log it). The backoff is left as it is: a caller sharing one across calls
    resets it itself."""
    tries = 0
    while True:
        try:
            return await step()
        except Exception as exc:
            tries += 1
            if not when(exc) or (attempts is not None and tries >= attempts):
                raise
            delay = backoff.next()
            if on_retry is not None:
                on_retry(exc, tries, delay)
            await asyncio.sleep(delay)
