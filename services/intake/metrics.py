"""Intake's business figures on `/metrics` (libs.common.db_figures: read at scrape time, cached).

Three statements, each over an index: the orders by channel, service type, county and status
with their ratings (an index-only scan of ix_work_orders_stats, which holds every one of those
columns), the open orders past their deadline (ix_work_orders_open_due: open orders only), the
open callback / return-visit tasks (ix_tasks_open_due: open tasks only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prometheus_client.core import Metric
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.db_figures import gauge
from services.intake import domain
from services.intake.models import Task, WorkOrder

SCORES = (1, 2, 3, 4, 5)


async def figures(conn: AsyncConnection, now: datetime, service: str) -> list[Metric]:
    orders = await _orders(conn)
    ratings = _ratings(orders)
    overdue = await _overdue(conn, now)
    tasks = await _open_tasks(conn, now)
    return [
        gauge(
            "lawline_work_orders",
            "Work orders by channel, service type, county and status",
            service,
            ["channel", "service_type", "county", "status"],
            ((r[:4], r[4]) for r in orders),
        ),
        gauge(
            "lawline_work_orders_overdue",
            "Open work orders past their deadline (due_at passed, not closed, merged or cancelled)",
            service,
            ["county"],
            ((r[:1], r[1]) for r in overdue),
        ),
        gauge(
            "lawline_callback_tasks_open",
            "Open callbacks (回拨) and return visits (回访): due = deadline ahead, missed = passed",
            service,
            ["kind", "state"],
            ((r[:2], r[2]) for r in tasks),
        ),
        gauge(
            "lawline_work_order_ratings",
            "Satisfaction ratings given, by county and score (1–5)",
            service,
            ["county", "score"],
            sorted(ratings.items()),
        ),
    ]


async def _orders(conn: AsyncConnection) -> Sequence[Any]:
    """Counts by channel, service type, county and status, then one count per rating score."""
    o = WorkOrder
    score_counts = [func.count(case((o.rating_score == s, 1))) for s in SCORES]
    return (
        await conn.execute(
            select(o.channel, o.service_type, o.county_code, o.status, func.count(), *score_counts).group_by(
                o.channel, o.service_type, o.county_code, o.status
            )
        )
    ).all()


def _ratings(orders: Sequence[Any]) -> dict[tuple[str, str], int]:
    ratings: dict[tuple[str, str], int] = defaultdict(int)
    for row in orders:
        for score, n in zip(SCORES, row[5:], strict=True):
            if n:
                ratings[(row.county_code, str(score))] += n
    return ratings


async def _overdue(conn: AsyncConnection, now: datetime) -> Sequence[Any]:
    o = WorkOrder
    # The partial index's own predicate (status NOT IN closed, merged), then cancelled as well.
    return (
        await conn.execute(
            select(o.county_code, func.count())
            .where(
                o.due_at < now,
                o.status.not_in((domain.CLOSED, domain.MERGED)),
                o.status != domain.CANCELLED,
            )
            .group_by(o.county_code)
        )
    ).all()


async def _open_tasks(conn: AsyncConnection, now: datetime) -> Sequence[Any]:
    t = Task
    state = case((t.due_at < now, "missed"), else_="due")
    return (
        await conn.execute(
            select(t.kind, state, func.count()).where(t.status == "open").group_by(t.kind, state)
        )
    ).all()
