"""Reply extensions (hotline rule, policy.yaml clocks: tell the caller the result within 5 working
days, at most 15 with approval): the order's handler asks with a reason; a supervisor of the
order's jurisdiction approves or refuses with a reason; once approved the reply clock is the
15-working-day limit, counted from the order's receipt, and the supervision sweep watches it
(at-risk warning, overdue ladder) as "max". Every step is an event (hence in the audit trail).
Keyword-only; never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, ensure_visible, region_filter
from libs.common.events import dispatch as ev
from libs.common.problems import Problem
from services.dispatch import clocks
from services.dispatch.models import OrderSnapshot, ReplyExtension
from services.dispatch.network import load_calendar
from services.dispatch.policy import Policy
from services.dispatch.schemas import ReplyExtensionOut
from services.dispatch.service import OPEN, publish


def who_id(who: Principal) -> str:
    return who.staff_id or who.sub


def out(x: ReplyExtension, order: OrderSnapshot | None = None) -> ReplyExtensionOut:
    o = ReplyExtensionOut.model_validate(x)
    o.order_number = order.number if order else None
    o.allowed_actions = ["approve", "refuse"] if x.status == "requested" else []
    return o


async def _order(session: AsyncSession, work_order_id: uuid.UUID, who: Principal) -> OrderSnapshot:
    order = await session.get(OrderSnapshot, work_order_id, with_for_update=True)
    if order is None:
        raise Problem(404, "未找到该工单", "work order not found")
    # Its handler in any county (access follows the work: a transfer across counties), else
    # the jurisdiction.
    if not (who.staff_id and order.handler_staff_id and who.staff_id == str(order.handler_staff_id)):
        ensure_visible(who, order.region_code)
    return order


async def request(
    session: AsyncSession,
    *,
    work_order_id: uuid.UUID,
    reason: str,
    who: Principal,
    now: datetime,
    policy: Policy,
) -> ReplyExtension:
    order = await _order(session, work_order_id, who)
    _may_request(order, who, now=now, policy=policy)
    await _none_pending(session, order)
    proposed = _extended_due(order, policy, await load_calendar(session))
    x = ReplyExtension(
        id=uuid.uuid4(),
        work_order_id=order.work_order_id,
        county_code=order.county_code,
        region_code=order.region_code,
        status="requested",
        reason=reason,
        requested_by=who_id(who),
        requested_by_name=who.name or None,
        requested_at=now,
        reply_due_before=order.reply_due or now,
        reply_due_after=proposed,
    )
    session.add(x)
    await session.flush()
    await publish(
        session,
        order=order,  # keyed by its county, numbered with its next dispatch revision
        payload=ev.ReplyExtensionRequestedV2(
            extension_id=str(x.id),
            work_order_id=str(order.work_order_id),
            county_code=order.county_code,
            reason=reason,
            handler_staff_id=who.staff_id,
            handler_username=who.sub,
            reply_due=x.reply_due_before,
            proposed_due=proposed,
            requested_at=now,
        ),
    )
    return x


def _may_request(order: OrderSnapshot, who: Principal, *, now: datetime, policy: Policy) -> None:
    """Pure: the order's handler (or a supervisor) may ask, once, within the reply clock."""
    handler = order.handler_staff_id is not None and who.staff_id == str(order.handler_staff_id)
    if not handler and not who.has_role("supervisor", "admin"):
        raise Problem(
            403, "只有本工单的承办人可以申请延期", "only the order's handler may ask for an extension"
        )
    assigned = order.status not in OPEN and order.closed_at is None
    problem = clocks.extension_problem(
        policy.clock(order.service_type), assigned=assigned, now=now, due=order.reply_due
    )
    if problem is None and order.reply_extended_at is not None:
        problem = ("答复期限已经延长至上限，不能再延长", "the reply period is already at its maximum")
    if problem:
        raise Problem(409, *problem, allowed_actions=[])


async def _none_pending(session: AsyncSession, order: OrderSnapshot) -> None:
    live = await session.scalar(
        select(ReplyExtension).where(
            ReplyExtension.work_order_id == order.work_order_id,
            ReplyExtension.status.in_(("requested", "approved")),
        )
    )
    if live is not None:
        raise Problem(
            409, "该工单已有待审批的延期申请", "an extension request is already pending", allowed_actions=[]
        )


def _extended_due(order: OrderSnapshot, policy: Policy, calendar) -> datetime:  # type: ignore[no-untyped-def]
    """The maximum, counted like every clock of the order from its receipt (working days)."""
    c = clocks.order_clocks(
        received_at=order.received_at,
        service_type=order.service_type,
        urgency=order.urgency,
        policy=policy,
        calendar=calendar,
    )
    return c.max_due


async def decide(
    session: AsyncSession,
    *,
    extension_id: uuid.UUID,
    approve: bool,
    reason: str,
    who: Principal,
    now: datetime,
    policy: Policy,
) -> tuple[ReplyExtension, OrderSnapshot]:
    x = await session.get(ReplyExtension, extension_id, with_for_update=True)
    if x is None:
        raise Problem(404, "未找到该延期申请", "extension request not found")
    order = await _order(session, x.work_order_id, who)  # a supervisor of the order's jurisdiction
    if x.status != "requested":
        raise Problem(409, "该延期申请已审批", "this request was already decided", allowed_actions=[])
    if x.requested_by == who_id(who):
        raise Problem(403, "不能审批本人提出的延期申请", "you cannot decide your own request")
    x.decided_by, x.decided_by_name, x.decided_at = who_id(who), who.name or None, now
    x.decision_reason, x.status = reason, "approved" if approve else "refused"
    if approve:
        due = _extended_due(order, policy, await load_calendar(session))
        x.reply_due_after = due
        order.reply_due, order.reply_extended_at = due, now
        # A new clock: its own at-risk warning and escalation ladder (as when an order is accepted).
        order.supervision_level, order.at_risk_raised = 0, False
    await publish(
        session,
        order=order,  # keyed by its county, numbered with its next dispatch revision
        payload=ev.ReplyExtensionDecidedV2(
            extension_id=str(x.id),
            work_order_id=str(order.work_order_id),
            county_code=order.county_code,
            approved=approve,
            reason=reason,
            supervisor_staff_id=who.staff_id,
            supervisor_username=who.sub,
            reply_due=order.reply_due or x.reply_due_before,
            decided_at=now,
        ),
    )
    return x, order


async def listing(
    session: AsyncSession, *, who: Principal, status: str | None, county_code: str | None, limit: int
) -> list[ReplyExtensionOut]:
    """Pending requests first, the longest waiting on top; then the decided ones."""
    q = (
        select(ReplyExtension, OrderSnapshot)
        .join(OrderSnapshot, OrderSnapshot.work_order_id == ReplyExtension.work_order_id)
        .where(region_filter(ReplyExtension.region_code, who))
    )
    if status:
        q = q.where(ReplyExtension.status == status)
    if county_code:
        q = q.where(ReplyExtension.county_code == county_code)
    pending_first = (ReplyExtension.status != "requested").asc()
    q = q.order_by(pending_first, ReplyExtension.requested_at).limit(limit)
    return [out(x, o) for x, o in (await session.execute(q)).all()]
