"""A holiday year entered or changed: every open order whose clocks counted through that year is
computed again from its receipt (working days need the year's holidays and 调休 days; 民法典
Art 203 rolls a due date off a holiday), and the "computed without the year's holidays" warning
goes. Runs in the admin's transaction, right after the year is stored. Never commits."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from services.dispatch import clocks
from services.dispatch.models import OrderSnapshot
from services.dispatch.policy import Policy

SERVICE = "dispatch"


def recompute_order(o: OrderSnapshot, *, now: datetime, policy: Policy, calendar: WorkCalendar) -> bool:
    """One order's clocks from its receipt, by its current facts (also when they change: the
    service type or the urgency, services/dispatch/lifecycle.py). True if any moved."""
    c = clocks.order_clocks(
        received_at=o.received_at,
        service_type=o.service_type,
        urgency=o.urgency,
        policy=policy,
        calendar=calendar,
    )
    extended = o.reply_extended_at is not None
    new = (c.transfer_due, clocks.reply_due(c, extended=extended), c.max_due, c.warnings)
    if new == (o.transfer_due, o.reply_due, o.max_due, list(o.clock_warnings or [])):
        return False
    _, before = clocks.running_clock(
        status_=o.status, transfer_due=o.transfer_due, reply_due=o.reply_due, extended=extended
    )
    o.transfer_due, o.reply_due, o.max_due, o.clock_warnings = new
    _, after = clocks.running_clock(
        status_=o.status, transfer_due=o.transfer_due, reply_due=o.reply_due, extended=extended
    )
    if after != before and clocks.status(now, o.received_at, after, policy.at_risk_fraction) == "ok":
        # The running clock moved out of its warning / breach: its ladder starts again.
        o.supervision_level, o.at_risk_raised = 0, False
    return True


async def recompute_open_orders(
    session: AsyncSession, *, year: int, now: datetime, policy: Policy, calendar: WorkCalendar
) -> int:
    """Open orders received by the end of `year` whose furthest clock reaches into it."""
    start = datetime.combine(date(year, 1, 1), time(0, 0), tzinfo=CHINA_TZ)
    end = datetime.combine(date(year, 12, 31), time(23, 59, 59), tzinfo=CHINA_TZ)
    orders = await session.scalars(
        select(OrderSnapshot)
        .where(
            OrderSnapshot.closed_at.is_(None),
            OrderSnapshot.received_at <= end,
            OrderSnapshot.max_due >= start,
        )
        .order_by(OrderSnapshot.work_order_id)
        .with_for_update()
    )
    changed = [
        str(o.work_order_id) for o in orders if recompute_order(o, now=now, policy=policy, calendar=calendar)
    ]
    if changed:
        await audit.record(
            session,
            service=SERVICE,
            action="dispatch.clocks_recomputed",
            subject=f"calendar:{year}",
            detail={"year": year, "orders": len(changed), "work_order_ids": changed[:500]},
        )
    return len(changed)
