"""HTTP routes of the police-liaison queue (人民调解法 Art 25): the list a supervisor works, and
the acknowledgement (who told the police, which unit, what was done)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from services.mediation import liaison
from services.mediation.schemas import LiaisonAckIn, LiaisonOut

router = APIRouter(prefix="/v1/police-liaisons", tags=["police liaison"])
Who = Annotated[Principal, Depends(principal)]


@router.get(
    "",
    response_model=list[LiaisonOut],
    summary="Risk reports for the police (open: oldest first; keyset before_reported_at + before_id)",
)
async def list_liaisons(
    request: Request,
    who: Who,
    status: Literal["open", "acknowledged"] | None = None,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    before_reported_at: datetime | None = None,
    before_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LiaisonOut]:
    before = (before_reported_at, before_id) if before_reported_at and before_id else None
    async with request.app.state.rt.sessionmaker() as session:
        return await liaison.list_items(
            session, who=who, status=status, county_code=county_code, before=before, limit=limit
        )


@router.post(
    "/{liaison_id}/acknowledge",
    response_model=LiaisonOut,
    summary="The police were told: which unit, and what was done (Art 25)",
)
async def acknowledge(liaison_id: uuid.UUID, body: LiaisonAckIn, request: Request, who: Who) -> LiaisonOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        return await liaison.acknowledge(
            session, liaison_id=liaison_id, body=body, who=who, now=rt.clock.now()
        )
