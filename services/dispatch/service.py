"""Dispatch use cases. Keyword-only; never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import demo_network as demo
from libs.common.auth import Principal, ensure_visible, region_filter
from libs.common.events import dispatch as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.events.topics import DISPATCH, topic
from libs.common.logging import correlation_id
from libs.common.outbox import enqueue
from libs.common.problems import Problem
from services.dispatch import domain
from services.dispatch.models import (
    Assignment,
    Decision,
    DutySlot,
    OrderSnapshot,
    ServicePoint,
    Staff,
    outbox,
)

SERVICE = "dispatch"


async def seed_demo_network(session: AsyncSession) -> bool:
    """Load the 长治 demo network once. Returns False if the network is already there."""
    if await session.scalar(select(func.count()).select_from(ServicePoint)):
        return False
    points, people = demo.build()
    await session.execute(
        insert(ServicePoint),
        [
            dict(
                id=p.id,
                code=p.code,
                name=p.name,
                tier=p.tier,
                region_code=p.region_code,
                county_code=p.county_code,
                parent_id=p.parent_id,
                windows=p.windows,
                demo=True,
            )
            for p in points
        ],
    )
    await session.execute(
        insert(Staff),
        [
            dict(
                id=s.id,
                code=s.code,
                name=s.name,
                role=s.role,
                skills=s.skills,
                service_point_id=s.point.id,
                county_code=s.point.county_code,
                capacity=s.capacity,
                active_load=0,
                active=True,
                demo=True,
            )
            for s in people
        ],
    )
    await session.execute(
        insert(DutySlot),
        [dict(staff_id=s.id, weekday=d, start=a, end=b) for s in people for d, a, b in s.slots],
    )
    return True


async def _emit(session: AsyncSession, *, event_type: str, payload, key: str, subject: str) -> None:  # type: ignore[no-untyped-def]
    event = make_event(
        event_type, source=ev.SOURCE, payload=payload, subject=subject, correlation_id=correlation_id.get()
    )
    await enqueue(session, outbox, service=SERVICE, topic=topic(DISPATCH), key=key, event=event)


async def _staff_views(
    session: AsyncSession, *, county_code: str, roles: tuple[str, ...]
) -> list[domain.StaffView]:
    rows = (
        await session.execute(
            select(Staff, ServicePoint)
            .join(ServicePoint, Staff.service_point_id == ServicePoint.id)
            .where(Staff.county_code == county_code, Staff.role.in_(roles), Staff.active.is_(True))
            .order_by(Staff.code)
            .with_for_update(of=Staff)  # capacity is checked and taken under this lock
        )
    ).all()
    slots: dict[uuid.UUID, list[domain.Slot]] = defaultdict(list)
    if rows:
        for slot in await session.scalars(
            select(DutySlot).where(DutySlot.staff_id.in_([s.id for s, _ in rows]))
        ):
            slots[slot.staff_id].append(domain.Slot(slot.weekday, slot.start, slot.end))
    return [
        domain.StaffView(
            id=str(s.id),
            name=s.name,
            role=s.role,
            skills=frozenset(s.skills),
            service_point_id=str(p.id),
            service_point_name=p.name,
            tier=p.tier,
            county_code=s.county_code,
            capacity=s.capacity,
            load=s.active_load,
            slots=slots[s.id],
            last_assigned_at=s.last_assigned_at,
        )
        for s, p in rows
    ]


async def route_new_order(session: AsyncSession, *, event: Envelope, now: datetime) -> Assignment | None:
    data = event.data
    order_id = uuid.UUID(data["work_order_id"])
    inserted = await session.execute(
        pg_insert(OrderSnapshot)
        .values(
            work_order_id=order_id,
            number=data["number"],
            county_code=data["county_code"],
            region_code=data["region_code"],
            service_type=data["service_type"],
            requester_name=data["requester_name"],
            description=data["description"],
            status="new",
            received_at=datetime.fromisoformat(data["created_at"]),
        )
        .on_conflict_do_nothing()
        .returning(OrderSnapshot.work_order_id)
    )
    if inserted.first() is None:
        return None  # already routed (a replay from another path)
    order = domain.OrderView(str(order_id), data["service_type"], data["county_code"])
    views = await _staff_views(
        session, county_code=order.county_code, roles=domain.eligible_roles(order.service_type)
    )
    decision = domain.decide(order, views, now)
    record = Decision(
        id=uuid.uuid4(),
        work_order_id=order_id,
        rule=decision.rule,
        reason=decision.reason,
        chosen_staff_id=uuid.UUID(decision.chosen.id) if decision.chosen else None,
        decided_at=now,
        candidates=[
            dict(
                staff_id=c.staff_id,
                name=c.name,
                on_duty=c.on_duty,
                score=list(c.score),
                next_duty=c.next_duty.isoformat() if c.next_duty else None,
                passed_over=c.passed_over,
            )
            for c in decision.candidates
        ],
    )
    session.add(record)
    if decision.chosen is None:
        await _emit(
            session,
            event_type=ev.ESCALATED,
            key=order.county_code,
            subject=str(order_id),
            payload=ev.EscalatedV1(
                work_order_id=str(order_id),
                county_code=order.county_code,
                reason=decision.reason,
                escalated_at=now,
            ),
        )
        return None
    chosen = decision.chosen
    staff = await session.get(Staff, uuid.UUID(chosen.id))
    assert staff is not None
    staff.active_load += 1
    staff.last_assigned_at = now
    assignment = Assignment(
        id=uuid.uuid4(),
        work_order_id=order_id,
        staff_id=staff.id,
        service_point_id=uuid.UUID(chosen.service_point_id),
        decision_id=record.id,
        status="offered",
        reason=decision.reason,
        offered_at=now,
    )
    session.add(assignment)
    await session.flush()
    await _emit(
        session,
        event_type=ev.OFFERED,
        key=order.county_code,
        subject=str(order_id),
        payload=ev.OfferedV1(
            assignment_id=str(assignment.id),
            work_order_id=str(order_id),
            county_code=order.county_code,
            service_type=order.service_type,
            staff_id=chosen.id,
            staff_name=chosen.name,
            service_point_id=chosen.service_point_id,
            service_point_name=chosen.service_point_name,
            reason=decision.reason,
            offered_at=now,
        ),
    )
    return assignment


async def accept(
    session: AsyncSession, *, assignment_id: uuid.UUID, now: datetime, who: Principal
) -> Assignment:
    assignment = await session.get(Assignment, assignment_id, with_for_update=True)
    # Object level: only the person offered may accept; to anyone else the offer does not exist.
    if assignment is None or str(assignment.staff_id) != who.staff_id:
        raise Problem(404, "未找到该派单", "assignment not found")
    if assignment.status != "offered":
        raise Problem(
            409,
            f"该派单当前状态为 {assignment.status}，不能接单",
            f"assignment is {assignment.status}; only an offered assignment can be accepted",
            allowed=[],
        )
    order = await session.get(OrderSnapshot, assignment.work_order_id, with_for_update=True)
    staff = await session.get(Staff, assignment.staff_id)
    point = await session.get(ServicePoint, assignment.service_point_id)
    assert order and staff and point
    assignment.status, assignment.responded_at = "accepted", now
    order.status = "assigned"
    await _emit(
        session,
        event_type=ev.ASSIGNED,
        key=order.county_code,
        subject=str(order.work_order_id),
        payload=ev.AssignedV1(
            assignment_id=str(assignment.id),
            work_order_id=str(order.work_order_id),
            county_code=order.county_code,
            region_code=order.region_code,
            service_type=order.service_type,
            staff_id=str(staff.id),
            staff_name=staff.name,
            service_point_id=str(point.id),
            service_point_name=point.name,
            requester_name=order.requester_name,
            description=order.description,
            accepted_at=now,
        ),
    )
    return assignment


async def list_assignments(
    session: AsyncSession,
    *,
    who: Principal,
    work_order_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = 100,
) -> list[tuple[Assignment, Staff, ServicePoint]]:
    q = (
        select(Assignment, Staff, ServicePoint)
        .join(Staff, Assignment.staff_id == Staff.id)
        .join(ServicePoint, Assignment.service_point_id == ServicePoint.id)
        .join(OrderSnapshot, OrderSnapshot.work_order_id == Assignment.work_order_id)
        .where(region_filter(OrderSnapshot.region_code, who))
    )
    if work_order_id:
        q = q.where(Assignment.work_order_id == work_order_id)
    if staff_id:
        q = q.where(Assignment.staff_id == staff_id)
    if statuses:
        q = q.where(Assignment.status.in_(statuses))
    rows = await session.execute(q.order_by(Assignment.offered_at.desc()).limit(limit))
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def latest_decision(session: AsyncSession, *, work_order_id: uuid.UUID, who: Principal) -> Decision:
    order = await session.get(OrderSnapshot, work_order_id)
    decision = await session.scalar(
        select(Decision)
        .where(Decision.work_order_id == work_order_id)
        .order_by(Decision.decided_at.desc())
        .limit(1)
    )
    if decision is None or order is None:
        raise Problem(404, "该工单尚无派单决定", "no routing decision for this work order yet")
    ensure_visible(who, order.region_code)
    return decision
