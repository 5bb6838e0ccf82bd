"""Routes of the closed loop: close, callback / return-visit tasks, ratings, caller lookup, and
the citizen's public tracking page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import and_, false, or_, select, true

from libs.common import ratelimit
from libs.common.auth import HANDLER, JURISDICTION, Principal, principal
from libs.common.db import run_transaction
from services.intake import classify as classifier
from services.intake import examples as ex
from services.intake import loop, queries, service, visibility
from services.intake.access import ACT_ON_ORDER, TASKS
from services.intake.api import _mutate, order_out, task_out
from services.intake.models import Task
from services.intake.schemas import (
    AttemptIn,
    CallerLookupIn,
    ClassifyIn,
    CloseIn,
    RatingIn,
    ReasonIn,
    TaskKind,
    TaskOut,
    TaskStatus,
    TrackOut,
    WorkOrderListItem,
    WorkOrderOut,
)

router = APIRouter(prefix="/v1", tags=["closed loop"])
Who = Annotated[Principal, Depends(principal)]
Suffix = Annotated[
    str,
    Query(min_length=4, max_length=4, pattern=r"^\d{4}$", description="求助人电话后四位", examples=["7890"]),
]
CLOSE_409 = {
    "description": "something must happen first — `missing` lists all of it",
    "content": {
        "application/problem+json": {
            "example": {
                "status": 409,
                "detail": "工单暂不能办结：尚未记录回拨结果…",
                "missing": [
                    {
                        "code": "callback_missing",
                        "message": "尚未记录回拨结果…",
                        "message_en": "the callback is not recorded yet…",
                    }
                ],
            }
        }
    },
}


@router.post(
    "/work-orders/{order_id}/cancel",
    response_model=WorkOrderOut,
    summary="Cancel (撤销) an order filed by mistake, before anyone took it on — not 办结",
    responses={409: {"description": "closed, merged, or already in someone's hands"}},
)
async def cancel(order_id: uuid.UUID, body: ReasonIn, request: Request, who: Who) -> WorkOrderOut:
    return await _mutate(request, loop.cancel_order, order_id=order_id, who=who, reason=body.reason)


@router.post(
    "/work-orders/{order_id}/close",
    response_model=WorkOrderOut,
    summary="Close (办结) — needs the callback",
    responses={409: CLOSE_409},
)
async def close(order_id: uuid.UUID, body: CloseIn, request: Request, who: Who) -> WorkOrderOut:
    return await _mutate(
        request, loop.close_order, order_id=order_id, who=who, result_summary=body.result_summary
    )


@router.post(
    "/work-orders/{order_id}/rating",
    response_model=WorkOrderOut,
    summary="Rating taken by the operator on a call (1–5); ≤ 2 opens a return visit",
    responses={409: {"description": "not closed yet, or already rated"}},
)
async def rate_by_operator(order_id: uuid.UUID, body: RatingIn, request: Request, who: Who) -> WorkOrderOut:
    async def fn(session, *, now):  # type: ignore[no-untyped-def]
        order = await service.load_order(session, order_id=order_id, who=who, lock=True, access=ACT_ON_ORDER)
        return await loop.rate_order(
            session, order=order, score=body.score, comment=body.comment, via="operator", now=now
        )

    return await _mutate(request, fn)


@router.get(
    "/tasks",
    response_model=list[TaskOut],
    summary="Callback and return-visit tasks (回拨/回访) in your jurisdiction, and the callbacks of orders you handle",
    responses={200: {"content": {"application/json": {"example": [ex.TASK]}}}},
)
async def list_tasks(
    request: Request,
    who: Who,
    kind: TaskKind | None = None,
    status: TaskStatus | None = "open",
    overdue: bool | None = None,
    work_order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TaskOut]:
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session:
        q = select(Task).where(await _visible_tasks(session, who))
        if kind:
            q = q.where(Task.kind == kind)
        if status:
            q = q.where(Task.status == status)
        if work_order_id:
            q = q.where(Task.work_order_id == work_order_id)
        if overdue is not None:
            q = q.where((Task.due_at < now) if overdue else (Task.due_at >= now))
        rows = (await session.scalars(q.order_by(Task.due_at).limit(limit))).all()
    return [task_out(t, now) for t in rows]


async def _visible_tasks(session, who: Principal):  # type: ignore[no-untyped-def]
    """The jurisdiction's tasks, and the callback tasks of the orders the caller handles."""
    grants = TASKS.grants(who.roles)
    jurisdiction = None
    if JURISDICTION in grants:
        region = queries.effective_region(who, None)
        jurisdiction = Task.region_code.like(region + "%") if region else true()
    held = []
    if HANDLER in grants:
        held = await visibility.held_orders(
            session, who=who, accepted_only=True, outside_region=jurisdiction is not None
        )
    handled = and_(Task.kind == "callback", Task.work_order_id.in_(held)) if held else None
    parts = [c for c in (jurisdiction, handled) if c is not None]
    return or_(*parts) if parts else false()


@router.post(
    "/tasks/{task_id}/attempts",
    response_model=TaskOut,
    summary="Record a callback / return-visit attempt and its outcome",
    responses={409: {"description": "task already completed"}},
)
async def record_attempt(task_id: uuid.UUID, body: AttemptIn, request: Request, who: Who) -> TaskOut:
    rt = request.app.state.rt
    now = rt.clock.now()
    task = await run_transaction(
        rt.sessionmaker,
        lambda session: loop.record_attempt(
            session, task_id=task_id, who=who, outcome=body.outcome, note=body.note, now=now
        ),
    )
    return task_out(task, now)


@router.post(
    "/caller-lookup",
    response_model=list[WorkOrderListItem],
    summary="Operator: the caller's open orders (with `history`, all of them) by phone or ID "
    "(POST keeps personal data out of URLs)",
)
async def caller_lookup(body: CallerLookupIn, request: Request, who: Who) -> list[WorkOrderListItem]:
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session:
        rows = await queries.caller_orders(
            session, phone=body.phone, id_number=body.id_number, who=who, history=body.history
        )
    return [WorkOrderListItem(**queries.list_item(r, now)) for r in rows]


@router.post(
    "/classify",
    summary="Operator: classification suggestion for a description being typed (read-only, nothing stored)",
    responses={200: {"content": {"application/json": {"example": ex.CLASSIFIED}}}},
)
async def classify_text(body: ClassifyIn, who: Who) -> dict:
    # The same rules create_work_order applies, so the suggestion matches what filing would decide.
    return classifier.classify(body.description).as_dict()


@router.get(
    "/track/{number}",
    response_model=TrackOut,
    tags=["citizen"],
    # Per IP and per order number: stops enumerating numbers and guessing one number's suffix (OWASP API4).
    dependencies=[Depends(ratelimit.tracking_rate_limit)],
    summary="Public tracking: order number + last 4 phone digits (no personal data)",
    responses={
        404: {"description": "same answer for a wrong number and a wrong suffix"},
        429: {"description": "too many lookups from this IP or for this number (Retry-After)"},
    },
)
async def track(
    number: Annotated[str, Path(max_length=32)], phone_suffix: Suffix, request: Request
) -> TrackOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        order = await queries.find_for_citizen(session, number=number, phone_suffix=phone_suffix)
        return TrackOut(**await queries.track(session, order=order))


@router.post(
    "/track/{number}/rating",
    response_model=TrackOut,
    tags=["citizen"],
    dependencies=[Depends(ratelimit.tracking_rate_limit)],
    summary="Citizen rates a closed order on the web (number + last 4 phone digits)",
    responses={
        404: {"description": "wrong number or suffix"},
        409: {"description": "not closed yet, or already rated"},
    },
)
async def rate_by_citizen(
    number: Annotated[str, Path(max_length=32)], phone_suffix: Suffix, body: RatingIn, request: Request
) -> TrackOut:
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session:
        async with session.begin():
            order = await queries.find_for_citizen(session, number=number, phone_suffix=phone_suffix)
            await session.refresh(order, with_for_update=True)
            await loop.rate_order(
                session, order=order, score=body.score, comment=body.comment, via="web", now=now
            )
        return TrackOut(**await queries.track(session, order=order))


__all__ = ["router", "order_out"]
