"""Dispatch use cases: routing an order and the offer lifecycle.
Keyword-only; never commits — the caller owns the transaction.

Capacity is taken with one conditional UPDATE (`load + weight <= capacity`) on the chosen
person's row, so parallel orders — on any instance — can never overfill anyone; the
partial unique index on open offers makes "offered twice" impossible at the database.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.events import dispatch as ev
from libs.common.events import intake
from libs.common.events.envelope import Envelope
from libs.common.events.payload import EventPayload
from libs.common.orm import get_present
from libs.common.problems import Problem
from libs.common.publisher import Publisher
from services.dispatch import clocks, domain
from services.dispatch.models import Assignment, OrderSnapshot, ServicePoint, Staff, outbox
from services.dispatch.network_cache import RoutingNetwork, routing_network
from services.dispatch.parties import _index, party_rows, requester_history
from services.dispatch.policy import Policy, default_policy
from services.dispatch.store import (
    insert_decision,
    insert_new_order,
    insert_offer,
    take_capacity,
    update_order,
)

SERVICE = "dispatch"
OFFER_CHANNEL = "dispatch_offers"  # LISTEN/NOTIFY channel the SSE inboxes of every instance hear
NOTIFY_MAX_BYTES = 7900  # PostgreSQL's limit is 8000 bytes per payload
REJECT_REASONS = ("conflict", "overload", "out_of_scope")
OPEN = ("new", "offered", "escalated")


TAKE_ATTEMPTS = 5  # races for a person's capacity lost before the order is escalated


# Offers and assignments that ended because the ORDER changed (intake reclassified, merged or
# moved it: services/dispatch/lifecycle.py), not because the person refused: they stay candidates.
LIFECYCLE_CODES = ("reclassified", "region_corrected", "merged", "county_transfer")


def next_sequence(order: OrderSnapshot) -> int:
    """The order's next dispatch revision (the caller holds its row lock, or inserted it)."""
    order.event_seq = (order.event_seq or 0) + 1
    return order.event_seq


PUBLISHER = Publisher(outbox, SERVICE)


async def publish(
    session: AsyncSession,
    payload: EventPayload,
    *,
    order: OrderSnapshot | None = None,
    sequence: int | None = None,
    key: str | None = None,
    subject: str | None = None,
) -> None:
    """An order's event is keyed by its county and carries its next dispatch revision (CloudEvents
    `sequence`; `sequence` when the caller took it already); others name key and subject."""
    if order is not None:
        key, subject = order.county_code, str(order.work_order_id)
        sequence = sequence if sequence is not None else next_sequence(order)
    await PUBLISHER.publish(session, payload, subject=subject, key=key, sequence=sequence)


async def route_new_order(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderCreatedV1,
    now: datetime,
    policy: Policy | None = None,
) -> Assignment | None:
    policy = policy or default_policy()
    order, network = await insert_order(session, event=event, data=data, now=now, policy=policy)
    if order is None:
        return None  # already routed (a replay from another path)
    # A new order has no earlier offers to exclude.
    return await offer_next(session, order=order, now=now, policy=policy, network=network, tried=frozenset())


async def insert_order(
    session: AsyncSession, *, event: Envelope, data: intake.WorkOrderCreatedV1, now: datetime, policy: Policy
) -> tuple[OrderSnapshot | None, RoutingNetwork]:
    """Dispatch's copy of an announced order (created or routing_requested) and the county's
    network; no order when dispatch has it already. `data`: created, routing_requested or
    transferred (each carries the whole order); `event` gives its revision (sequence)."""
    order_id = uuid.UUID(data.work_order_id)
    received = data.created_at
    # First, so the clocks use the current calendar: loads, version and (cached) network.
    network = await routing_network(session, county_code=data.county_code, now=now)
    clk = clocks.order_clocks(
        received_at=received,
        service_type=data.service_type,
        urgency=data.urgency or "normal",
        policy=policy,
        calendar=network.calendar,
    )
    requester = {"side": "requester", "name_index": _index(data.requester_name), "id_index": None}
    order = await insert_new_order(
        session,
        values=_new_order_values(data, clk, order_id=order_id, intake_seq=event.sequence or 0),
        parties=party_rows([requester] + [p.model_dump() for p in data.parties]),
    )
    return order, network


def _new_order_values(
    data: intake.WorkOrderCreatedV1, clk: clocks.Clocks, *, order_id: uuid.UUID, intake_seq: int
) -> dict:
    """Pure: the new snapshot row — as announced, not yet routed, its clocks running."""
    groups = list(data.special_groups)
    follow_up = data.follow_up_of
    urgency = data.urgency or "normal"
    return dict(
        work_order_id=order_id,
        number=data.number,
        county_code=data.county_code,
        region_code=data.region_code,
        service_type=data.service_type,
        requester_name=data.requester_name,
        description=data.description,
        status="new",
        received_at=data.created_at,
        channel=data.channel or "web",
        domain=data.domain,
        special_groups=groups,
        urgency=urgency,
        follow_up_of=uuid.UUID(follow_up) if follow_up else None,
        complexity=0,
        complexity_reasons=[],
        weight=1,
        priority=domain.priority_key(groups, urgency, None)[0],
        offers_made=0,
        handler_staff_id=None,
        service_point_id=None,
        assigned_at=None,
        closed_at=None,
        transfer_due=clk.transfer_due,
        reply_due=clk.reply_due,
        max_due=clk.max_due,
        clock_warnings=clk.warnings,
        supervision_level=0,
        at_risk_raised=False,
        escalated_at=None,
        intake_seq=intake_seq,
        event_seq=0,
        reply_extended_at=None,
    )


async def offer_next(
    session: AsyncSession,
    *,
    order: OrderSnapshot,
    now: datetime,
    policy: Policy | None = None,
    network: RoutingNetwork | None = None,
    tried: frozenset[str] | None = None,
) -> Assignment | None:
    """Decide and offer to the next candidate, or escalate to the supervisor queue.
    `network` and `tried` are for a caller that has them already (a new order)."""
    policy = policy or default_policy()
    if order.offers_made >= policy.max_offers:
        reason = f"已派 {order.offers_made} 次无人接单 | max re-offers reached"
        await escalate(session, order=order, now=now, reason=reason)
        return None
    view, staff, network = await _routing_inputs(session, order=order, now=now, network=network, tried=tried)
    # No autoflush: changes the caller made elsewhere (an ended offer, …) wait for the commit,
    # not one flush before each statement. The order's routing state goes through the store.
    with session.no_autoflush:
        taken = await _decide_and_take(
            session, order=order, view=view, staff=staff, now=now, policy=policy, calendar=network.calendar
        )
    if taken is None:
        return None  # escalated
    return await _offer_taken(session, order=order, taken=taken, now=now)


async def _routing_inputs(
    session: AsyncSession,
    *,
    order: OrderSnapshot,
    now: datetime,
    network: RoutingNetwork | None,
    tried: frozenset[str] | None,
) -> tuple[domain.OrderView, list[domain.StaffView], RoutingNetwork]:
    """What routing looks at: the order as dispatch knows it (everyone offered it before
    excluded) and the people of its county's network (and a follow-up's previous handler)."""
    if tried is None:
        tried = await tried_staff(session, order_id=order.work_order_id)
    view = await order_view(session, order=order, tried=tried)
    previous = view.previous_handler_id
    network = network or await routing_network(session, county_code=order.county_code, now=now)
    staff = await network.staff(session, now=now, also=[previous] if previous else [])
    return view, staff, network


@dataclass(frozen=True)
class _Taken:
    """A recorded decision whose chosen person's capacity is now held for the order."""

    decision: domain.Decision
    chosen: domain.StaffView
    decision_id: uuid.UUID
    staff_code: str
    routed: dict[str, Any]  # the order's routing state from the decision (make_offer, escalate)


async def _decide_and_take(
    session: AsyncSession,
    *,
    order: OrderSnapshot,
    view: domain.OrderView,
    staff: list[domain.StaffView],
    now: datetime,
    policy: Policy,
    calendar: domain.Workdays,
) -> _Taken | None:
    """Decide, record the decision and take the chosen person's capacity. A race lost to a
    parallel routing decides again without that person (up to TAKE_ATTEMPTS); None: the
    order went to the supervisor queue (nobody eligible, or every race lost)."""
    wait = False  # set once only people another routing holds are left: wait for them
    for attempt in range(TAKE_ATTEMPTS + 1):
        decision = domain.decide(view, staff, now, policy=policy, calendar=calendar)
        if decision.chosen is None and view.busy_staff and not wait:
            # Nobody free, but someone busy only for the moment: never escalate for that.
            view.busy_staff, wait = frozenset(), True
            continue
        record = _record(order, decision, now)
        await insert_decision(session, record)
        routed = _routed(decision)
        if decision.chosen is None:
            await escalate(session, order=order, now=now, reason=decision.reason, routed=routed)
            return None
        # Waiting, or at the last attempt: wait for a busy person's row (their capacity
        # may still be there once the other routing commits).
        took = await take_capacity(
            session,
            staff_id=uuid.UUID(decision.chosen.id),
            weight=decision.weight,
            now=now,
            wait=wait or attempt >= TAKE_ATTEMPTS - 1,
        )
        if took is not None:
            return _Taken(decision, decision.chosen, record["id"], took["code"], routed)
        view.busy_staff = view.busy_staff | {decision.chosen.id}
    reason = "候选人负荷竞争失败 | capacity races lost"
    await escalate(session, order=order, now=now, reason=reason, routed=routed)
    return None


def _routed(d: domain.Decision) -> dict[str, Any]:
    """What the order keeps of its decision: complexity (with reasons) and the load weight."""
    return dict(
        complexity=d.complexity.score if d.complexity else 0,
        complexity_reasons=d.complexity.reasons if d.complexity else [],
        weight=d.weight,
    )


async def _offer_taken(
    session: AsyncSession, *, order: OrderSnapshot, taken: _Taken, now: datetime
) -> Assignment:
    d, chosen = taken.decision, taken.chosen
    # Offered to someone who comes on duty later (at night): the answer clock starts then.
    starts = max(now, d.available_at or now)
    return await make_offer(
        session,
        order=order,
        staff_id=uuid.UUID(chosen.id),
        point_id=uuid.UUID(chosen.service_point_id),
        reason=d.reason,
        now=now,
        timeout=timedelta(minutes=d.offer_timeout_minutes) + (starts - now),
        decision_id=taken.decision_id,
        kind="follow_up" if d.rule.startswith("follow-up") else "offer",
        names=(chosen.name, chosen.service_point_name),
        staff_code=taken.staff_code,
        routed=taken.routed,
    )


async def tried_staff(session: AsyncSession, *, order_id: uuid.UUID) -> frozenset[str]:
    """Everyone offered this order before, except those it was withdrawn from because the order
    changed (LIFECYCLE_CODES): they did not refuse it."""
    rows = await session.scalars(
        select(Assignment.staff_id).where(
            Assignment.work_order_id == order_id,
            Assignment.reason_code.is_(None) | Assignment.reason_code.not_in(LIFECYCLE_CODES),
        )
    )
    return frozenset(str(s) for s in rows)


async def order_view(
    session: AsyncSession, *, order: OrderSnapshot, tried: frozenset[str] = frozenset()
) -> domain.OrderView:
    """What routing sees of the order as dispatch knows it now."""
    previous = None
    if order.follow_up_of and not tried:
        prev = await session.get(OrderSnapshot, order.follow_up_of)
        previous = str(prev.handler_staff_id) if prev and prev.handler_staff_id else None
    prior_orders, conflicts = await requester_history(
        session, order_id=order.work_order_id, requester_index=_index(order.requester_name)
    )
    return domain.OrderView(
        id=str(order.work_order_id),
        service_type=order.service_type,
        county_code=order.county_code,
        region_code=order.region_code,
        domain=order.domain,
        special_groups=tuple(order.special_groups or ()),
        urgency=order.urgency,
        channel=order.channel,
        description=order.description,
        prior_orders=prior_orders,
        previous_handler_id=previous,
        exclude_staff=tried,
        conflicted_staff=conflicts.blocked,
        conflict_reasons=conflicts.reasons,
        namesake_staff=conflicts.warned,
    )


def _record(order: OrderSnapshot, d: domain.Decision, now: datetime) -> dict:
    """The decisions row (every column but seq) explaining one routing decision."""
    return dict(
        id=uuid.uuid4(),
        work_order_id=order.work_order_id,
        rule=d.rule,
        reason=d.reason,
        chosen_staff_id=uuid.UUID(d.chosen.id) if d.chosen else None,
        decided_at=now,
        policy_version=d.policy_version,
        complexity=d.complexity.score if d.complexity else 0,
        complexity_reasons=d.complexity.reasons if d.complexity else [],
        band=d.band,
        step=d.step,
        candidates=[
            dict(
                staff_id=c.staff_id,
                name=c.name,
                service_point=c.service_point,
                on_duty=c.on_duty,
                score=list(c.score),
                next_duty=c.next_duty.isoformat() if c.next_duty else None,
                passed_over=c.passed_over,
                target=c.target,
                step=c.step,
                warning=c.warning,
            )
            for c in d.candidates
            # Keep the explanation readable: the chosen one and everyone a target looked at.
            if c.passed_over is None or c.step is not None
        ],
    )


async def make_offer(
    session: AsyncSession,
    *,
    order: OrderSnapshot,
    staff_id: uuid.UUID,
    point_id: uuid.UUID,
    reason: str,
    now: datetime,
    timeout: timedelta,
    decision_id: uuid.UUID | None = None,
    kind: str = "offer",
    names: tuple[str, str] | None = None,
    staff_code: str | None = None,
    routed: dict | None = None,
) -> Assignment:
    """Create the offer (capacity already taken), emit dispatch.offered and NOTIFY the inboxes.
    `names`: (person, service point) and `staff_code` when the caller has them — routing
    does — else read. `routed`: the order's new complexity and weight, written with its
    new status (store.update_order)."""
    if names is None or staff_code is None:
        names, staff_code = await _offer_names(session, staff_id, point_id, names)
    staff_name, point_name = names
    routed = routed or {}
    weight = routed.get("weight", order.weight) or 1
    assignment = Assignment(
        id=uuid.uuid4(),
        work_order_id=order.work_order_id,
        staff_id=staff_id,
        service_point_id=point_id,
        decision_id=decision_id,
        status="offered",
        reason=reason,
        offered_at=now,
        expires_at=now + timeout,
        weight=weight,
        kind=kind,
    )
    # The NOTIFY with the offer, delivered at commit to every instance's listener: the SSE inbox
    # of this person (the note reads none of what update_order changes).
    note = offer_note(assignment, order, staff_name=staff_name, point_name=point_name, staff_code=staff_code)
    await insert_offer(session, assignment, channel=OFFER_CHANNEL, note=note)
    sequence = (order.event_seq or 0) + 1  # one UPDATE carries the revision with the rest
    await update_order(
        session, order, status="offered", offers_made=order.offers_made + 1, event_seq=sequence, **routed
    )
    payload = _offered(assignment, order, staff_name=staff_name, point_name=point_name)
    await publish(session, order=order, sequence=sequence, payload=payload)
    return assignment


async def _offer_names(
    session: AsyncSession, staff_id: uuid.UUID, point_id: uuid.UUID, names: tuple[str, str] | None
) -> tuple[tuple[str, str], str]:
    """(person, service point) names — the caller's if given — and the person's staff code."""
    staff = await get_present(session, Staff, staff_id)
    point = await get_present(session, ServicePoint, point_id)
    return names or (staff.name, point.name), staff.code


def _offered(
    assignment: Assignment, order: OrderSnapshot, *, staff_name: str, point_name: str
) -> ev.OfferedV1:
    return ev.OfferedV1(
        assignment_id=str(assignment.id),
        work_order_id=str(order.work_order_id),
        county_code=order.county_code,
        service_type=order.service_type,
        staff_id=str(assignment.staff_id),
        staff_name=staff_name,
        service_point_id=str(assignment.service_point_id),
        service_point_name=point_name,
        reason=assignment.reason,
        offered_at=assignment.offered_at,
        expires_at=assignment.expires_at,
    )


def offer_note(
    a: Assignment, order: OrderSnapshot, *, staff_name: str, point_name: str, staff_code: str | None = None
) -> str:
    """The NOTIFY payload: who, and the offer as the inbox shows it — so the SSE stream of
    every instance pushes it without reading it back (it used to cost 4 queries per offer).
    NOTIFY takes at most 8000 bytes: a longer one goes without the offer, which is then read."""
    offer = dict(
        id=str(a.id), work_order_id=str(a.work_order_id), staff_id=str(a.staff_id), staff_name=staff_name,
        staff_code=staff_code,
        service_point_id=str(a.service_point_id), service_point_name=point_name, status=a.status,
        reason=a.reason, offered_at=_utc(a.offered_at), responded_at=None,
        expires_at=_utc(a.expires_at) if a.expires_at else None, kind=a.kind, reason_code=None,
        order_number=order.number, service_type=order.service_type, priority=order.priority == 0,
    )  # fmt: skip
    note = {"staff_id": str(a.staff_id), "assignment_id": str(a.id)}
    full = json.dumps({**note, "offer": offer}, ensure_ascii=False)
    return full if len(full.encode()) < NOTIFY_MAX_BYTES else json.dumps(note)


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()  # as read back from the database


async def escalate(
    session: AsyncSession, *, order: OrderSnapshot, now: datetime, reason: str, routed: dict | None = None
) -> None:
    """To the supervisor queue (ordered by 四优先 then deadline). `routed`: as for make_offer."""
    sequence = (order.event_seq or 0) + 1
    await update_order(
        session, order, status="escalated", escalated_at=now, event_seq=sequence, **(routed or {})
    )
    await publish(
        session,
        order=order,
        sequence=sequence,
        payload=ev.EscalatedV1(
            work_order_id=str(order.work_order_id),
            county_code=order.county_code,
            reason=reason,
            escalated_at=now,
            to="supervisor_queue",
            offers_made=order.offers_made,
        ),
    )


async def _release(session: AsyncSession, a: Assignment) -> None:
    await session.execute(
        update(Staff)
        .where(Staff.id == a.staff_id)
        .values(active_load=func.greatest(Staff.active_load - a.weight, 0))
    )


async def _mine(session: AsyncSession, assignment_id: uuid.UUID, who: Principal, status: str) -> Assignment:
    a = await session.get(Assignment, assignment_id)
    # Object level: only the person offered may act; to anyone else the offer does not exist.
    if a is None or str(a.staff_id) != who.staff_id:
        raise Problem(404, "未找到该派单", "assignment not found")
    # Locks in one order everywhere — the order, then its offer (transfer, the lifecycle handlers
    # and closure do the same): a response and a change of the order at once never deadlock.
    await session.get(OrderSnapshot, a.work_order_id, with_for_update=True)
    await session.refresh(a, with_for_update=True)
    if a.status != status:
        raise Problem(
            409,
            f"该派单当前状态为 {a.status}，不能执行此操作",
            f"assignment is {a.status}; this needs an {status} assignment",
            allowed=[],
        )
    return a


async def accept(
    session: AsyncSession, *, assignment_id: uuid.UUID, now: datetime, who: Principal
) -> Assignment:
    assignment = await _mine(session, assignment_id, who, "offered")
    order = await get_present(session, OrderSnapshot, assignment.work_order_id, with_for_update=True)
    staff = await get_present(session, Staff, assignment.staff_id)
    point = await get_present(session, ServicePoint, assignment.service_point_id)
    assignment.status, assignment.responded_at, assignment.accepted_at = "accepted", now, now
    order.status, order.handler_staff_id, order.service_point_id = "assigned", staff.id, point.id
    order.assigned_at = now
    # The transfer clock stops here; the reply clock starts its own warning and ladder.
    order.supervision_level, order.at_risk_raised = 0, False
    await publish(
        session,
        order=order,
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
