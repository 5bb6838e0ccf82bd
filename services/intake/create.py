"""Creating a work order from any channel: normalise, classify, link duplicates (并单), open the
callback task, and announce it — all in the caller's one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal, ensure_visible
from libs.common.bilingual import Text
from libs.common.crypto import get_cipher
from libs.common.events import intake as ev
from libs.common.events.payload import EventPayload
from libs.common.fastsql import FastStatement
from libs.common.orm import present
from libs.common.problems import FieldProblem
from services.intake import classify, domain, merging, store, validation
from services.intake.calendar_store import load_calendar
from services.intake.deadlines import callback_due
from services.intake.knowledge import store as knowledge_store
from services.intake.models import OrderLink, WorkOrder
from services.intake.reconcile import announce
from services.intake.schemas import WorkOrderCreate
from services.intake.service import (
    CHANNEL_EN,
    CHANNEL_ZH,
    add_timeline,
    check_channel_fields,
    classified_payload,
    created_payload,
    emit,
    enqueue_prepared,
    id_groups,
    lock_external,
    next_number,
    party_indexes,
    prepare_events,
)
from services.intake.settings import IntakeSettings, get_intake_settings


@dataclass
class Created:
    order: WorkOrder
    replayed: bool = False  # the external (source, reference) already made this order
    duplicate_of: WorkOrder | None = None
    warnings: list[dict] = field(default_factory=list)


def _candidates_statement(with_bidx: bool):  # type: ignore[no-untyped-def]
    """Built once per shape with bind parameters: this runs for every new order, and building
    a SQLAlchemy statement (and its cache key) costs more CPU than executing a cached one."""
    w = WorkOrder
    same_person = w.requester_phone == bindparam("phone")
    if with_bidx:
        same_person = or_(same_person, w.requester_id_bidx == bindparam("bidx"))
    recent = or_(
        and_(w.status.notin_(domain.TERMINAL), w.created_at >= bindparam("open_since")),
        and_(
            w.status == domain.CLOSED,
            w.closed_at >= bindparam("closed_since"),
            w.answer_summary.is_(None),  # a question answered on the call is not a "matter" to reopen
        ),
    )
    return (
        select(w.id, w.status, w.service_type, w.domain, w.description, w.created_at, w.closed_at)
        .where(same_person, recent)
        .order_by(w.created_at.desc())
        .limit(20)
    )


# The create path's statements run on the driver directly (libs/common/fastsql.py: the
# session's per-statement overhead was a fifth of intake's CPU per order).
_CANDIDATES = {
    True: FastStatement(_candidates_statement(True)),
    False: FastStatement(_candidates_statement(False)),
}
_REQUESTER_LOCK = FastStatement(text("SELECT pg_advisory_xact_lock(hashtext(:k))"))


async def _candidates(
    session: AsyncSession, *, phone: str, bidx: str | None, now: datetime, s: IntakeSettings
) -> list[domain.Candidate]:
    """Recent orders of the same person (phone or ID): open ones within the duplicate window,
    closed ones within the follow-up window."""
    rows = await _CANDIDATES[bidx is not None].fetch(
        session,
        {
            "phone": phone,
            "bidx": bidx,
            "open_since": now - timedelta(hours=s.duplicate_window_hours),
            "closed_since": now - timedelta(days=s.follow_up_window_days),
        },
    )
    return [domain.Candidate(str(r[0]), *tuple(r)[1:]) for r in rows]


async def _parent(session: AsyncSession, parent_id: uuid.UUID | None, who: Principal) -> WorkOrder | None:
    if parent_id is None:
        return None
    parent = await session.get(WorkOrder, parent_id)
    if parent is None or (who.region and not who.covers(parent.region_code)):
        raise FieldProblem("parent_id", "主工单不存在", "the parent order does not exist")
    if parent.status in domain.TERMINAL:
        raise FieldProblem(
            "parent_id", "主工单已办结，不能再拆分子工单", "the parent order is already closed"
        )
    return parent


async def _urged(session: AsyncSession, urge_of: uuid.UUID | None, who: Principal) -> WorkOrder | None:
    """The open order an operator says this call is about (并入此单 / 催办), when they say so."""
    if urge_of is None:
        return None
    target = await session.get(WorkOrder, urge_of)
    if target is None or (who.region and not who.covers(target.region_code)):
        raise FieldProblem("urge_of", "要催办的工单不存在", "the order to urge does not exist")
    if target.status in domain.TERMINAL:
        raise FieldProblem(
            "urge_of",
            "该工单已办结或已并单，不能催办；请作为新的求助受理",
            "that order is closed or merged: file this call as a new request",
        )
    return target


async def create_work_order(
    session: AsyncSession,
    *,
    data: WorkOrderCreate,
    now: datetime,
    who: Principal,
    settings: IntakeSettings | None = None,
) -> Created:
    """A request becomes an order with one of three outcomes (domain.outcome): answered on the
    call (closed at once), an urge merged into the citizen's open order on the same matter (并单),
    or a new order that is dispatched. Checks and lookups first, then one INSERT of the complete
    row, then what the outcome adds."""
    s = settings or get_intake_settings()
    check_channel_fields(data)
    region = validation.resolve_region(data.region_code)
    ensure_visible(who, region.code)
    if data.external:
        existing = await lock_external(session, data.external.source, data.external.reference)
        if existing is not None:
            return Created(existing, replayed=True)
    parent = await _parent(session, data.parent_id, who)
    urged = await _urged(session, data.urge_of, who)
    answered = bool(data.hotline and data.hotline.answered_on_call)
    _check_article(data, answered)
    bidx = get_cipher().blind_index(data.requester.id_number) if data.requester.id_number else None
    kind = _resolve(data, answered=answered, now=now)
    decision = await _same_matter(
        session, data, kind, urged, parent, answered=answered, bidx=bidx, now=now, s=s
    )
    outcome = domain.outcome(decision, answered_on_call=answered)
    order = await _new_order(session, data, kind, region, parent, decision, bidx=bidx, who=who, now=now)
    out = Created(order)
    if outcome == "new":  # known before the INSERT, so the row is written once, complete
        await _set_due(session, order, out, now=now, s=s)
    if kind.uncertain:
        out.warnings.append(dict(domain.UNCERTAIN_WARNING))
    # Numbered before the INSERT, so the row is written with its revision counter at once.
    prepared = prepare_events(_events(order, kind, outcome, now))
    task = _callback_task(order, now) if outcome == "new" else None
    await store.insert_new_order(session, order, _received(order, now), task)
    if outcome == "urge":
        await enqueue_prepared(session, prepared, filer=who)
        await _urge(
            session,
            order=order,
            target_id=uuid.UUID(str(decision.target_id)),
            sim=decision.similarity,
            now=now,
            out=out,
            by=who.sub if urged is not None else "auto",
        )
    elif outcome == "answered":
        await enqueue_prepared(session, prepared, filer=who)
        operator = data.hotline.operator_id if data.hotline else None
        await _answered_on_call(session, order=order, now=now, operator=operator)
    else:  # the common path in two statements: the order with its entry and task (above), events
        await enqueue_prepared(session, prepared, filer=who)
        if decision.kind == "follow_up":
            out.warnings.append(domain.follow_up_warning(decision.target_id))
    return out


async def _same_matter(
    session: AsyncSession,
    data: WorkOrderCreate,
    kind: domain.Resolved,
    urged: WorkOrder | None,
    parent: WorkOrder | None,
    *,
    answered: bool,
    bidx: str | None,
    now: datetime,
    s: IntakeSettings,
) -> domain.DuplicateDecision:
    """Whether the request repeats an open order: by the operator's word, else by the search."""
    if urged is not None and not answered:
        # The operator heard it is the same matter (of whatever type): an urge, by their word.
        return domain.DuplicateDecision("urge", target_id=str(urged.id), similarity=1.0)
    if parent is None and not answered:  # a sub-order is never a duplicate of its siblings
        return await _duplicate_decision(session, data, kind, bidx=bidx, now=now, s=s)
    return domain.DuplicateDecision("new")


def _resolve(data: WorkOrderCreate, *, answered: bool, now: datetime) -> domain.Resolved:
    return domain.resolve_classification(
        service_type=data.service_type,
        domain=data.domain,
        special_groups=list(data.special_groups),
        urgency=data.urgency,
        result=classify.classify(data.description),
        groups_from_id=id_groups(data.requester.id_number, now),
        answered_on_call=answered,
    )


def _events(
    order: WorkOrder, kind: domain.Resolved, outcome: str, now: datetime
) -> list[tuple[WorkOrder, str, EventPayload]]:
    """workorder.classified when the classifier chose; workorder.created when it is dispatched."""
    events: list[tuple[WorkOrder, str, EventPayload]] = []
    if kind.auto:
        events.append((order, ev.WORKORDER_CLASSIFIED, classified_payload(order, by="auto", at=now)))
    if outcome == "new":
        events.append((order, ev.WORKORDER_CREATED, created_payload(order)))
    return events


def _check_article(data: WorkOrderCreate, answered: bool) -> None:
    if data.hotline and data.hotline.knowledge_article_id and not answered:
        raise FieldProblem(
            "hotline.knowledge_article_id",
            "只有当场解答的来电才记录所依据的知识库条目",
            "a knowledge-base article is recorded only for a call answered on the spot",
        )


async def _duplicate_decision(
    session: AsyncSession,
    data: WorkOrderCreate,
    kind: domain.Resolved,
    *,
    bidx: str | None,
    now: datetime,
    s: IntakeSettings,
) -> domain.DuplicateDecision:
    # Two calls from the same person at once must not both become new orders.
    await _REQUESTER_LOCK.execute(session, {"k": f"requester:{data.requester.phone}"})
    cands = await _candidates(session, phone=data.requester.phone, bidx=bidx, now=now, s=s)
    return domain.duplicate_decision(
        now=now,
        service_type=kind.service_type,
        domain=kind.domain,
        candidates=[(c, classify.similarity(data.description, c.description)) for c in cands],
        window=timedelta(hours=s.duplicate_window_hours),
        follow_up_window=timedelta(days=s.follow_up_window_days),
        threshold=s.duplicate_similarity,
    )


async def _new_order(
    session: AsyncSession,
    data: WorkOrderCreate,
    kind: domain.Resolved,
    region: regions.Region,
    parent: WorkOrder | None,
    decision: domain.DuplicateDecision,
    *,
    bidx: str | None,
    who: Principal,
    now: datetime,
) -> WorkOrder:
    """The complete row (not yet written): every column set, so it is INSERTed once."""
    id_number = data.requester.id_number
    details = {
        k: getattr(data, k).model_dump(mode="json")
        for k in ("hotline", "counter", "web", "external")
        if getattr(data, k)
    }
    return WorkOrder(**EMPTY_ROW | dict(
        id=uuid.uuid4(),
        number=await next_number(session, now),
        channel=data.channel,
        status="received",
        service_type=kind.service_type,
        domain=kind.domain,
        region_code=region.code,
        county_code=region.county_code,
        requester_name=data.requester.name,
        requester_phone=data.requester.phone,
        requester_id_enc=get_cipher().encrypt(id_number) if id_number else None,
        requester_id_bidx=bidx,
        party_indexes=party_indexes(bidx, data.parties, requester_phone=data.requester.phone),
        description=data.description,
        special_groups=kind.special_groups,
        urgency=kind.urgency,
        channel_details=details | {"region_path": validation.region_path(region.code)},
        classification=kind.classification,
        parent_id=parent.id if parent else None,
        follow_up_of=uuid.UUID(decision.target_id) if decision.kind == "follow_up" and decision.target_id else None,
        external_source=data.external.source if data.external else None,
        external_ref=data.external.reference if data.external else None,
        created_by=who.sub,
        created_at=now,
        updated_at=now,
    ))  # fmt: skip


async def _set_due(
    session: AsyncSession, order: WorkOrder, out: Created, *, now: datetime, s: IntakeSettings
) -> None:
    """A dispatched order's callback deadline (回拨, working days by the admin-entered calendar)."""
    due, warnings = callback_due(now, order.urgency, s, await load_calendar(session))
    order.due_at, order.dispatched = due, True
    announce(order, now, s)
    for w in warnings:
        zh, en = Text.parse(w)
        out.warnings.append({"code": "calendar_fallback", "message": zh, "message_en": en})


def _received(order: WorkOrder, now: datetime) -> dict:
    return timeline_row(
        order,
        at=now,
        kind="received",
        text_=f"已受理（{CHANNEL_ZH[order.channel]}），工单号 {order.number}",
        text_en=f"Received ({CHANNEL_EN[order.channel]}), order number {order.number}",
    )


def _callback_task(order: WorkOrder, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "work_order_id": order.id,
        "kind": "callback",
        "status": "open",
        "region_code": order.region_code,
        "due_at": order.due_at,
        "attempts": [],
        "outcome": None,
        "completed_at": None,
        "created_at": now,
    }


# Every column of a new order, so the object handed back is complete without a reload.
EMPTY_ROW = {c.key: None for c in WorkOrder.__table__.columns} | {
    "urge_count": 0,
    "dispatched": False,
    "reemits": 0,
    "callback_required": True,
    "event_seq": 0,
    "dispatch_seq": 0,
}


def timeline_row(order: WorkOrder, *, at: datetime, kind: str, text_: str, text_en: str = "") -> dict:
    return {
        "work_order_id": order.id,
        "at": at,
        "kind": kind,
        "text": text_,
        "public": True,
        "source_event_id": None,
        "data": {"text_en": text_en} if text_en else {},
    }


async def _answered_on_call(
    session: AsyncSession, *, order: WorkOrder, now: datetime, operator: str | None
) -> None:
    """Answered on the call: recorded with its answer, counted, closed at once — never dispatched."""
    details = order.channel_details.get("hotline", {})
    if details.get("knowledge_article_id"):  # which standard answer the operator read out
        await knowledge_store.record_use(
            session,
            article_id=uuid.UUID(details["knowledge_article_id"]),
            work_order_id=order.id,
            region_code=order.region_code,
            operator=operator,
            now=now,
        )
    order.answer_summary = details.get("answer_summary")
    order.status, order.closed_at, order.callback_required = domain.CLOSED, now, False
    order.close_reason = "answered_on_call"
    add_timeline(
        session,
        order,
        at=now,
        kind="closed",
        text_="热线当场解答，已办结",
        text_en="Answered on the hotline call; the order is closed",
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_ANSWERED_ON_CALL,
        payload=ev.WorkOrderAnsweredOnCallV1(
            work_order_id=str(order.id),
            number=order.number,
            channel=order.channel,
            service_type=order.service_type,
            domain=order.domain,
            region_code=order.region_code,
            county_code=order.county_code,
            operator_id=operator,
            answered_at=now,
        ),
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_CLOSED,
        payload=ev.WorkOrderClosedV1(
            work_order_id=str(order.id),
            number=order.number,
            county_code=order.county_code,
            reason="answered_on_call",
            closed_at=now,
        ),
    )


async def _urge(
    session: AsyncSession,
    *,
    order: WorkOrder,
    target_id: uuid.UUID,
    sim: float,
    now: datetime,
    out: Created,
    by: str = "auto",
) -> None:
    """并单: the request is kept (full trace) but merged into the open order as an urge (催办)."""
    target = await _surviving_order(session, target_id)
    order.status, order.merged_into, order.callback_required = domain.MERGED, target.id, False
    target.urge_count += 1
    target.updated_at = now
    session.add(
        OrderLink(
            work_order_id=target.id, linked_order_id=order.id, kind="urge", similarity=sim, by=by, at=now
        )
    )
    add_timeline(
        session,
        target,
        at=now,
        kind="urged",
        text_=f"群众再次来电催办（第 {target.urge_count} 次），已督促承办人员",
        text_en=f"The citizen called again to chase this order (reminder {target.urge_count}); the handler has been urged to act",
    )
    merging.note_merged(session, order=order, target=target, now=now)
    await emit(
        session,
        order=target,
        event_type=ev.WORKORDER_URGED,
        payload=ev.WorkOrderUrgedV1(
            work_order_id=str(target.id),
            number=target.number,
            county_code=target.county_code,
            duplicate_order_id=str(order.id),
            urge_count=target.urge_count,
            similarity=sim,
            urged_at=now,
        ),
    )
    await merging.emit_merged(session, order=order, target=target, by="auto", reason="duplicate", now=now)
    await merging.raise_survivor(session, survivor=target, merged=order, now=now, by="auto")
    out.duplicate_of = target
    out.warnings.append(_duplicate_warning(target))


async def _surviving_order(session: AsyncSession, target_id: uuid.UUID) -> WorkOrder:
    """The open order, locked. It was read before its lock: if staff merged it meanwhile, the
    urge goes to the order it was merged into (the matter's surviving order)."""
    target = await session.get(WorkOrder, target_id, with_for_update=True)
    while target is not None and target.status == domain.MERGED and target.merged_into is not None:
        target = await session.get(WorkOrder, target.merged_into, with_for_update=True)
    return present(target, WorkOrder, target_id)  # orders are never deleted


def _duplicate_warning(target: WorkOrder) -> dict[str, str]:
    return {
        "code": "duplicate",
        "message": f"该求助人已有同一事项的在办工单 {target.number}，本次已作为催办并入该工单，不重复派单",
        "message_en": f"an open order on the same matter exists ({target.number}); this request was merged into it as an urge",
        "work_order_id": str(target.id),
        "number": target.number,
    }
