"""How the road from intake to dispatch is doing, for supervisors (issue #14): orders announced
to dispatch and not acknowledged yet, and what the reconciliation re-announced (reconcile.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from libs.common.auth import Principal, principal
from services.intake import queries, reconcile
from services.intake.schemas import OrderStatus

router = APIRouter(prefix="/v1/pipeline", tags=["pipeline"])
Who = Annotated[Principal, Depends(principal)]


class ReemittedOrderOut(BaseModel):
    work_order_id: uuid.UUID
    number: str
    county_code: str
    status: OrderStatus
    attempts: int
    last_reemit_at: datetime
    acknowledged_at: datetime | None  # dispatch's first word about it; None: still waiting


class ReconciliationOut(BaseModel):
    awaiting_ack: int  # announced to dispatch, open, no dispatch event about it yet
    oldest_waiting_seconds: int | None  # since the longest waiting of those was announced
    reemitted_total: int  # orders re-announced at least once
    reemits_total: int  # re-announcements in all
    reemitted_last_24h: int  # orders re-announced in the last 24 hours
    recent: list[ReemittedOrderOut]  # the last re-announced orders, newest first
    as_of: datetime
    # This replica's sweep (each replica sweeps; the figures above are every replica's).
    last_sweep_at: datetime | None = None


RECONCILIATION_EXAMPLE = {
    "awaiting_ack": 2,
    "oldest_waiting_seconds": 184.0,
    "reemitted_total": 3,
    "reemits_total": 4,
    "reemitted_last_24h": 3,
    "recent": [
        {
            "work_order_id": "6f1c2b0e-5d1a-4c8e-9a3b-2f7d8e9a0b1c",
            "number": "LW20261202000031",
            "county_code": "140430",
            "status": "received",
            "attempts": 2,
            "last_reemit_at": "2026-12-02T09:14:05+08:00",
            "acknowledged_at": "2026-12-02T09:15:40+08:00",
        }
    ],
    "as_of": "2026-12-02T09:17:09+08:00",
    "last_sweep_at": "2026-12-02T09:17:00+08:00",
}


@router.get(
    "/reconciliation",
    response_model=ReconciliationOut,
    summary="Orders dispatch has not acknowledged yet, and the automatic re-announcements (own region)",
    responses={200: {"content": {"application/json": {"example": RECONCILIATION_EXAMPLE}}}},
)
async def reconciliation(request: Request, who: Who) -> ReconciliationOut:
    rt = request.app.state.rt
    now = rt.clock.now()
    region = queries.effective_region(who, None)
    stats = rt.ext.reconcile
    async with rt.sessionmaker() as session:
        body = await reconcile.figures(session, region=region or None, now=now)
    return ReconciliationOut(**body, last_sweep_at=stats.last_sweep_at)
