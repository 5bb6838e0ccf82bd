"""The citizen's own door (网络平台): file a request with no login.

Only what a citizen may say about themselves and their matter is accepted (no channel, no
operator, hotline, counter or external block, no service type forced on dispatch: the text is
classified as any other order's); the channel is always "web". The order is made by the same
use case as every other channel (services/intake/create.py), so validation, classification and
duplicate handling (并单/催办, follow-ups) are the staff API's.

Abuse limits (OWASP API4, API6 "sensitive business flow"): per client IP and per phone number,
libs.common.ratelimit. The console files on the citizen's behalf, server side, and passes the
citizen's address in X-Forwarded-For; intake believes that header only from a trusted peer —
uvicorn's own ProxyHeadersMiddleware (`--forwarded-allow-ips` / FORWARDED_ALLOW_IPS, default
127.0.0.1: a console on the same host) rewrites the client address before any route sees it,
so `ratelimit.client_ip` is the citizen's, and a header sent by anyone else is ignored. One
trust rule for the whole service (audit records the same address), nothing new to configure on
the console, and no second set of counters there to keep in step with intake's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common import ratelimit
from libs.common.auth import Principal
from libs.common.openapi_examples import examples
from services.intake import create, service
from services.intake import examples as ex
from services.intake import validation as v
from services.intake.api import PROBLEM_422, idempotent_replay
from services.intake.schemas import OrderStatus, Requester, SpecialGroup, Urgency, WorkOrderCreate, _Strict
from services.intake.settings import get_intake_settings

router = APIRouter(prefix="/v1/public", tags=["citizen"])

# Who filed a portal request: no person is logged in, so the portal itself. `created_by` and the
# audit trail say "citizen web portal"; no region, so the whole province is open to it.
CITIZEN_WEB = Principal(
    sub="citizen-web-portal", kind="anonymous", roles=frozenset(), region="", name="市民网络平台"
)
# Notices a citizen can act on; the others (classification uncertain, calendar fallback) are staff's.
CITIZEN_NOTICES = ("duplicate", "follow_up")

EXAMPLE = ex.PUBLIC_REQUEST


class PublicRequestIn(_Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=examples(EXAMPLE))

    requester: Requester
    region_code: str = Field(min_length=6, max_length=12, description="县、乡镇或村的行政区划代码")
    description: str = Field(min_length=2, max_length=5000, description="发生了什么")
    special_groups: list[SpecialGroup] = Field(
        default_factory=list, max_length=8, description="特殊群体（四优先）"
    )
    urgency: Urgency | None = Field(None, description="缺省时按描述中的紧急信号判断")
    portal: Literal["portal", "wechat", "12348_cn", "app"] = "portal"

    # The same checks as WorkOrderCreate's, so a field error reads the same on every channel.
    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        v.resolve_region(value)
        return value

    @field_validator("special_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return v.special_groups(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        if len(value.strip()) < 2:
            raise ValueError(
                "请简要描述您的问题（至少 2 个字） | please describe the problem (at least 2 characters)"
            )
        return value.strip()

    def work_order(self) -> WorkOrderCreate:
        body = self.model_dump(exclude={"portal"}, exclude_none=True)
        return WorkOrderCreate.model_validate({**body, "channel": "web", "web": {"portal": self.portal}})


class PublicRequestOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.PUBLIC_CREATED))

    number: str
    status: OrderStatus
    phone_suffix: str = Field(description="查询进度用：工单号 + 手机号后四位")
    tracking_code: str = Field(description="工单号-后四位，如 LW20261124000123-7890")
    duplicate_of_number: str | None = None
    notices: list[dict] = []


async def per_ip_limit(request: Request) -> None:
    # A dependency: it runs before the body is read, so invalid attempts count too.
    s = ratelimit.get_ratelimit_settings()
    await ratelimit.hit(s.public_request_per_ip, "public-request", "ip", ratelimit.client_ip(request))


def _out(out: create.Created) -> dict:
    o = out.order
    suffix = "".join(ch for ch in o.requester_phone if ch.isdigit())[-4:]
    return PublicRequestOut(
        number=o.number,
        status=o.status,
        phone_suffix=suffix,
        tracking_code=f"{o.number}-{suffix}",
        duplicate_of_number=out.duplicate_of.number if out.duplicate_of else None,
        notices=[
            {k: w[k] for k in ("code", "message", "message_en") if k in w}
            for w in out.warnings
            if w.get("code") in CITIZEN_NOTICES
        ],
    ).model_dump(mode="json")


@router.post(
    "/requests",
    status_code=201,
    response_model=PublicRequestOut,
    dependencies=[Depends(per_ip_limit)],
    summary="Citizen files a request on the web (no login; channel web; rate limited)",
    description="The same validation and duplicate handling (并单) as POST /v1/work-orders. Send an "
    "Idempotency-Key: a double submit or a retry with the same key and body makes one order "
    "(the answer is replayed, `Idempotent-Replayed: true`).",
    responses={
        409: {"description": "Idempotency-Key reused with a different body"},
        422: PROBLEM_422,
        429: {"description": "too many requests from this IP or for this phone (Retry-After)"},
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def file_request(
    body: PublicRequestIn,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    rt = request.app.state.rt
    now = rt.clock.now()
    s = get_intake_settings()
    limits = ratelimit.get_ratelimit_settings()
    data = body.work_order()
    phone = data.requester.phone
    async with rt.sessionmaker() as session, session.begin():
        # Every portal caller is the same principal: the key is scoped by phone as well, so a
        # replay only ever answers someone who sent this very phone number (and body).
        key = service.scoped_key(CITIZEN_WEB, f"{phone}\0{idempotency_key}") if idempotency_key else None
        if key and (replay := await idempotent_replay(session, key, body, now=now, s=s)) is not None:
            return replay
        # Counted only for a request that will make an order (not a replay): a 429 here rolls
        # the claimed key back with the transaction, so the same retry works once allowed.
        await ratelimit.hit(limits.public_request_per_phone, "public-request", "phone", phone)
        out = await create.create_work_order(session, data=data, now=now, who=CITIZEN_WEB)
        body_out = _out(out)
        if key:
            await service.store_idempotent_response(session, key=key, status_code=201, body=body_out)
    return JSONResponse(body_out, status_code=201)
