"""Dispatch's business figures on `/metrics` (libs.common.db_figures: read at scrape time, cached).

- offers and assignments by kind and status (offered = waiting for an answer, accepted,
  rejected = declined, expired = timed out, returned / transferred / withdrawn …): one row per
  offer ever made, so their sum only grows — `increase()` over it is the offers made;
- orders waiting for a taker (new, offered, escalated to the supervisor queue) by the tier of
  the service point the open offer sits at (`none`: no open offer), over ix_orders_queue and the
  one-open-offer index;
- 督办 raised (supervisions) by clock and by who was told — only grows;
- open orders whose running clock has run out (clocks.running_clock: before assignment the
  transfer clock, after it the reply clock, `max` once an extension was approved), over
  ix_orders_open_due's open orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client.core import Metric
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.db_figures import gauge
from services.dispatch.models import Assignment, OrderSnapshot, ServicePoint, Supervision
from services.dispatch.service import OPEN


def _count_if(cond: Any) -> Any:
    return func.count(case((cond, 1)))


async def figures(conn: AsyncConnection, now: datetime, service: str) -> list[Metric]:
    a, o, sp = Assignment, OrderSnapshot, ServicePoint
    offers = (await conn.execute(select(a.kind, a.status, func.count()).group_by(a.kind, a.status))).all()
    tier = func.coalesce(sp.tier, "none")
    waiting = (
        await conn.execute(
            select(o.status, tier, func.count())
            .select_from(o)
            .outerjoin(a, and_(a.work_order_id == o.work_order_id, a.status == "offered"))
            .outerjoin(sp, sp.id == a.service_point_id)
            .where(o.status.in_(OPEN))
            .group_by(o.status, tier)
        )
    ).all()
    s = Supervision
    supervisions = (
        await conn.execute(select(s.clock, s.notified, func.count()).group_by(s.clock, s.notified))
    ).all()
    before = o.status.in_(OPEN)
    extended = o.reply_extended_at.is_not(None)
    clocks = (
        await conn.execute(
            select(
                _count_if(and_(before, o.transfer_due < now)),
                _count_if(and_(~before, ~extended, o.reply_due < now)),
                _count_if(and_(~before, extended, o.reply_due < now)),
            ).where(o.closed_at.is_(None), o.status.not_in(("closed", "merged")))
        )
    ).one()
    return [
        gauge(
            "lawline_dispatch_assignments",
            "Offers and assignments by kind and status (offered, accepted, rejected, expired, …)",
            service,
            ["kind", "status"],
            ((r[:2], r[2]) for r in offers),
        ),
        gauge(
            "lawline_dispatch_waiting_orders",
            "Orders waiting for a taker by status and the tier of their open offer (none: no offer)",
            service,
            ["status", "tier"],
            ((r[:2], r[2]) for r in waiting),
        ),
        gauge(
            "lawline_dispatch_supervisions",
            "督办 raised on overdue orders, by clock and who was told",
            service,
            ["clock", "notified"],
            ((r[:2], r[2]) for r in supervisions),
        ),
        gauge(
            "lawline_dispatch_clocks_overdue",
            "Open orders whose running clock (transfer, reply, max) has run out",
            service,
            ["clock"],
            zip((("transfer",), ("reply",), ("max",)), clocks, strict=True),
        ),
    ]
