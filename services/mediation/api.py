"""HTTP routes of the mediation service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from services.mediation import service
from services.mediation.schemas import CaseOut

router = APIRouter(prefix="/v1", tags=["mediation cases"])


@router.get("/cases", response_model=list[CaseOut], summary="人民调解 cases (filter by work order)")
async def list_cases(
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    work_order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    async with request.app.state.rt.sessionmaker() as session:
        cases = await service.list_cases(session, work_order_id=work_order_id, limit=limit, who=who)
    return [CaseOut.model_validate(c) for c in cases]


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One 人民调解 case")
async def get_case(
    case_id: uuid.UUID, request: Request, who: Annotated[Principal, Depends(principal)]
) -> CaseOut:
    async with request.app.state.rt.sessionmaker() as session:
        return CaseOut.model_validate(await service.get_case(session, case_id=case_id, who=who))
