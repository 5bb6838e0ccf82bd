"""Intake's HTTP routes for work orders: schema in → service → schema out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, ensure_visible, principal
from libs.common.db import run_transaction
from libs.common.pii import mask_id_number, mask_phone
from libs.common.problems import FieldProblem
from services.intake import create, loop, queries, service, transfer, update, validation
from services.intake import examples as ex
from services.intake.models import Task, WorkOrder
from services.intake.schemas import (
    EXAMPLE_ORDER,
    ClassificationIn,
    CountyTransferIn,
    LegalDomain,
    MergeIn,
    Notice,
    RatingOut,
    ReasonIn,
    ServiceType,
    SpecialGroup,
    TaskOut,
    TimelineEntryOut,
    WorkOrderCreate,
    WorkOrderCreated,
    WorkOrderListItem,
    WorkOrderOut,
    WorkOrderPage,
    WorkOrderPatch,
)
from services.intake.settings import IntakeSettings, get_intake_settings

router = APIRouter(prefix="/v1", tags=["work orders"])
Who = Annotated[Principal, Depends(principal)]

CREATED_EXAMPLE = ex.CREATED
PROBLEM_422 = {
    "description": "A field is invalid (problem+json naming the field)",
    "content": {
        "application/problem+json": {
            "example": {
                "status": 422,
                "title": "提交的内容有误，请按提示修改",
                "errors": [
                    {
                        "field": "requester.phone",
                        "code": "invalid",
                        "message": "电话号码格式不正确…",
                        "message_en": "invalid phone…",
                    }
                ],
            }
        }
    },
}


LIST_CHANNELS = ("web", "hotline", "counter", "external")
# The filters' closed lists, named in the schema; check_list_values still gives the field error.
StatusValue = Annotated[str, WithJsonSchema({"type": "string", "enum": list(queries.STATUS_ZH)})]
ChannelValue = Annotated[str, WithJsonSchema({"type": "string", "enum": list(LIST_CHANNELS)})]


def check_list_values(**given: list[str] | str | None) -> None:
    """A misspelt filter value is an error naming the filter, not a silently empty list."""
    allowed = {
        "status": queries.STATUS_ZH,
        "channel": LIST_CHANNELS,
        "service_type": validation.SERVICE_TYPES,
        "domain": validation.DOMAINS,
        "special_group": validation.SPECIAL_GROUPS,
    }
    for name, value in given.items():
        for item in [value] if isinstance(value, str) else value or []:
            if item not in allowed[name]:
                raise FieldProblem(
                    name,
                    f"取值无效，可选：{'、'.join(allowed[name])}",
                    f"invalid value {item!r}; expected one of: {', '.join(allowed[name])}",
                )


def created_body(out: create.Created) -> dict:
    o = out.order
    return WorkOrderCreated(
        id=o.id,
        number=o.number,
        status=o.status,
        service_type=o.service_type,
        domain=o.domain,
        urgency=o.urgency,
        duplicate_of=out.duplicate_of.id if out.duplicate_of else None,
        follow_up_of=o.follow_up_of,
        warnings=[Notice.model_validate(w) for w in out.warnings],
    ).model_dump(mode="json")


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderCreated,
    summary="Create a work order from any channel (受理)",
    description="Classifies free text when service_type/domain are missing; links duplicates (并单) as an urge on "
    "the open order (no second dispatch, `warnings[].code = duplicate`); external (source, reference) and the "
    "Idempotency-Key header both make retries safe.",
    responses={
        200: {
            "description": "external (source, reference) seen before: the original order",
            "content": {"application/json": {"example": CREATED_EXAMPLE}},
        },
        201: {"content": {"application/json": {"example": CREATED_EXAMPLE}}},
        409: {"description": "Idempotency-Key reused with a different body"},
        422: PROBLEM_422,
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE_ORDER}}}},
)
async def create_work_order(
    body: WorkOrderCreate,
    request: Request,
    who: Who,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    rt = request.app.state.rt
    now = rt.clock.now()
    s = get_intake_settings()
    ensure_visible(who, body.region_code)  # nobody files orders outside their own jurisdiction
    async with rt.sessionmaker() as session, session.begin():
        key = service.scoped_key(who, idempotency_key) if idempotency_key else None
        if key and (replay := await idempotent_replay(session, key, body, now=now, s=s)) is not None:
            return replay
        out = await create.create_work_order(session, data=body, now=now, who=who)
        body_out = created_body(out)
        status = 200 if out.replayed else 201
        if key:
            await service.store_idempotent_response(session, key=key, status_code=status, body=body_out)
    headers = {"Location": f"/v1/work-orders/{out.order.id}"}
    if out.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body_out, status_code=status, headers=headers)


@router.get(
    "/work-orders",
    response_model=WorkOrderPage,
    summary="Staff list with filters and keyset pagination (phones masked)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "items": [ex.LIST_ITEM],
                        "next_cursor": "WyIyMDI2LTExLTI0VDA5OjMwOjAwKzA4OjAwIiwgIjNmMWMuLi4iXQ",
                    }
                }
            }
        }
    },
)
async def list_work_orders(
    request: Request,
    who: Who,
    status: Annotated[
        list[StatusValue] | None,
        Query(
            description="可多值：received, offered, rerouting（重新分派中）, escalated, assigned, in_progress, "
            "closed, merged"
        ),
    ] = None,
    channel: Annotated[ChannelValue | None, Query(examples=["hotline"])] = None,
    service_type: Annotated[ServiceType | None, Query(examples=["legal_aid"])] = None,
    domain: Annotated[LegalDomain | None, Query(examples=["labor"])] = None,
    region: Annotated[
        str | None,
        Query(max_length=12, pattern=r"^\d{2,12}$", description="区划代码前缀", examples=["140430"]),
    ] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    overdue: bool | None = None,
    special_group: Annotated[SpecialGroup | None, Query(examples=["elderly"])] = None,
    q: Annotated[
        str | None, Query(max_length=50, description="工单号前缀或求助人姓名", examples=["LW20261124"])
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WorkOrderPage:
    rt = request.app.state.rt
    now = rt.clock.now()
    check_list_values(
        status=status, channel=channel, service_type=service_type, domain=domain, special_group=special_group
    )
    f = queries.ListFilter(
        status=status,
        channel=channel,
        service_type=service_type,
        domain=domain,
        region=region,
        created_from=created_from,
        created_to=created_to,
        overdue=overdue,
        special_group=special_group,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    async with rt.sessionmaker() as session:
        rows, next_cursor = await queries.list_orders(session, f=f, who=who, now=now)
    items = [WorkOrderListItem.model_validate(queries.list_item(r, now)) for r in rows]
    return WorkOrderPage(items=items, next_cursor=next_cursor)


async def order_out(session, order: WorkOrder, now: datetime) -> WorkOrderOut:  # type: ignore[no-untyped-def]
    _, entries = await service.get_work_order(session, order_id=order.id)
    tasks = await loop.tasks_of(session, order.id)
    children = await service.children_of(session, order.id)
    return WorkOrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        channel=order.channel,
        service_type=order.service_type,
        domain=order.domain,
        region_code=order.region_code,
        county_code=order.county_code,
        requester_name=order.requester_name,
        requester_phone_masked=mask_phone(order.requester_phone) or "",
        requester_id_masked=mask_id_number(service.get_cipher().decrypt(order.requester_id_enc))
        if order.requester_id_enc
        else None,
        description=order.description,
        special_groups=list(order.special_groups or []),
        urgency=order.urgency,
        classification=order.classification or {},
        channel_details=order.channel_details or {},
        parent_id=order.parent_id,
        children=[c.number for c in children],
        follow_up_of=order.follow_up_of,
        merged_into=order.merged_into,
        urge_count=order.urge_count,
        due_at=order.due_at,
        closed_at=order.closed_at,
        answer_summary=order.answer_summary,
        rating=_rating_out(order),
        created_at=order.created_at,
        tasks=[task_out(t, now) for t in tasks],
        timeline=[
            TimelineEntryOut(at=e.at, kind=e.kind, text=e.text, text_en=(e.data or {}).get("text_en") or None)
            for e in entries
        ],
    )


async def idempotent_replay(
    session: AsyncSession, key: str, body: BaseModel, *, now: datetime, s: IntakeSettings
) -> JSONResponse | None:
    """The stored response when this key was used before (a retry), else None: the key is claimed."""
    replay = await service.claim_idempotency_key(
        session,
        key=key,
        body_hash=service.request_hash(body),
        now=now,
        ttl=timedelta(hours=s.idempotency_ttl_hours),
    )
    if replay is None:
        return None
    return JSONResponse(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})


def _rating_out(order: WorkOrder) -> RatingOut | None:
    if order.rating_score is None or not order.rated_at:
        return None
    return RatingOut(
        score=order.rating_score,
        comment=order.rating_comment,
        rated_at=order.rated_at,
        via=order.rated_via or "",
    )


def task_out(t: Task, now: datetime) -> TaskOut:
    return TaskOut(
        id=t.id,
        work_order_id=t.work_order_id,
        kind=t.kind,
        status=t.status,
        due_at=t.due_at,
        overdue=t.status == "open" and t.due_at < now,
        attempts=t.attempts,
        outcome=t.outcome,
        completed_at=t.completed_at,
    )


ORDER_EXAMPLE = ex.ORDER


@router.get(
    "/work-orders/{order_id}",
    response_model=WorkOrderOut,
    summary="One work order with tasks and timeline",
    responses={
        200: {"content": {"application/json": {"example": ORDER_EXAMPLE}}},
        404: {"description": "not found (or outside your jurisdiction)"},
    },
)
async def get_work_order(order_id: uuid.UUID, request: Request, who: Who) -> WorkOrderOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        order = await service.load_order(session, order_id=order_id, who=who)
        return await order_out(session, order, rt.clock.now())


async def _mutate(request: Request, fn, **kw) -> WorkOrderOut:  # type: ignore[no-untyped-def]
    rt = request.app.state.rt
    now = rt.clock.now()
    # Run again if the server aborted it in a deadlock (a person's change meeting the consumer's
    # fold of the same order): the answer, not a 503.
    order = await run_transaction(rt.sessionmaker, lambda session: fn(session, now=now, **kw))
    async with rt.sessionmaker() as session:
        return await order_out(session, order, now)


@router.put(
    "/work-orders/{order_id}/classification",
    response_model=WorkOrderOut,
    summary="Operator override of type/domain/groups/urgency (kept to improve the rules)",
)
async def override_classification(
    order_id: uuid.UUID, body: ClassificationIn, request: Request, who: Who
) -> WorkOrderOut:
    return await _mutate(request, loop.override_classification, order_id=order_id, who=who, data=body)


@router.post(
    "/work-orders/{order_id}/merge",
    response_model=WorkOrderOut,
    summary="Merge this order into another (并单)",
    responses={409: {"description": "closed or already merged"}},
)
async def merge(order_id: uuid.UUID, body: MergeIn, request: Request, who: Who) -> WorkOrderOut:
    return await _mutate(request, loop.merge, order_id=order_id, into=body.into, who=who, reason=body.reason)


@router.post(
    "/work-orders/{order_id}/unmerge",
    response_model=WorkOrderOut,
    summary="Undo a merge (拆单)",
    responses={409: {"description": "not merged"}},
)
async def unmerge(order_id: uuid.UUID, body: ReasonIn, request: Request, who: Who) -> WorkOrderOut:
    return await _mutate(request, loop.unmerge, order_id=order_id, who=who, reason=body.reason)


@router.patch(
    "/work-orders/{order_id}",
    response_model=WorkOrderOut,
    summary="Correct an open order's facts (emits updated)",
    responses={409: {"description": "closed or merged"}, 422: PROBLEM_422},
)
async def patch_work_order(
    order_id: uuid.UUID, body: WorkOrderPatch, request: Request, who: Who
) -> WorkOrderOut:
    return await _mutate(request, update.update_order, order_id=order_id, who=who, data=body)


@router.post(
    "/work-orders/{order_id}/county-transfer",
    response_model=WorkOrderOut,
    summary="Move an open order to another county (跨县转办); dispatch routes it there",
    responses={409: {"description": "closed or merged"}, 422: PROBLEM_422},
)
async def county_transfer(
    order_id: uuid.UUID, body: CountyTransferIn, request: Request, who: Who
) -> WorkOrderOut:
    return await _mutate(request, transfer.transfer_county, order_id=order_id, who=who, data=body)
