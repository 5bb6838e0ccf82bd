"""Supervision (督办): the background sweeper and the supervisor's views.

`sweep_once(sessionmaker, now)` is what the background task runs every few seconds on
the injectable clock, and what tests call directly: offer timeouts → next candidate or
escalation; at-risk and breached clocks → dispatch.overdue up the escalation ladder,
each rung raised once. Rows are claimed with FOR UPDATE SKIP LOCKED, so several
instances can sweep at once without raising anything twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth import Principal, region_filter
from libs.common.events import dispatch as ev
from libs.common.periodic import every as run_every
from services.dispatch import clocks, offers, service
from services.dispatch.models import OrderSnapshot, Supervision
from services.dispatch.policy import Policy, default_policy
from services.dispatch.schemas import OrderClockOut, QueueItemOut, SupervisionGroupOut

log = logging.getLogger(__name__)


class _Rung(NamedTuple):
    """One rung to raise on an order's running clock."""

    clock: str
    due: datetime
    level: int
    notified: str  # who is notified
    at_risk: bool  # the at-risk warning (level 0), not an overdue rung


async def raise_clocks(session: AsyncSession, *, now: datetime, policy: Policy, limit: int = 200) -> int:
    """Raise the next rung for every open order whose running clock is at risk or breached."""
    raised = 0
    for o in await _late_orders(session, now=now, policy=policy, limit=limit):
        rung = _next_rung(o, now=now, policy=policy)
        if rung is None:
            continue
        if rung.at_risk:
            o.at_risk_raised = True
        else:
            o.supervision_level = rung.level
        await _raise(session, o, rung, now=now)
        raised += 1
    return raised


async def _late_orders(
    session: AsyncSession, *, now: datetime, policy: Policy, limit: int
) -> Sequence[OrderSnapshot]:
    top = policy.top_level
    f = policy.at_risk_fraction
    o_ = OrderSnapshot
    # Only orders past the at-risk point of their running clock (an index-friendly prefilter).
    transfer_late = o_.status.in_(service.OPEN) & (
        o_.received_at + (o_.transfer_due - o_.received_at) * f <= now
    )
    reply_late = o_.status.not_in(service.OPEN) & (
        o_.received_at + (o_.reply_due - o_.received_at) * f <= now
    )
    return (
        await session.scalars(
            select(OrderSnapshot)
            .where(OrderSnapshot.closed_at.is_(None), OrderSnapshot.supervision_level < top)
            .where(or_(transfer_late, reply_late))
            .order_by(OrderSnapshot.priority, OrderSnapshot.transfer_due)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


def _next_rung(o: OrderSnapshot, *, now: datetime, policy: Policy) -> _Rung | None:
    """Pure: the rung this order's running clock has reached and not yet raised, if any."""
    name, due = clocks.running_clock(
        status_=o.status,
        transfer_due=o.transfer_due,
        reply_due=o.reply_due,
        extended=o.reply_extended_at is not None,
    )
    if due is None:
        return None
    state = clocks.status(now, o.received_at, due, policy.at_risk_fraction)
    if state == "at_risk" and not o.at_risk_raised:
        return _Rung(name, due, 0, "service_point", at_risk=True)
    if state == "overdue":
        # Urgent and critical orders climb their own (faster) ladder.
        r = clocks.rung(now, due, policy.ladder_for(o.urgency))
        # Each rung once; accepting the order resets the ladder for the reply clock.
        if r is not None and r.level > o.supervision_level:
            return _Rung(name, due, r.level, r.to, at_risk=False)
    return None


async def _raise(session: AsyncSession, o: OrderSnapshot, rung: _Rung, *, now: datetime) -> None:
    session.add(
        Supervision(
            id=uuid.uuid4(),
            work_order_id=o.work_order_id,
            clock=rung.clock,
            level=rung.level,
            notified=rung.notified,
            due=rung.due,
            raised_at=now,
        )
    )
    await service.publish(
        session,
        order=o,
        payload=ev.OverdueV1(
            work_order_id=str(o.work_order_id),
            county_code=o.county_code,
            clock=rung.clock,
            level=rung.level,
            notified=rung.notified,
            due=rung.due,
            raised_at=now,
            handler_staff_id=str(o.handler_staff_id) if o.handler_staff_id else None,
            service_point_id=str(o.service_point_id) if o.service_point_id else None,
        ),
    )


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, policy: Policy | None = None
) -> dict[str, int]:
    policy = policy or default_policy()
    async with sessionmaker() as session, session.begin():
        expired = await offers.expire_offers(session, now=now)
    async with sessionmaker() as session, session.begin():
        raised = await raise_clocks(session, now=now, policy=policy)
    return {"expired": expired, "supervisions": raised}


async def run_sweeper(
    sessionmaker: async_sessionmaker[AsyncSession], now: Callable[[], datetime], every: float
) -> None:
    async def sweep() -> None:
        await sweep_once(sessionmaker, now=now())

    await run_every(every, sweep, name="dispatch sweeper (offer timeouts, clocks)")


async def overdue_and_at_risk(
    session: AsyncSession,
    *,
    who: Principal,
    now: datetime,
    county_code: str | None,
    policy: Policy | None = None,
) -> list[SupervisionGroupOut]:
    """Open orders whose running clock is at risk or breached, grouped by county and service point."""
    policy = policy or default_policy()
    q = select(OrderSnapshot).where(
        OrderSnapshot.closed_at.is_(None), region_filter(OrderSnapshot.region_code, who)
    )
    if county_code:
        q = q.where(OrderSnapshot.county_code == county_code)
    groups: dict[tuple[str, uuid.UUID | None], SupervisionGroupOut] = {}
    for o in await session.scalars(
        q.order_by(OrderSnapshot.priority, OrderSnapshot.transfer_due).limit(5000)
    ):
        name, due = clocks.running_clock(
            status_=o.status,
            transfer_due=o.transfer_due,
            reply_due=o.reply_due,
            extended=o.reply_extended_at is not None,
        )
        state = clocks.status(now, o.received_at, due, policy.at_risk_fraction)
        if state == "ok":
            continue
        g = groups.setdefault(
            (o.county_code, o.service_point_id),
            SupervisionGroupOut(
                county_code=o.county_code,
                service_point_id=o.service_point_id,
                overdue=0,
                at_risk=0,
                orders=[],
            ),
        )
        if state == "overdue":
            g.overdue += 1
        else:
            g.at_risk += 1
        g.orders.append(
            OrderClockOut(
                work_order_id=o.work_order_id,
                number=o.number,
                county_code=o.county_code,
                service_point_id=o.service_point_id,
                handler_staff_id=o.handler_staff_id,
                status=o.status,
                priority=o.priority == 0,
                clock=name,
                due=due,
                state=state,
                supervision_level=o.supervision_level,
                warnings=list(o.clock_warnings or []),
            )
        )
    return sorted(groups.values(), key=lambda g: (-g.overdue, -g.at_risk, g.county_code))


async def supervisor_queue(
    session: AsyncSession, *, who: Principal, county_code: str | None, limit: int
) -> list[QueueItemOut]:
    """Escalated orders waiting for a supervisor: 四优先 first, then the earliest deadline."""
    q = select(OrderSnapshot).where(
        OrderSnapshot.status == "escalated", region_filter(OrderSnapshot.region_code, who)
    )
    if county_code:
        q = q.where(OrderSnapshot.county_code == county_code)
    rows = await session.scalars(q.order_by(OrderSnapshot.priority, OrderSnapshot.transfer_due).limit(limit))
    return [
        QueueItemOut(
            work_order_id=o.work_order_id,
            number=o.number,
            county_code=o.county_code,
            service_type=o.service_type,
            special_groups=list(o.special_groups or []),
            urgency=o.urgency,
            priority=o.priority == 0,
            transfer_due=o.transfer_due,
            escalated_at=o.escalated_at,
            offers_made=o.offers_made,
        )
        for o in rows
    ]
