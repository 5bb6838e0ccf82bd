"""The end-to-end check that no order is lost between intake and dispatch (issue #14).

Intake announces an order to dispatch (`workorder.created`) and then waits for dispatch's word
about it: any dispatch event naming the order (`service.apply_downstream_event` sets `routed_at`).
It trusts no hop in between — its own relay, the broker, dispatch's consumer, dispatch's relay:
an order announced `after` ago with no word is announced again (`workorder.routing_requested`,
built from the order as it is now), then again with backoff for as long as it stays
unacknowledged. Dispatch routes an order it never got and confirms one it has, so a
re-announcement never makes a second decision.

Cheap at any size: the sweep reads the partial index `ix_work_orders_awaiting_ack` (only open,
announced, unacknowledged orders), and safe with several replicas: each locks its due orders
with FOR UPDATE SKIP LOCKED, and the row's next check moves forward in the same transaction.
Which orders are due and when to try again is `domain.next_check_at` (pure)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.events import intake as ev
from libs.common.periodic import every
from services.intake import domain
from services.intake.models import AWAITING_ACK, WorkOrder
from services.intake.queries import prefix_match
from services.intake.service import add_timeline, created_payload, emit
from services.intake.settings import IntakeSettings, get_intake_settings

if TYPE_CHECKING:
    from services.intake.runtime import IntakeRuntime

log = logging.getLogger(__name__)


@dataclass
class ReconcileStats:
    """This process's counters, in `rt.ext.reconcile` (for metrics; figures across every
    replica come from the database: `figures`)."""

    reemitted: int = 0  # re-announcements made by this process since it started
    sweeps: int = 0
    failed_sweeps: int = 0
    last_sweep_at: datetime | None = None  # the clock's time of the last finished sweep
    last_sweep_reemitted: int = 0
    awaiting_ack: int = 0  # announced, unacknowledged orders at the last sweep (every county)
    oldest_announced_at: datetime | None = None  # of those, the longest waiting


def metric_source(stats: ReconcileStats, service: str = "intake"):  # type: ignore[no-untyped-def]
    """The reconciliation's figures for /metrics (libs.common.metrics)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    def collect():  # type: ignore[no-untyped-def]
        reemits = CounterMetricFamily(
            "lawline_reconcile_reemits",
            "Orders announced to dispatch again for want of its word",
            labels=["service"],
        )
        reemits.add_metric([service], stats.reemitted)
        waiting = GaugeMetricFamily(
            "lawline_reconcile_awaiting_ack",
            "Announced orders dispatch has not acknowledged yet (at the last sweep)",
            labels=["service"],
        )
        waiting.add_metric([service], stats.awaiting_ack)
        failed = CounterMetricFamily(
            "lawline_reconcile_failed_sweeps", "Sweeps that failed", labels=["service"]
        )
        failed.add_metric([service], stats.failed_sweeps)
        return [reemits, waiting, failed]

    return collect


def ack_wait(order: WorkOrder) -> domain.AckWait:
    return domain.AckWait(
        status=order.status,
        dispatched=bool(order.dispatched),
        announced_at=order.announced_at,
        routed_at=order.routed_at,
        reemits=order.reemits or 0,
        last_reemit_at=order.last_reemit_at,
    )


def announce(order: WorkOrder, now: datetime, s: IntakeSettings) -> None:
    """The order goes to dispatch now (created, unmerged): dispatch owes it an acknowledgement."""
    order.announced_at, order.routed_at = now, None
    order.reconcile_at = domain.next_check_at(ack_wait(order), s.reconcile_policy)


def routing_requested_payload(
    order: WorkOrder, *, attempt: int, now: datetime
) -> ev.WorkOrderRoutingRequestedV1:
    return ev.WorkOrderRoutingRequestedV1(
        **created_payload(order).model_dump(), attempt=attempt, requested_at=now
    )


@dataclass(frozen=True)
class Reemitted:
    id: uuid.UUID
    number: str
    county_code: str
    attempt: int
    next_check_at: datetime | None


def _due(now: datetime, limit: int):  # type: ignore[no-untyped-def]
    return (
        select(WorkOrder)
        .where(AWAITING_ACK, WorkOrder.reconcile_at <= now)
        .order_by(WorkOrder.reconcile_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def sweep(
    session: AsyncSession, *, now: datetime, settings: IntakeSettings | None = None
) -> list[Reemitted]:
    """Re-announce the due orders (at most `reconcile_batch`) in the caller's transaction."""
    s = settings or get_intake_settings()
    policy = s.reconcile_policy
    out: list[Reemitted] = []
    for order in (await session.scalars(_due(now, s.reconcile_batch))).all():
        state = ack_wait(order)
        if not domain.due_for_reemit(state, now, policy):
            # The stored hint is older than the rule (a setting changed): the rule decides.
            order.reconcile_at = domain.next_check_at(state, policy)
            continue
        attempt = state.reemits + 1
        order.reemits, order.last_reemit_at = attempt, now
        order.reconcile_at = domain.next_check_at(ack_wait(order), policy)
        add_timeline(
            session,
            order,
            at=now,
            kind="routing_requested",
            text_=f"派单系统未确认收到本工单，已自动重新派发（第 {attempt} 次）",
            text_en=f"The dispatch system did not confirm receiving this order; sent again automatically (attempt {attempt})",
            public=False,
            attempt=attempt,
        )
        await emit(
            session,
            order=order,
            event_type=ev.WORKORDER_ROUTING_REQUESTED,
            payload=routing_requested_payload(order, attempt=attempt, now=now),
        )
        waited = (now - order.announced_at).total_seconds() if order.announced_at else 0.0
        log.warning(
            "work order %s (%s, county %s): no word from dispatch %.0f s after it was announced; "
            "re-announced (attempt %d, next check %s)",
            order.number,
            order.id,
            order.county_code,
            waited,
            attempt,
            order.reconcile_at.isoformat() if order.reconcile_at else "-",
        )
        out.append(Reemitted(order.id, order.number, order.county_code, attempt, order.reconcile_at))
    return out


async def waiting(session: AsyncSession) -> tuple[int, datetime | None]:
    """(announced and unacknowledged orders, the oldest announcement among them) — every county."""
    row = (
        await session.execute(select(func.count(), func.min(WorkOrder.announced_at)).where(AWAITING_ACK))
    ).one()
    return int(row[0]), row[1]


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    stats: ReconcileStats,
    settings: IntakeSettings | None = None,
) -> list[Reemitted]:
    """One sweep in its own transaction, with the counters updated after the commit."""
    async with sessionmaker() as session, session.begin():
        done = await sweep(session, now=now, settings=settings)
    async with sessionmaker() as session:
        stats.awaiting_ack, stats.oldest_announced_at = await waiting(session)
    stats.sweeps += 1
    stats.reemitted += len(done)
    stats.last_sweep_at, stats.last_sweep_reemitted = now, len(done)
    return done


async def reconcile_loop(rt: IntakeRuntime) -> None:
    """Runs in every replica (the row locks share the work out), first one interval after start."""
    s = get_intake_settings()
    stats = rt.ext.reconcile

    async def sweep() -> None:
        await sweep_once(rt.sessionmaker, now=rt.clock.now(), stats=stats, settings=s)

    def failed(_exc: BaseException) -> None:
        stats.failed_sweeps += 1

    await every(
        s.reconcile_interval_seconds, sweep, name="reconciliation sweep", run_first=False, on_failure=failed
    )


RECENT = 20


async def figures(session: AsyncSession, *, region: str | None, now: datetime) -> dict:
    """What supervisors see (GET /v1/pipeline/reconciliation), within `region` (a code prefix;
    None: everywhere). Both queries read small partial indexes only."""
    w = WorkOrder
    inside = [prefix_match(w.region_code, region)] if region else []
    waiting_row = (
        await session.execute(select(func.count(), func.min(w.announced_at)).where(AWAITING_ACK, *inside))
    ).one()
    day_ago = now - timedelta(hours=24)
    reemitted = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(w.reemits), 0),
                func.count().filter(w.last_reemit_at >= day_ago),
            ).where(w.reemits > 0, *inside)
        )
    ).one()
    recent = (
        await session.scalars(
            select(w).where(w.reemits > 0, *inside).order_by(w.last_reemit_at.desc()).limit(RECENT)
        )
    ).all()
    oldest = waiting_row[1]
    return {
        "awaiting_ack": int(waiting_row[0]),
        "oldest_waiting_seconds": max(0, int((now - oldest).total_seconds())) if oldest else None,
        "reemitted_total": int(reemitted[0]),
        "reemits_total": int(reemitted[1]),
        "reemitted_last_24h": int(reemitted[2]),
        "recent": [
            {
                "work_order_id": o.id,
                "number": o.number,
                "county_code": o.county_code,
                "status": o.status,
                "attempts": o.reemits,
                "last_reemit_at": o.last_reemit_at,
                "acknowledged_at": o.routed_at,
            }
            for o in recent
        ],
        "as_of": now,
    }
