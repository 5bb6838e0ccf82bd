"""Unmasked contact details of one order (PIPL Art 51: access to personal information is limited
to who needs it and every access is recorded). Lists and the order view stay masked; a front-desk
worker who must call back or verify identity, or the order's handler who must call the citizen
back (回拨, in any county), asks here with a reason, and the read is audited."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from libs.common.audit import record_unmasked_read
from libs.common.auth import Principal, principal
from libs.common.openapi_examples import examples
from libs.common.problems import FieldProblem
from services.intake import examples as ex
from services.intake import service
from services.intake.access import CONTACT

router = APIRouter(prefix="/v1", tags=["work orders"])


class ContactOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CONTACT))

    work_order_id: uuid.UUID
    number: str
    requester_name: str
    phone: str
    id_number: str | None


@router.get(
    "/work-orders/{order_id}/contact",
    response_model=ContactOut,
    summary="Unmasked phone and ID number, with a reason; every read is audited (PIPL Art 51)",
    responses={
        404: {"description": "not found (or outside your jurisdiction)"},
        422: {"description": "reason missing or too short"},
    },
)
async def contact(
    order_id: uuid.UUID,
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    reason: Annotated[
        str,
        Query(min_length=4, max_length=200, description="为何需要查看完整信息", examples=["回拨核实身份"]),
    ],
) -> ContactOut:
    if len(reason.strip()) < 4:
        raise FieldProblem(
            "reason", "请写明查看完整信息的理由（至少 4 个字）", "give a reason (at least 4 characters)"
        )
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        # Jurisdiction's front desk or the order's handler (404 otherwise), before anything is decrypted.
        order = await service.load_order(session, order_id=order_id, who=who, access=CONTACT)
        id_number = await service.reveal_id_number(session, order_id=order_id, who=who)
        fields = ["phone"] + (["id_number"] if id_number else [])
        # Same transaction: no audit entry, no data (the commit happens before the response is sent).
        await record_unmasked_read(
            session, service=service.SERVICE, subject=str(order.id), fields=fields, reason=reason.strip()
        )
        return ContactOut(
            work_order_id=order.id,
            number=order.number,
            requester_name=order.requester_name,
            phone=order.requester_phone,
            id_number=id_number,
        )
