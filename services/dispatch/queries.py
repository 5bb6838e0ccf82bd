"""Dispatch's read side: offers and assignments (who sees which: access.ORDER_OFFERS) and the
routing decisions of an order."""

from __future__ import annotations

import uuid

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import HANDLER, HOLDER, JURISDICTION, Principal, ensure_visible, region_filter
from libs.common.problems import Problem
from services.dispatch.access import ORDER_OFFERS
from services.dispatch.models import Assignment, Decision, OrderSnapshot, ServicePoint, Staff


async def list_assignments(
    session: AsyncSession,
    *,
    who: Principal,
    work_order_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = 100,
) -> list[tuple[Assignment, Staff, ServicePoint, OrderSnapshot]]:
    q = (
        select(Assignment, Staff, ServicePoint, OrderSnapshot)
        .join(Staff, Assignment.staff_id == Staff.id)
        .join(ServicePoint, Assignment.service_point_id == ServicePoint.id)
        .join(OrderSnapshot, OrderSnapshot.work_order_id == Assignment.work_order_id)
        .where(visible_offers(who))
    )
    if work_order_id:
        q = q.where(Assignment.work_order_id == work_order_id)
    if staff_id:
        q = q.where(Assignment.staff_id == staff_id)
    if statuses:
        q = q.where(Assignment.status.in_(statuses))
    # 四优先 first, then the earliest transfer deadline, then the newest offer.
    q = q.order_by(OrderSnapshot.priority, OrderSnapshot.transfer_due, Assignment.offered_at.desc())
    rows = await session.execute(q.limit(limit))
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def visible_offers(who: Principal):  # type: ignore[no-untyped-def]
    """Offers of the caller's jurisdiction (where their role has it, access.ORDER_OFFERS), their
    own, and every offer of an order they hold now — in any county."""
    grants = ORDER_OFFERS.grants(who.roles)
    parts = [region_filter(OrderSnapshot.region_code, who)] if JURISDICTION in grants else []
    if who.staff_id and grants & {HOLDER, HANDLER}:
        me = uuid.UUID(who.staff_id) if _is_uuid(who.staff_id) else None
        if me is not None:
            mine = select(Assignment.work_order_id).where(
                Assignment.staff_id == me, Assignment.status.in_(("offered", "accepted"))
            )
            parts += [Assignment.staff_id == me, Assignment.work_order_id.in_(mine)]
    return or_(*parts) if parts else false()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def latest_decision(
    session: AsyncSession, *, work_order_id: uuid.UUID, who: Principal
) -> tuple[Decision, OrderSnapshot]:
    order = await session.get(OrderSnapshot, work_order_id)
    decision = await session.scalar(
        select(Decision).where(Decision.work_order_id == work_order_id).order_by(Decision.seq.desc()).limit(1)
    )
    if decision is None or order is None:
        raise Problem(404, "该工单尚无派单决定", "no routing decision for this work order yet")
    ensure_visible(who, order.region_code)
    return decision, order


async def all_decisions(session: AsyncSession, *, work_order_id: uuid.UUID, who: Principal) -> list[Decision]:
    order = await session.get(OrderSnapshot, work_order_id)
    if order is None:
        raise Problem(404, "未找到该工单", "work order not found")
    ensure_visible(who, order.region_code)
    rows = await session.scalars(
        select(Decision).where(Decision.work_order_id == work_order_id).order_by(Decision.seq)
    )
    return list(rows)
