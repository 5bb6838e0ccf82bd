"""Dispatch's HTTP routes: offers, the counter inbox (+ SSE), decisions, supervision."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from libs.common.aio import within
from libs.common.auth import Principal, ensure_visible, principal, region_filter
from libs.common.db import run_transaction
from libs.common.problems import Problem
from services.dispatch import offers, queries, service, supervision
from services.dispatch.models import Assignment, OrderSnapshot, ServicePoint, Staff
from services.dispatch.schemas import (
    AssignmentOut,
    CandidateOut,
    DecisionOut,
    PartiesIn,
    QueueItemOut,
    RejectIn,
    ReturnIn,
    ServicePointOut,
    StaffOut,
    SupervisionGroupOut,
    TransferIn,
)

router = APIRouter(prefix="/v1", tags=["dispatch"])
Who = Annotated[Principal, Depends(principal)]


def _out(a: Assignment, s: Staff, p: ServicePoint, o: OrderSnapshot | None = None) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        work_order_id=a.work_order_id,
        staff_id=a.staff_id,
        staff_name=s.name,
        staff_code=s.code,
        service_point_id=p.id,
        service_point_name=p.name,
        status=a.status,
        reason=a.reason,
        offered_at=a.offered_at,
        responded_at=a.responded_at,
        expires_at=a.expires_at,
        kind=a.kind,
        reason_code=a.reason_code,
        order_number=o.number if o else None,
        service_type=o.service_type if o else None,
        priority=bool(o and o.priority == 0),
    )


async def _one(session, assignment_id: uuid.UUID) -> AssignmentOut:  # type: ignore[no-untyped-def]
    a = await session.get(Assignment, assignment_id)
    s = await session.get(Staff, a.staff_id)
    p = await session.get(ServicePoint, a.service_point_id)
    o = await session.get(OrderSnapshot, a.work_order_id)
    return _out(a, s, p, o)


async def _acted(
    request: Request, act: Callable[[AsyncSession, datetime], Awaitable[Assignment]]
) -> AssignmentOut:
    """One offer action in its own transaction (retried whole on a serialization failure, with
    the clock read again), answered with the assignment as it now stands."""
    rt = request.app.state.rt

    async def work(session):  # type: ignore[no-untyped-def]
        a = await act(session, rt.clock.now())
        return await _one(session, a.id)

    return await run_transaction(rt.sessionmaker, work)


@router.get("/assignments", response_model=list[AssignmentOut], summary="Offers and assignments of an order")
async def list_assignments(request: Request, work_order_id: uuid.UUID, who: Who) -> list[AssignmentOut]:
    async with request.app.state.rt.sessionmaker() as session:
        rows = await queries.list_assignments(session, work_order_id=work_order_id, who=who)
    return [_out(*r) for r in rows]


@router.get(
    "/inbox", response_model=list[AssignmentOut], summary="A staff member's open offers and assignments"
)
async def inbox(request: Request, who: Who, staff_id: uuid.UUID | None = None) -> list[AssignmentOut]:
    staff_id = staff_id or (uuid.UUID(who.staff_id) if who.staff_id else None)
    if staff_id is None:
        raise Problem(422, "请指定 staff_id", "staff_id is required for callers without a staff id")
    if not who.has_role("supervisor", "admin") and str(staff_id) != who.staff_id:
        raise Problem(403, "只能查看本人的待办", "you can only read your own inbox")
    async with request.app.state.rt.sessionmaker() as session:
        rows = await queries.list_assignments(
            session, staff_id=staff_id, statuses=("offered", "accepted"), who=who
        )
    return [_out(*r) for r in rows]


# A comment line this often keeps proxies from closing an idle stream, and gives the console a
# moment to look at its session's clock (it ends its own stream when the token is due).
INBOX_KEEPALIVE_SECONDS = 15.0


@router.get(
    "/inbox/stream",
    summary="Live inbox (text/event-stream): the caller's new offers as they are made",
    description="Token in `Authorization: Bearer` or, for EventSource, `?access_token=`.",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "事件流：ready（data 为人员 id）、offer（新派单，data 为 AssignmentOut 的 JSON），"
            f"每 {INBOX_KEEPALIVE_SECONDS:g} 秒一行注释保持连接 | event stream: `ready` (data: the staff id), "
            "`offer` (data: an AssignmentOut as JSON), a comment line as keep-alive",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": "event: offer\ndata: {...}\n\n",
                }
            },
        }
    },
)
async def inbox_stream(request: Request, who: Who) -> EventSourceResponse:
    if not who.staff_id:
        raise Problem(403, "只有具名工作人员可以订阅待办", "only a staff member has an inbox")
    rt = request.app.state.rt
    hub = rt.ext.offer_hub
    queue = hub.subscribe(who.staff_id)

    async def events():  # type: ignore[no-untyped-def]
        try:
            yield ServerSentEvent(event="ready", data=who.staff_id)
            while True:
                try:
                    note = await within(queue.get(), INBOX_KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEvent(comment="keep-alive")
                    continue
                if "offer" in note:  # carried by the notification (service.offer_note)
                    offer = AssignmentOut.model_validate(note["offer"])
                else:
                    async with rt.sessionmaker() as session:
                        offer = await _one(session, uuid.UUID(note["assignment_id"]))
                yield ServerSentEvent(event="offer", id=str(offer.id), data=offer.model_dump_json())
        finally:
            hub.unsubscribe(who.staff_id, queue)

    return EventSourceResponse(events())


@router.post(
    "/assignments/{assignment_id}/accept", response_model=AssignmentOut, summary="Accept an offer (接单)"
)
async def accept(assignment_id: uuid.UUID, request: Request, who: Who) -> AssignmentOut:
    return await _acted(
        request, lambda s, now: service.accept(s, assignment_id=assignment_id, now=now, who=who)
    )


@router.post(
    "/assignments/{assignment_id}/reject",
    response_model=AssignmentOut,
    summary="Reject an offer with a reason (conflict / overload / out_of_scope); the next candidate gets it",
)
async def reject(assignment_id: uuid.UUID, body: RejectIn, request: Request, who: Who) -> AssignmentOut:
    return await _acted(
        request,
        lambda s, now: offers.reject(
            s, assignment_id=assignment_id, reason_code=body.reason_code, note=body.note, now=now, who=who
        ),
    )


@router.post(
    "/assignments/{assignment_id}/return",
    response_model=AssignmentOut,
    summary="Return an accepted order (退单)",
)
async def return_order(assignment_id: uuid.UUID, body: ReturnIn, request: Request, who: Who) -> AssignmentOut:
    return await _acted(
        request,
        lambda s, now: offers.return_order(
            s, assignment_id=assignment_id, reason=body.reason, now=now, who=who
        ),
    )


@router.post(
    "/work-orders/{work_order_id}/transfer",
    response_model=AssignmentOut,
    summary="Transfer (转办) to a named person; also how a supervisor assigns from the queue",
)
async def transfer(work_order_id: uuid.UUID, body: TransferIn, request: Request, who: Who) -> AssignmentOut:
    return await _acted(
        request,
        lambda s, now: offers.transfer(
            s, work_order_id=work_order_id, to_staff_id=body.to_staff_id, reason=body.reason, now=now, who=who
        ),
    )


@router.post(
    "/work-orders/{work_order_id}/parties",
    status_code=204,
    summary="Record parties (conflict-of-interest check)",
)
async def add_parties(work_order_id: uuid.UUID, body: PartiesIn, request: Request, who: Who) -> None:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        order = await session.get(OrderSnapshot, work_order_id)
        if order is None:
            raise Problem(404, "未找到该工单", "work order not found")
        ensure_visible(who, order.region_code)
        now = request.app.state.rt.clock.now()
        parties = [p.model_dump() for p in body.parties]
        await offers.add_parties(session, order=order, parties=parties, now=now)


def _decision_out(d) -> DecisionOut:  # type: ignore[no-untyped-def]
    return DecisionOut(
        id=d.id,
        work_order_id=d.work_order_id,
        rule=d.rule,
        policy_version=d.policy_version,
        reason=d.reason,
        complexity=d.complexity,
        complexity_band=d.band,
        complexity_reasons=d.complexity_reasons,
        chosen_staff_id=d.chosen_staff_id,
        decided_at=d.decided_at,
        candidates=[CandidateOut(**{k: c.get(k) for k in CandidateOut.model_fields}) for c in d.candidates],
    )


@router.get(
    "/work-orders/{work_order_id}/decision",
    response_model=DecisionOut,
    summary="Why this order went where it went",
)
async def decision(work_order_id: uuid.UUID, request: Request, who: Who) -> DecisionOut:
    async with request.app.state.rt.sessionmaker() as session:
        d, _order = await queries.latest_decision(session, work_order_id=work_order_id, who=who)
    return _decision_out(d)


@router.get(
    "/work-orders/{work_order_id}/decisions",
    response_model=list[DecisionOut],
    summary="Every routing decision of this order, oldest first (first offer, re-offers, escalation)",
)
async def decisions(work_order_id: uuid.UUID, request: Request, who: Who) -> list[DecisionOut]:
    async with request.app.state.rt.sessionmaker() as session:
        rows = await queries.all_decisions(session, work_order_id=work_order_id, who=who)
    return [_decision_out(d) for d in rows]


@router.get(
    "/supervision/overdue",
    response_model=list[SupervisionGroupOut],
    summary="Overdue and at-risk orders (督办)",
)
async def overdue(request: Request, who: Who, county_code: str | None = None) -> list[SupervisionGroupOut]:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        return await supervision.overdue_and_at_risk(
            session, who=who, now=rt.clock.now(), county_code=county_code
        )


@router.get(
    "/supervision/queue", response_model=list[QueueItemOut], summary="Escalated orders awaiting a supervisor"
)
async def queue(
    request: Request,
    who: Who,
    county_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QueueItemOut]:
    async with request.app.state.rt.sessionmaker() as session:
        return await supervision.supervisor_queue(session, who=who, county_code=county_code, limit=limit)


@router.get("/service-points", response_model=list[ServicePointOut], summary="Service points of the network")
async def service_points(
    request: Request,
    who: Who,
    county_code: str | None = None,
    tier: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ServicePointOut]:
    q = select(ServicePoint).where(region_filter(ServicePoint.region_code, who)).order_by(ServicePoint.code)
    if county_code:
        q = q.where(ServicePoint.county_code == county_code)
    if tier:
        q = q.where(ServicePoint.tier == tier)
    if after:  # keyset pagination on the code
        q = q.where(ServicePoint.code > after)
    async with request.app.state.rt.sessionmaker() as session:
        rows = (await session.scalars(q.limit(limit))).all()
    return [ServicePointOut.model_validate(p, from_attributes=True) for p in rows]


@router.get("/staff", response_model=list[StaffOut], summary="Staff of the network")
async def staff(
    request: Request,
    who: Who,
    county_code: str | None = None,
    role: str | None = None,
    service_point_id: uuid.UUID | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=50, description="人员编号或姓名 | staff code or name")] = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StaffOut]:
    query = (
        select(Staff)
        .join(ServicePoint, Staff.service_point_id == ServicePoint.id)
        .where(region_filter(ServicePoint.region_code, who))
        .order_by(Staff.code)
    )
    if county_code:
        query = query.where(Staff.county_code == county_code)
    if role:
        query = query.where(Staff.role == role)
    if service_point_id:
        query = query.where(Staff.service_point_id == service_point_id)
    if active is not None:
        query = query.where(Staff.active.is_(active))
    if q and q.strip():
        # A picker's search: the code from its start (S009…), the name anywhere (王…).
        needle = q.strip()
        query = query.where(
            Staff.code.istartswith(needle, autoescape=True) | Staff.name.contains(needle, autoescape=True)
        )
    if after:
        query = query.where(Staff.code > after)
    async with request.app.state.rt.sessionmaker() as session:
        rows = (await session.scalars(query.limit(limit))).all()
    return [StaffOut.model_validate(s, from_attributes=True) for s in rows]
