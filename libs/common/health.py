"""What /readyz checks: that each part of the pipeline works now, not merely that a port
answers. A TCP connect to the broker said "ok" six seconds after a broker restart while every
consumer was stalled; these checks look at what the parts themselves last managed to do.

Each check answers "ok" or a short reason a person can act on; any reason makes the service
not ready (503), and it is ready again only once the part works again.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from libs.common.app import Runtime
    from libs.common.outbox import OutboxRelay


async def readiness(rt: Runtime) -> dict[str, str]:
    checks = {"database": await _database(rt), "broker": _broker(rt)}
    if rt.relay is not None:
        checks["outbox"] = await _outbox(rt.relay, rt.settings.ready_outbox_seconds)
    elif rt.watch is not None and rt.watch.epoch is not None:
        checks["outbox"] = "starting"
    for consumer in rt.consumers:
        checks[f"consumer:{consumer.group}"] = consumer_health(consumer, rt.settings.ready_consumer_seconds)
    feed = rt.identity_feed
    checks["credentials"] = feed.health() if feed is not None else "starting"
    return checks


async def _database(rt: Runtime) -> str:
    try:
        async with asyncio.timeout(2.0), rt.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _broker(rt: Runtime) -> str:
    watch = rt.watch
    if watch is None or not watch.healthy():
        reason = watch.last_error if watch is not None and watch.last_error else "not checked yet"
        return f"unreachable: {reason}"[:300]
    if watch.mismatched:
        found = ", ".join(f"{t} has {n}" for t, n in sorted(watch.mismatched.items()))
        return f"topic partitions differ from {watch.partitions}: {found}"
    return "ok"


async def _outbox(relay: OutboxRelay, limit: float) -> str:
    try:
        async with asyncio.timeout(2.0):
            age = await relay.oldest_unpublished_age()
    except Exception as exc:
        return f"unknown: {type(exc).__name__}"
    if age > limit:
        why = f" ({relay.last_error})" if relay.last_error else ""
        return f"oldest unpublished event waiting {age:.0f} s{why}"[:300]
    return "ok"


def consumer_health(consumer: Any, limit: float) -> str:
    lanes = consumer.lanes
    if lanes is None:
        return "starting"
    now = time.monotonic()
    if now - lanes.polled_at > limit:
        return f"not polled for {now - lanes.polled_at:.0f} s"
    if lanes.unassigned_since is not None:
        if now - lanes.unassigned_since > limit:
            return f"no partitions assigned for {now - lanes.unassigned_since:.0f} s"
        return "joining its group"
    waiting = consumer.waiting_since
    if waiting is not None and now - waiting > limit:
        return f"a record has waited {now - waiting:.0f} s on a transient error"
    return "ok"
