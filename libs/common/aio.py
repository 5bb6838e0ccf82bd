"""Timeouts that never swallow a cancellation.

On Python 3.11 `asyncio.wait_for` can lose a `cancel()` that arrives as its inner awaitable
finishes (CPython gh-86296, fixed in 3.12 by rebuilding wait_for on `asyncio.timeout`): a loop
`while True: … await wait_for(event.wait(), t)` then carries on after its task was cancelled,
and a service's shutdown — which cancels its background loops and waits for them — hangs
(seen: a service that would not stop, a test run stuck at its end). `asyncio.timeout` tells its
own cancellation from a caller's, so these are built on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """`await awaitable`, raising TimeoutError after `seconds`."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`; whether it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
