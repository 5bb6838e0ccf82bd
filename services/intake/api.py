"""Intake's HTTP routes: schema in → service → schema out."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from libs.common.auth import Principal, ensure_visible, principal
from libs.common.pii import mask_phone
from services.intake import service
from services.intake.schemas import TimelineEntryOut, WorkOrderCreate, WorkOrderCreated, WorkOrderOut

router = APIRouter(prefix="/v1", tags=["work orders"])


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderCreated,
    summary="Create a work order (受理)",
    responses={
        409: {"description": "Idempotency-Key reused with a different body"},
        422: {"description": "A field is invalid (problem+json, names the field)"},
    },
)
async def create_work_order(
    body: WorkOrderCreate,
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    rt = request.app.state.rt
    clock = rt.extras["clock"]
    ensure_visible(who, body.region_code)  # nobody files orders outside their own jurisdiction
    async with rt.sessionmaker() as session, session.begin():
        if idempotency_key:
            replay = await service.claim_idempotency_key(
                session, key=idempotency_key, body_hash=service.request_hash(body)
            )
            if replay is not None:
                return JSONResponse(
                    replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"}
                )
        order = await service.create_work_order(session, data=body, now=clock.now())
        out = WorkOrderCreated(id=order.id, number=order.number, status=order.status).model_dump(mode="json")
        if idempotency_key:
            await service.store_idempotent_response(session, key=idempotency_key, status_code=201, body=out)
    return JSONResponse(out, status_code=201, headers={"Location": f"/v1/work-orders/{order.id}"})


@router.get(
    "/work-orders/{order_id}", response_model=WorkOrderOut, summary="One work order with its timeline"
)
async def get_work_order(
    order_id: uuid.UUID, request: Request, who: Principal = Depends(principal)
) -> WorkOrderOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        order, entries = await service.get_work_order(session, order_id=order_id)
    ensure_visible(who, order.region_code)
    return WorkOrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        channel=order.channel,
        service_type=order.service_type,
        region_code=order.region_code,
        county_code=order.county_code,
        requester_name=order.requester_name,
        requester_phone_masked=mask_phone(order.requester_phone) or "",
        description=order.description,
        created_at=order.created_at,
        timeline=[TimelineEntryOut(at=e.at, kind=e.kind, text=e.text) for e in entries],
    )
