"""Dispatch's routes for reply extensions (at most 15 working days, with a supervisor's approval)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from services.dispatch import extensions
from services.dispatch.policy import default_policy
from services.dispatch.schemas import ExtensionDecisionIn, ReplyExtensionIn, ReplyExtensionOut

router = APIRouter(prefix="/v1", tags=["reply extensions"])
Who = Annotated[Principal, Depends(principal)]


@router.post(
    "/work-orders/{work_order_id}/reply-extension",
    response_model=ReplyExtensionOut,
    status_code=201,
    summary="The handler asks to extend the reply period to the maximum (with a reason)",
)
async def request_extension(
    work_order_id: uuid.UUID, body: ReplyExtensionIn, request: Request, who: Who
) -> ReplyExtensionOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        x = await extensions.request(
            session,
            work_order_id=work_order_id,
            reason=body.reason,
            who=who,
            now=rt.clock.now(),
            policy=default_policy(),
        )
        return extensions.out(x)


@router.get(
    "/reply-extensions",
    response_model=list[ReplyExtensionOut],
    summary="Extension requests of the caller's jurisdiction (pending first)",
)
async def list_extensions(
    request: Request,
    who: Who,
    status: Literal["requested", "approved", "refused"] | None = None,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReplyExtensionOut]:
    async with request.app.state.rt.sessionmaker() as session:
        return await extensions.listing(session, who=who, status=status, county_code=county_code, limit=limit)


async def _decide(
    request: Request, extension_id: uuid.UUID, body: ExtensionDecisionIn, who: Principal, approve: bool
) -> ReplyExtensionOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        x, order = await extensions.decide(
            session,
            extension_id=extension_id,
            approve=approve,
            reason=body.reason,
            who=who,
            now=rt.clock.now(),
            policy=default_policy(),
        )
        return extensions.out(x, order)


@router.post(
    "/reply-extensions/{extension_id}/approve",
    response_model=ReplyExtensionOut,
    summary="A supervisor of the jurisdiction approves: the reply clock becomes the maximum",
)
async def approve(
    extension_id: uuid.UUID, body: ExtensionDecisionIn, request: Request, who: Who
) -> ReplyExtensionOut:
    return await _decide(request, extension_id, body, who, True)


@router.post(
    "/reply-extensions/{extension_id}/refuse",
    response_model=ReplyExtensionOut,
    summary="A supervisor of the jurisdiction refuses (with a reason): the ordinary clock stands",
)
async def refuse(
    extension_id: uuid.UUID, body: ExtensionDecisionIn, request: Request, who: Who
) -> ReplyExtensionOut:
    return await _decide(request, extension_id, body, who, False)
