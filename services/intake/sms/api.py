"""SMS routes: the messages an order sent (staff, masked), opt-out and opt-in by staff, and the
provider's MO (上行) callback through which a citizen's reply "TD" stops further messages."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import PUBLIC, Principal, allow, principal
from libs.common.crypto import get_cipher
from libs.common.openapi_examples import examples
from libs.common.pii import mask_phone, phone_key
from libs.common.problems import FieldProblem, Problem
from services.intake import service
from services.intake.access import FRONT_DESK, LIST_ORDERS, READERS
from services.intake.sms import policy
from services.intake.sms.models import SmsOptOut
from services.intake.sms.sender import order_messages
from services.intake.sms.settings import DEV_INBOUND_TOKEN, get_sms_settings
from services.intake.sms.templates import TEMPLATES

router = APIRouter(prefix="/v1", tags=["sms"])
Who = Annotated[Principal, Depends(principal)]

POLICY = {
    "GET /v1/work-orders/{order_id}/sms": allow(*READERS, objects=LIST_ORDERS),
    "POST /v1/sms/opt-outs": allow(*FRONT_DESK),
    "POST /v1/sms/opt-ins": allow(*FRONT_DESK),
    # Called by the SMS provider, not by staff: it proves itself with the configured token.
    "POST /v1/sms/inbound/aliyun": PUBLIC,
}

SmsStatus = Literal["pending", "sending", "sent", "failed", "limited", "opted_out"]
SmsTemplate = Literal["order_received", "callback_missed", "rate_request"]


class SmsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "id": "0b7f0c52-5a55-4c1e-9a51-0d6f3c1b2a11",
                "template": "order_received",
                "template_label": "受理通知",
                "to": "138****7890",
                "text": "您的法律服务求助已受理，工单号LW20261203000001。查询进度：http://127.0.0.1:8000/citizen/track?number=LW20261203000001（需输入来电号码后四位）。回复TD退订",
                "status": "sent",
                "attempts": 1,
                "created_at": "2026-12-03T02:00:00Z",
                "sent_at": "2026-12-03T02:00:01Z",
                "last_error": None,
            }
        )
    )

    id: uuid.UUID
    template: SmsTemplate
    template_label: str
    to: str = Field(description="the number, masked")
    text: str
    status: SmsStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None


class PhoneIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=examples({"phone": "13834567890", "reason": "求助人来电要求不再接收短信"}),
    )

    phone: str = Field(min_length=5, max_length=20)
    reason: str | None = Field(default=None, max_length=200)


class OptOutOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"phone": "138****7890", "opted_out": True}))

    phone: str
    opted_out: bool


class MoMessage(BaseModel):
    """One reply as Aliyun's SmsUp push delivers it (a JSON array of these)."""

    # Every field Aliyun's SmsUp message documents; an unknown one is refused like on every route.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=examples(
            {
                "phone_number": "13834567890",
                "content": "TD",
                "send_time": "2026-12-03 10:05:00",
                "sign_name": "12348法律服务",
                "dest_code": "1234",
                "sequence_id": 1,
            }
        ),
    )

    phone_number: str = Field(max_length=20)
    content: str = Field(max_length=500)
    send_time: str | None = Field(default=None, max_length=32)
    sign_name: str | None = Field(default=None, max_length=64)
    dest_code: str | None = Field(default=None, max_length=32)
    sequence_id: int | None = None


class MoAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"code": 0, "msg": "成功"}))

    code: int
    msg: str


def _digits(phone: str, field: str = "phone") -> str:
    digits = phone_key(phone)
    if digits is None or not policy.mobile(digits):
        raise FieldProblem(field, "请填写 11 位手机号码", "give an 11-digit mobile number")
    return digits


async def opt_out(
    session: AsyncSession, *, digits: str, via: str, by: str | None, reason: str | None, now: datetime
) -> None:
    """The number gets no further message (the sender marks what is queued `opted_out`)."""
    await session.execute(
        insert(SmsOptOut)
        .values(
            phone_bidx=get_cipher().blind_index(digits),
            phone_masked=mask_phone(digits) or "",
            via=via,
            by=by,
            reason=reason,
            at=now,
        )
        .on_conflict_do_nothing(index_elements=["phone_bidx"])
    )


@router.get(
    "/work-orders/{order_id}/sms",
    response_model=list[SmsOut],
    summary="The SMS messages of an order (number masked; template, text, status)",
    responses={404: {"description": "not found (or not yours to see)"}},
)
async def list_order_sms(order_id: uuid.UUID, request: Request, who: Who) -> list[SmsOut]:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        await service.load_order(session, order_id=order_id, who=who, access=LIST_ORDERS)
        rows = await order_messages(session, order_id)
    return [
        SmsOut(
            id=m.id,
            template=m.template,  # type: ignore[arg-type]
            template_label=TEMPLATES[m.template].label,
            to=m.phone_masked,
            text=m.text,
            status=m.status,  # type: ignore[arg-type]
            attempts=m.attempts,
            created_at=m.created_at,
            sent_at=m.sent_at,
            last_error=m.last_error,
        )
        for m in rows
    ]


@router.post(
    "/sms/opt-outs",
    response_model=OptOutOut,
    summary="Staff: this number gets no more SMS (the citizen asked on a call; POST keeps the number out of URLs)",
)
async def staff_opt_out(body: PhoneIn, request: Request, who: Who) -> OptOutOut:
    digits = _digits(body.phone)
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        await opt_out(session, digits=digits, via="staff", by=who.sub, reason=body.reason, now=rt.clock.now())
    return OptOutOut(phone=mask_phone(digits) or "", opted_out=True)


@router.post(
    "/sms/opt-ins",
    response_model=OptOutOut,
    summary="Staff: this number may get SMS again (the citizen asked for them back)",
)
async def staff_opt_in(body: PhoneIn, request: Request, who: Who) -> OptOutOut:
    digits = _digits(body.phone)
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(
            delete(SmsOptOut).where(SmsOptOut.phone_bidx.in_(get_cipher().lookup_indexes(digits)))
        )
    return OptOutOut(phone=mask_phone(digits) or "", opted_out=False)


@router.post(
    "/sms/inbound/aliyun",
    response_model=MoAnswer,
    summary="Aliyun SmsUp push (上行短信): a reply of TD / 退订 opts the number out",
    responses={403: {"description": "the token is not the configured one"}},
)
async def aliyun_inbound(
    body: list[MoMessage],
    request: Request,
    token: Annotated[str, Query(max_length=200, description="the token configured for the provider")],
) -> MoAnswer:
    s = get_sms_settings()
    # With a real provider the development token (in the source) is no secret: nothing is accepted.
    dev_token = s.provider != "file" and s.inbound_token == DEV_INBOUND_TOKEN
    if dev_token or not hmac.compare_digest(token.encode(), s.inbound_token.encode()):
        raise Problem(403, "回调令牌不正确", "the callback token is wrong")
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session, session.begin():
        for mo in body:
            digits = phone_key(mo.phone_number)
            if digits and policy.is_opt_out_reply(mo.content):
                await opt_out(session, digits=digits, via="reply", by=None, reason=None, now=now)
    # What Aliyun's push expects back; anything else and it pushes again.
    return MoAnswer(code=0, msg="成功")
