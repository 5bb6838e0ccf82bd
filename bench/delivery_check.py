"""The two ends of the delivery check (bench/chaos.py, tests/faults): a client that retries the
way a client should — connection errors, timeouts, 5xx, 503, with the same Idempotency-Key until
it gets its 201 — and a check that trusts no hop: every acknowledged order stored once in
intake, decided on by dispatch exactly once (never two offers, never two live ones) and folded
back into intake's timeline. Both read the real databases of a bench.stack."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
import httpx

from bench.payloads import OrderFactory

if TYPE_CHECKING:
    from bench.chaos import ChaosStack


# ---- the client ------------------------------------------------------------------------------
@dataclass
class Burst:
    run: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # marker -> order id
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each acknowledgement
    attempts: int = 0
    retried: int = 0  # requests that needed more than one attempt
    statuses: dict[int, int] = field(default_factory=dict)  # non-2xx answers seen, by status
    gave_up: list[str] = field(default_factory=list)


async def send_burst(
    url: str, headers: dict[str, str], *, n: int, rate: float, run: str, give_up_after: float = 180.0
) -> Burst:
    """Open loop: order i leaves at t0 + i/rate; each is retried (same Idempotency-Key, backoff
    0.2 s doubling to 2 s) on connection errors, timeouts, 5xx and 503 until it is acknowledged."""
    burst = Burst(run)
    factory = OrderFactory(seed=hash(run) & 0xFFFF)
    t0 = time.monotonic()
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10, limits=limits) as client:

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            marker = f"[{run}-{i}]"
            body = factory.order()
            body["description"] = f"{body['description']} {marker}"
            key = f"{run}-{i}-{uuid.uuid4().hex[:6]}"
            delay, deadline, tries = 0.2, time.monotonic() + give_up_after, 0
            while time.monotonic() < deadline:
                tries += 1
                burst.attempts += 1
                try:
                    r = await client.post("/v1/work-orders", json=body, headers={"Idempotency-Key": key})
                    if r.status_code in (200, 201):
                        burst.acknowledged[marker] = r.json()["id"]
                        burst.acked_at.append(time.monotonic())
                        burst.retried += tries > 1
                        return
                    burst.statuses[r.status_code] = burst.statuses.get(r.status_code, 0) + 1
                    if r.status_code < 500 and r.status_code not in (408, 429):
                        raise AssertionError(f"order {i} refused with {r.status_code}: {r.text[:300]}")
                except httpx.TransportError:
                    pass
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            burst.gave_up.append(marker)

        await asyncio.gather(*(one(i) for i in range(n)))
    return burst


# ---- the check -------------------------------------------------------------------------------
@dataclass
class Outcome:
    acknowledged: int
    stored: int  # distinct acknowledged orders found in intake
    duplicated: int  # extra rows for the same request
    routed: int  # acknowledged orders dispatch has decided on (offered, or queued for a supervisor)
    double_routed: int  # orders offered more than once
    double_offers: int  # orders with more than one live offer
    folded: int  # acknowledged orders whose timeline shows dispatch's answer
    lost: int  # acknowledged, but not stored, or not routed, or not folded

    @property
    def complete(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.double_routed == 0 and self.double_offers == 0


async def check(cs: ChaosStack, burst: Burst) -> Outcome:
    intake = await asyncpg.connect(cs.stack.dsn("chaos_intake"))
    dispatch = await asyncpg.connect(cs.stack.dsn("chaos_dispatch"))
    try:
        rows = await intake.fetch(
            "SELECT id, substring(description from '\\[[^\\]]+\\]$') AS marker, status FROM work_orders "
            "WHERE description LIKE $1",
            f"%[{burst.run}-%",
        )
        by_marker: dict[str, list] = {}
        for r in rows:
            by_marker.setdefault(r["marker"], []).append(r)
        ids = [uuid.UUID(i) for i in burst.acknowledged.values()]
        folded = {
            r[0]
            for r in await intake.fetch(
                "SELECT DISTINCT work_order_id FROM timeline_entries "
                "WHERE work_order_id = ANY($1) AND source_event_id IS NOT NULL",
                ids,
            )
        }
        # Decided: dispatch has the order and has acted on it (an offer, or the supervisor queue).
        decided = {
            r[0]
            for r in await dispatch.fetch(
                "SELECT work_order_id FROM orders WHERE work_order_id = ANY($1) AND status <> 'new'", ids
            )
        }
        # No offer expires or is answered within a run: a second offer is a second routing.
        offers = dict(
            await dispatch.fetch(
                "SELECT work_order_id, count(*) FROM assignments WHERE work_order_id = ANY($1) GROUP BY 1",
                ids,
            )
        )
        live = await dispatch.fetchval(
            "SELECT count(*) FROM (SELECT work_order_id FROM assignments WHERE work_order_id = ANY($1) "
            "AND status = 'offered' GROUP BY 1 HAVING count(*) > 1) x",
            ids,
        )
    finally:
        await intake.close()
        await dispatch.close()
    stored = {uuid.UUID(i) for m, i in burst.acknowledged.items() if by_marker.get(m)}
    duplicated = sum(len(v) - 1 for v in by_marker.values() if len(v) > 1)
    routed = decided & set(ids)
    doubles = sum(1 for n in offers.values() if n > 1)
    through = stored & routed & folded
    return Outcome(
        len(ids),
        len(stored),
        duplicated,
        len(routed) - doubles,
        doubles,
        live,
        len(folded),
        len(ids) - len(through),
    )


async def settle(cs: ChaosStack, burst: Burst, *, timeout: float) -> tuple[Outcome, float]:
    """Poll the check until every acknowledged order is through (or `timeout`): the outcome and
    how long it took."""
    started = time.monotonic()
    outcome = await check(cs, burst)
    while not outcome.complete and time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        outcome = await check(cs, burst)
    return outcome, time.monotonic() - started
