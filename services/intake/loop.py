"""The closed loop after intake: 回拨 (callback) → 办结 (close) → 评价 (rating) → 回访 (return
visit), plus staff corrections: classification override, merge and unmerge (并单/拆单)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.events import intake as ev
from libs.common.pii import mask_text
from libs.common.problems import Problem
from services.intake import domain, merging, visibility
from services.intake.access import ACT_ON_ORDER, CLOSE_ORDER, TASKS
from services.intake.calendar_store import load_calendar
from services.intake.deadlines import callback_due, workdays_end
from services.intake.models import ClassificationOverride, OrderHandler, OrderLink, Task, WorkOrder
from services.intake.reconcile import announce
from services.intake.schemas import ClassificationIn
from services.intake.service import add_timeline, classified_payload, created_payload, emit, load_order
from services.intake.settings import get_intake_settings


async def tasks_of(session: AsyncSession, order_id: uuid.UUID) -> list[Task]:
    rows = await session.scalars(select(Task).where(Task.work_order_id == order_id).order_by(Task.created_at))
    return list(rows.all())


async def _callback_outcomes(session: AsyncSession, order_id: uuid.UUID) -> list[str]:
    outcomes: list[str] = []
    for t in await tasks_of(session, order_id):
        if t.kind == "callback":
            outcomes += [a["outcome"] for a in t.attempts]
    return outcomes


async def _open_children(session: AsyncSession, order_id: uuid.UUID) -> list[str]:
    """Numbers of the open orders split off this one (one call, several matters)."""
    rows = await session.scalars(
        select(WorkOrder.number).where(
            WorkOrder.parent_id == order_id, WorkOrder.status.notin_(domain.TERMINAL)
        )
    )
    return list(rows.all())


async def _ended(session: AsyncSession, order: WorkOrder, *, reason: str, code: str, now: datetime) -> None:
    """A closed or cancelled order: an offer still open can no longer be taken (the handler keeps
    the order in view), and dispatch hears it by the closed event and withdraws its offer."""
    await session.execute(
        update(OrderHandler)
        .where(OrderHandler.work_order_id == order.id, OrderHandler.state == domain.HANDLER_OFFERED)
        .values(state=domain.HANDLER_ENDED, until=now, reason_code=code)
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_CLOSED,
        payload=ev.WorkOrderClosedV1(
            work_order_id=str(order.id),
            number=order.number,
            county_code=order.county_code,
            reason=mask_text(reason),
            closed_at=now,
        ),
    )


async def close_order(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, result_summary: str, now: datetime
) -> WorkOrder:
    order = await load_order(session, order_id=order_id, who=who, lock=True, access=CLOSE_ORDER)
    children = await _open_children(session, order.id)
    blockers = domain.closure_blockers(
        status=order.status,
        callback_required=order.callback_required,
        callback_outcomes=await _callback_outcomes(session, order.id),
        open_children=children,
    )
    if blockers:
        raise Problem(
            409,
            "工单暂不能办结：" + "；".join(b.zh for b in blockers),
            "the order cannot be closed yet: " + "; ".join(b.en for b in blockers),
            missing=[b.as_dict() for b in blockers],
        )
    order.status, order.closed_at, order.close_reason, order.updated_at = (
        domain.CLOSED,
        now,
        result_summary,
        now,
    )
    add_timeline(
        session,
        order,
        at=now,
        kind="closed",
        text_="已办结，欢迎对本次服务进行评价",
        text_en="Closed. You are welcome to rate our service",
    )
    await _ended(session, order, reason=result_summary, code="closed", now=now)
    return order


async def cancel_order(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, reason: str, now: datetime
) -> WorkOrder:
    """撤销 an order filed by mistake, before anyone took it on; dispatch withdraws its offer (the
    closed event). The reason is the staff's, kept on the order and in the event (masked)."""
    order = await load_order(session, order_id=order_id, who=who, lock=True, access=ACT_ON_ORDER)
    children = await _open_children(session, order.id)
    if children:  # one call split into several orders: the others stand on their own first
        raise Problem(
            409,
            "有未办结的子工单（" + "、".join(children) + "），不能撤销主工单",
            "open child orders (" + ", ".join(children) + "): the parent cannot be cancelled",
        )
    if order.status not in domain.CANCELLABLE:
        raise Problem(
            409,
            "已办结、已并单或已有人承办的工单不能撤销（已承办的请办结或转办）",
            "only an order nobody has taken on yet can be cancelled (close or transfer one in hand)",
            allowed=[],
        )
    order.status, order.closed_at, order.updated_at = domain.CANCELLED, now, now
    order.close_reason, order.callback_required = f"撤销：{reason}", False
    add_timeline(
        session,
        order,
        at=now,
        kind="cancelled",
        text_="工单已撤销（登记有误）",
        text_en="Cancelled (filed in error)",
    )
    await _ended(session, order, reason=order.close_reason, code="cancelled", now=now)
    return order


async def record_attempt(
    session: AsyncSession, *, task_id: uuid.UUID, who: Principal, outcome: str, note: str, now: datetime
) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise Problem(404, "未找到该任务", "task not found")
    await visibility.ensure_task(session, task=task, who=who, access=TASKS)
    # The order first, then its task — as a county transfer locks them (no deadlock between the two).
    order = await load_order(session, order_id=task.work_order_id, lock=True)
    await session.refresh(task, with_for_update=True)
    if task.status == "done":
        raise Problem(409, "该任务已完成", "this task is already completed")
    attempts = [*task.attempts, {"at": now.isoformat(), "outcome": outcome, "note": note, "by": who.sub}]
    task.attempts = attempts
    done = (
        domain.callback_done([a["outcome"] for a in attempts])
        if task.kind == "callback"
        else outcome == "reached"
    )
    if task.kind == "return_visit" and len(attempts) >= domain.MAX_FAILED_CALLBACKS:
        done = True
    if done:
        task.status, task.completed_at, task.outcome = "done", now, outcome
    label = "回拨" if task.kind == "callback" else "回访"
    public_text = f"工作人员已{label}" if outcome == "reached" else f"工作人员{label}未接通，将再次联系"
    call_en = "call you back" if task.kind == "callback" else "make a follow-up call"
    text_en = (
        f"A staff member {'called you back' if task.kind == 'callback' else 'made a follow-up call'}"
        if outcome == "reached"
        else f"A staff member tried to {call_en} but could not reach you, and will try again"
    )
    add_timeline(
        session,
        order,
        at=now,
        kind=f"{task.kind}_attempt",
        text_=public_text,
        text_en=text_en,
        outcome=outcome,
    )
    order.updated_at = now
    event_type = (
        ev.WORKORDER_CALLBACK_RECORDED if task.kind == "callback" else ev.WORKORDER_RETURN_VISIT_RECORDED
    )
    await emit(
        session,
        order=order,
        event_type=event_type,
        payload=ev.CallbackRecordedV1(
            work_order_id=str(order.id),
            county_code=order.county_code,
            task_id=str(task.id),
            kind=task.kind,
            outcome=outcome,
            attempt=len(attempts),
            completed=done,
            recorded_at=now,
        ),
    )
    return task


async def rate_order(
    session: AsyncSession, *, order: WorkOrder, score: int, comment: str | None, via: str, now: datetime
) -> WorkOrder:
    if order.status != domain.CLOSED:
        raise Problem(
            409,
            "工单办结后才能评价",
            "an order can be rated only after it is closed",
            status_now=order.status,
        )
    if order.rating_score is not None:
        raise Problem(409, "该工单已评价过", "this order has already been rated")
    order.rating_score, order.rating_comment, order.rated_at, order.rated_via = score, comment, now, via
    order.updated_at = now
    add_timeline(
        session,
        order,
        at=now,
        kind="evaluated",
        text_=f"已收到您的评价（{score} 分），谢谢",
        text_en=f"Thank you: we have received your rating ({score} points)",
    )
    if domain.needs_return_visit(score):
        s = get_intake_settings()
        due, _ = workdays_end(now, s.return_visit_workdays, await load_calendar(session))
        session.add(
            Task(
                id=uuid.uuid4(),
                work_order_id=order.id,
                kind="return_visit",
                status="open",
                region_code=order.region_code,
                due_at=due,
                attempts=[],
                created_at=now,
            )
        )
        add_timeline(
            session,
            order,
            at=now,
            kind="return_visit_opened",
            text_="我们将对您进行回访，了解不满意的原因",
            text_en="We will call you back to understand why you were not satisfied",
        )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_EVALUATED,
        payload=ev.WorkOrderEvaluatedV1(
            work_order_id=str(order.id),
            number=order.number,
            county_code=order.county_code,
            score=score,
            satisfied=not domain.needs_return_visit(score),
            via=via,
            evaluated_at=now,
        ),
    )
    return order


async def override_classification(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, data: ClassificationIn, now: datetime
) -> WorkOrder:
    order = await load_order(session, order_id=order_id, who=who, lock=True, access=ACT_ON_ORDER)
    before = {
        "service_type": order.service_type,
        "domain": order.domain,
        "special_groups": list(order.special_groups or []),
        "urgency": order.urgency,
    }
    if data.service_type:
        order.service_type = data.service_type
    if data.domain:
        order.domain = data.domain
    if data.special_groups is not None:
        order.special_groups = data.special_groups
    if data.urgency:
        order.urgency = data.urgency
    after = {
        "service_type": order.service_type,
        "domain": order.domain,
        "special_groups": list(order.special_groups or []),
        "urgency": order.urgency,
    }
    session.add(
        ClassificationOverride(
            work_order_id=order.id,
            before=before | {"auto": order.classification},
            after=after | {"reason": data.reason},
            text=mask_text(order.description),
            by=who.sub,
            at=now,
        )
    )
    order.classification = {**(order.classification or {}), "by": "operator", "override_reason": data.reason}
    order.updated_at = now
    add_timeline(
        session,
        order,
        at=now,
        kind="reclassified",
        text_="工作人员已核定服务类型",
        text_en="A staff member confirmed the service type",
        public=False,
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_CLASSIFIED,
        payload=classified_payload(order, by="operator", at=now, operator=who.sub),
    )
    return order


async def merge(
    session: AsyncSession, *, order_id: uuid.UUID, into: uuid.UUID, who: Principal, reason: str, now: datetime
) -> WorkOrder:
    # Both rows locked in id order: two merges of the same pair in opposite directions never deadlock.
    for oid in sorted({order_id, into}):
        await session.get(WorkOrder, oid, with_for_update=True)
    order = await load_order(session, order_id=order_id, who=who, access=ACT_ON_ORDER)
    if order_id == into:  # after the object check: an order the caller cannot see is not found
        raise Problem(422, "不能把工单并入它自己", "an order cannot be merged into itself")
    target = await load_order(session, order_id=into, who=who, access=ACT_ON_ORDER)
    if order.status in domain.TERMINAL or target.status in domain.TERMINAL:
        raise Problem(409, "已办结或已并单的工单不能再并单", "closed or merged orders cannot be merged")
    order.status, order.merged_into, order.updated_at = domain.MERGED, target.id, now
    session.add(
        OrderLink(
            work_order_id=target.id, linked_order_id=order.id, kind="merge", by=who.sub, reason=reason, at=now
        )
    )
    merging.note_merged(session, order=order, target=target, now=now)
    add_timeline(
        session,
        target,
        at=now,
        kind="merged_in",
        text_=f"已并入工单 {order.number}",
        text_en=f"Order {order.number} was merged into this one",
        public=False,
    )
    await merging.emit_merged(session, order=order, target=target, by=who.sub, reason=reason, now=now)
    await merging.raise_survivor(session, survivor=target, merged=order, now=now, by=who.sub)
    return order


async def unmerge(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, reason: str, now: datetime
) -> WorkOrder:
    order = await load_order(session, order_id=order_id, who=who, access=ACT_ON_ORDER)
    merged_into = await _lock_merged(session, order)
    target = await load_order(session, order_id=merged_into)
    await _undo_link(session, order=order, target=target, now=now)
    # An order dispatch had goes back to it to be offered again (dispatch re-opens it on the
    # unmerged event): 重新分派中 until dispatch's offer arrives, never "received" with an offer open.
    status = domain.status_after_unmerge(dispatched=order.dispatched)
    order.status, order.merged_into, order.callback_required, order.updated_at = status, None, True, now
    add_timeline(
        session,
        order,
        at=now,
        kind="unmerged",
        text_="经核实为不同事项，已单独办理",
        text_en="Checked: a different matter after all, now handled on its own",
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_UNMERGED,
        payload=ev.WorkOrderUnmergedV1(
            work_order_id=str(order.id),
            from_work_order_id=str(target.id),
            county_code=order.county_code,
            by=who.sub,
            reason=reason,
            unmerged_at=now,
        ),
    )
    await _back_to_dispatch(session, order, now)
    return order


async def _lock_merged(session: AsyncSession, order: WorkOrder) -> uuid.UUID:
    """Both rows locked, in id order as merge locks them; the order it was merged into."""
    if order.status != domain.MERGED or order.merged_into is None:
        raise Problem(409, "该工单未被并单", "this order is not merged")
    for oid in sorted({order.id, order.merged_into}):
        # populate_existing: the order is loaded already — read it again under the lock.
        await session.get(WorkOrder, oid, with_for_update=True, populate_existing=True)
    if order.status != domain.MERGED or order.merged_into is None:  # changed while we waited
        raise Problem(409, "该工单未被并单", "this order is not merged")
    return order.merged_into


async def _undo_link(session: AsyncSession, *, order: WorkOrder, target: WorkOrder, now: datetime) -> None:
    """The latest link is marked undone (kept for the trace); an urge no longer counts."""
    link = await session.scalar(
        select(OrderLink)
        .where(OrderLink.linked_order_id == order.id, OrderLink.undone_at.is_(None))
        .order_by(OrderLink.id.desc())
    )
    if link is not None:
        link.undone_at = now
        if link.kind == "urge":
            target.urge_count = max(0, target.urge_count - 1)


async def _back_to_dispatch(session: AsyncSession, order: WorkOrder, now: datetime) -> None:
    s = get_intake_settings()
    if order.dispatched:
        announce(order, now, s)  # dispatch owes its word on the order again (reconcile.py)
        return
    # It was merged at intake and never announced: it goes to dispatch now, with its own callback.
    order.dispatched = True
    order.due_at = order.due_at or callback_due(now, order.urgency, s, await load_calendar(session))[0]
    announce(order, now, s)
    existing = [t for t in await tasks_of(session, order.id) if t.kind == "callback"]
    if not existing:
        session.add(
            Task(
                id=uuid.uuid4(),
                work_order_id=order.id,
                kind="callback",
                status="open",
                region_code=order.region_code,
                due_at=order.due_at,
                attempts=[],
                created_at=now,
            )
        )
    await emit(session, order=order, event_type=ev.WORKORDER_CREATED, payload=created_payload(order))
