"""Offer lifecycle after the first offer: reject with a reason, timeout, 退单 (return),
transfer (转办, also the supervisor's pick from the queue), late-found conflicts, closure.
Keyword-only; never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, in_jurisdiction, object_visible
from libs.common.bilingual import Text
from libs.common.case_roles import can_work, cannot_work_reason
from libs.common.events import dispatch as ev
from libs.common.events import intake
from libs.common.orm import get_present
from libs.common.problems import FieldProblem, Problem
from services.dispatch.access import TRANSFER
from services.dispatch.acting import can_act_on_offer, cannot_act_reason
from services.dispatch.models import Assignment, OrderSnapshot, Staff
from services.dispatch.parties import conflicted_staff, record_parties
from services.dispatch.policy import default_policy
from services.dispatch.service import REJECT_REASONS, _mine, _release, make_offer, offer_next, publish


async def add_parties(
    session: AsyncSession, *, order: OrderSnapshot, parties: list[dict], now: datetime
) -> None:
    """Parties learnt after routing: if the current holder turns out conflicted, withdraw and re-route."""
    await session.refresh(order, with_for_update=True)  # the order first, then its offer (service._mine)
    await record_parties(session, order_id=order.work_order_id, parties=parties)
    await session.flush()
    conflicted = await conflicted_staff(session, order_id=order.work_order_id)
    current = await session.scalar(
        select(Assignment)
        .where(
            Assignment.work_order_id == order.work_order_id, Assignment.status.in_(("offered", "accepted"))
        )
        .with_for_update()
    )
    if current is not None and str(current.staff_id) in conflicted:
        note = "发现利益冲突，撤回派单 | conflict of interest found: withdrawn"
        order = await _give_back(session, a=current, now=now, status="withdrawn", code="conflict", note=note)
        await offer_next(session, order=order, now=now)


async def _give_back(
    session: AsyncSession, *, a: Assignment, now: datetime, status: str, code: str, note: str
) -> OrderSnapshot:
    order = await get_present(session, OrderSnapshot, a.work_order_id, with_for_update=True)
    a.status, a.responded_at, a.reason_code, a.response_note = status, now, code, note
    await _release(session, a)
    order.handler_staff_id = order.service_point_id = None
    order.assigned_at = None
    order.status = "new"
    await publish(
        session,
        order=order,
        payload=ev.RejectedV1(
            assignment_id=str(a.id),
            work_order_id=str(order.work_order_id),
            county_code=order.county_code,
            staff_id=str(a.staff_id),
            reason=note or code,
            rejected_at=now,
            reason_code=code,
        ),
    )
    return order


async def reject(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    reason_code: str,
    note: str,
    now: datetime,
    who: Principal,
) -> Assignment:
    if reason_code not in REJECT_REASONS:
        raise FieldProblem("reason_code", f"拒单原因须为 {'/'.join(REJECT_REASONS)}", "unknown reason code")
    a = await _mine(session, assignment_id, who, "offered")
    # The person stays excluded from this order (every earlier offer is excluded by offer_next).
    order = await _give_back(session, a=a, now=now, status="rejected", code=reason_code, note=note)
    await offer_next(session, order=order, now=now)
    return a


async def return_order(
    session: AsyncSession, *, assignment_id: uuid.UUID, reason: str, now: datetime, who: Principal
) -> Assignment:
    """退单: an accepted order handed back with a reason; routed again without this person."""
    a = await _mine(session, assignment_id, who, "accepted")
    order = await _give_back(session, a=a, now=now, status="returned", code="returned", note=reason)
    await offer_next(session, order=order, now=now)
    return a


async def transfer(
    session: AsyncSession,
    *,
    work_order_id: uuid.UUID,
    to_staff_id: uuid.UUID,
    reason: str,
    now: datetime,
    who: Principal,
) -> Assignment:
    """Transfer (转办) by the current handler or a supervisor, or a supervisor's pick from the queue."""
    order = await session.get(OrderSnapshot, work_order_id, with_for_update=True)
    if order is None:
        raise Problem(404, "未找到该工单", "work order not found")
    current = await session.scalar(
        select(Assignment)
        .where(Assignment.work_order_id == work_order_id, Assignment.status.in_(("offered", "accepted")))
        .with_for_update()
    )
    holds = current is not None and str(current.staff_id) == who.staff_id
    # Its holder, whatever county they are in, or a supervisor of its jurisdiction (access.py).
    if not object_visible(
        TRANSFER.grants(who.roles),
        in_jurisdiction=in_jurisdiction(who, order.region_code),
        holds=holds,
        handles=holds and current is not None and current.status == "accepted",
    ):
        raise Problem(404, "未找到该工单", "work order not found")
    if order.closed_at is not None:
        raise Problem(409, "工单已办结或已并单，不能转办", "order is closed or merged", allowed=[])
    if str(to_staff_id) in await conflicted_staff(session, order_id=work_order_id):
        raise FieldProblem("to_staff_id", "该人员与本事项存在利益冲突", "conflict of interest", status=409)
    target = await session.get(Staff, to_staff_id)
    if target is None or not target.active:
        raise FieldProblem("to_staff_id", "未找到该在职人员", "no such active staff member")
    if not can_act_on_offer(target.role, "transfer"):  # the same rule routing follows
        zh, en = Text.parse(cannot_act_reason(target.role))
        raise FieldProblem("to_staff_id", zh, en, status=409)
    if not can_work(order.service_type, target.role):  # a mediation order to a lawyer stops there
        raise FieldProblem("to_staff_id", *cannot_work_reason(order.service_type, target.role), status=409)
    if current is not None:
        await _give_back(session, a=current, now=now, status="transferred", code="transferred", note=reason)
    took = await session.execute(
        update(Staff)
        .where(Staff.id == to_staff_id, Staff.active_load + (order.weight or 1) <= Staff.capacity)
        .values(active_load=Staff.active_load + (order.weight or 1), last_assigned_at=now)
        .returning(Staff.id)
    )
    if took.first() is None:
        raise FieldProblem("to_staff_id", "该人员已满负荷", "that person has no capacity left", status=409)
    return await make_offer(
        session,
        order=order,
        staff_id=to_staff_id,
        point_id=target.service_point_id,
        reason=f"转办：{reason} | transferred by {who.name or who.sub}",
        now=now,
        timeout=timedelta(minutes=default_policy().offer_timeout(order.urgency, None)),  # urgent: capped
        kind="transfer",
    )


async def expire_offers(session: AsyncSession, *, now: datetime, limit: int = 100) -> int:
    """Offer timeouts → next candidate (or escalation). Safe on several instances (SKIP LOCKED).
    When several orders compete for the same scarce people, 四优先 orders are re-offered
    first, then the earliest transfer deadline."""
    due = (
        await session.scalars(
            select(Assignment)
            .join(OrderSnapshot, OrderSnapshot.work_order_id == Assignment.work_order_id)
            .where(Assignment.status == "offered", Assignment.expires_at <= now)
            .order_by(OrderSnapshot.priority, OrderSnapshot.transfer_due, Assignment.expires_at)
            .limit(limit)
            # Both rows, skipping either if taken: the order is locked first everywhere else
            # (service._mine), and a sweep must never wait holding an offer.
            .with_for_update(of=(Assignment, OrderSnapshot), skip_locked=True)
        )
    ).all()
    for a in due:
        order = await _give_back(
            session, a=a, now=now, status="expired", code="timeout", note="接单超时 | offer timed out"
        )
        await offer_next(session, order=order, now=now)
    return len(due)


async def close_order(session: AsyncSession, *, closed: intake.WorkOrderClosedV1, now: datetime) -> None:
    """workorder.closed: stop the clocks and free the handler's capacity."""
    order = await session.get(OrderSnapshot, uuid.UUID(closed.work_order_id), with_for_update=True)
    if order is None or order.closed_at is not None:
        return
    order.closed_at, order.status = closed.closed_at, "closed"
    for a in await session.scalars(
        select(Assignment).where(
            Assignment.work_order_id == order.work_order_id, Assignment.status.in_(("offered", "accepted"))
        )
    ):
        a.status, a.responded_at = "completed", now
        await _release(session, a)
