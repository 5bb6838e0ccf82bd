"""A citizen's copy of their data and its deletion (PIPL Art 45, 47; services/intake/rights.py).

The citizen asks at the front desk (identity checked there); a supervisor (or admin) of the
jurisdiction carries it out here. POST keeps the phone and ID number out of URLs and logs. Both
are audited without the personal data itself: the orders concerned and the reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common import audit
from libs.common.auth import Principal, allow, principal
from libs.common.openapi_examples import examples
from libs.common.problems import Problem
from libs.common.retention import get_retention_settings
from services.intake import rights
from services.intake import validation as v
from services.intake.retention import anonymise_orders

router = APIRouter(prefix="/v1/data-subjects", tags=["citizens' rights"])
SERVICE = "intake"

POLICY = {
    "POST /v1/data-subjects/export": allow("supervisor", "admin", note="PIPL Art 45, audited"),
    "POST /v1/data-subjects/erase": allow("supervisor", "admin", note="PIPL Art 47, audited"),
}


class SubjectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "13834567890", "reason": "本人到窗口申请，已核验身份证"}]},
    )
    phone: str | None = None
    id_number: str | None = None
    reason: str = Field(min_length=4, max_length=200, description="申请来源与身份核验方式")

    _phone = field_validator("phone")(lambda cls, x: v.normalise_phone(x) if x else None)
    _id = field_validator("id_number")(lambda cls, x: v.normalise_id_number(x) if x else None)


_EXPORTED = {
    "number": "LW20261124000001",
    "channel": "hotline",
    "status": "closed",
    "service_type": "legal_aid",
    "domain": "labor",
    "region_code": "140429003",
    "requester": {"name": "王秀英", "phone": "13834567890", "id_number": "140429196502150024"},
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    "special_groups": [],
    "answer_summary": None,
    "close_reason": "已回拨告知结果",
    "rating": {"score": 5, "comment": None, "at": "2026-11-30T02:00:00+00:00"},
    "created_at": "2026-11-24T01:30:00+00:00",
    "closed_at": "2026-11-28T08:00:00+00:00",
    "timeline": [{"at": "2026-11-24T01:30:00+00:00", "kind": "created", "text": "工单已受理"}],
    "tasks": [
        {"kind": "callback", "status": "done", "due_at": "2026-12-01T09:59:59+00:00", "outcome": "reached"}
    ],
}
_KEPT = {
    "number": "LW20261124000002",
    "code": "order_open",
    "reason": "工单尚未办结，处理目的尚未实现；可先撤销工单后再申请删除",
    "reason_en": "the order is still being handled (its purpose is not achieved); withdraw it first",
    "statute": "个人信息保护法第四十七条第一款 (PIPL Art 47 para 1)",
    "kept_until": None,
}


class ExportOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"orders": [_EXPORTED]}))

    orders: list[dict]


class ErasureOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"erased": ["LW20261124000001"], "kept": [_KEPT]}))

    erased: list[str] = Field(description="已匿名的工单编号")
    kept: list[dict] = Field(description="依法保留的工单：编号、原因、法律依据、保存期限")


@router.post(
    "/export",
    response_model=ExportOut,
    summary="A requester's copy of everything intake holds about them (PIPL Art 45), audited",
    responses={404: {"description": "no order of this requester in your jurisdiction"}},
)
async def export(
    body: SubjectIn, request: Request, who: Annotated[Principal, Depends(principal)]
) -> ExportOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        orders = await _orders(session, body, who)
        data = await rights.export(session, orders)
        await audit.record(
            session,
            service=SERVICE,
            action="pii.exported",
            detail={"orders": [o.number for o in orders], "reason": body.reason.strip()},
        )
    return ExportOut(orders=data)


@router.post(
    "/erase",
    response_model=ErasureOut,
    summary="Anonymise a requester's finished orders (PIPL Art 47); what the law keeps is named",
    responses={
        404: {"description": "no order of this requester in your jurisdiction"},
        409: {"description": "none may be erased now: each order's reason and statute in `kept`"},
    },
)
async def erase(
    body: SubjectIn, request: Request, who: Annotated[Principal, Depends(principal)]
) -> ErasureOut:
    rt = request.app.state.rt
    now = rt.clock.now()
    policy = get_retention_settings()
    async with rt.sessionmaker() as session, session.begin():
        orders = await _orders(session, body, who)
        cases = await rights.linked_cases(session, [o.id for o in orders])
        kept, allowed = [], []
        for o in orders:
            why = rights.refusal(status=o.status, cases=cases.get(o.id, {}), now=now, policy=policy)
            if why is not None:
                kept.append({"number": o.number, **why.as_dict()})
            elif o.requester_phone:  # not anonymised already
                allowed.append(o)
        # The request is audited whatever came of it: a refusal is an answer to the citizen too.
        done = await anonymise_orders(session, [o.id for o in allowed], now=now)
        numbers = [o.number for o in allowed if o.id in set(done)]
        await audit.record(
            session,
            service=SERVICE,
            action="pii.erased",
            detail={
                "erased": numbers,
                "kept": [{"number": k["number"], "code": k["code"]} for k in kept],
                "reason": body.reason.strip(),
            },
        )
    if kept and not numbers:
        raise Problem(
            409,
            "依法须保留，不能删除：" + "；".join(f"{k['number']} {k['reason']}" for k in kept),
            "kept by law, not erased: " + "; ".join(f"{k['number']} {k['reason_en']}" for k in kept),
            kept=kept,
        )
    return ErasureOut(erased=numbers, kept=kept)


async def _orders(session, body: SubjectIn, who: Principal):  # type: ignore[no-untyped-def]
    orders = await rights.requester_orders(session, phone=body.phone, id_number=body.id_number, who=who)
    if not orders:
        raise Problem(404, "您的管辖范围内没有此人的工单", "no order of this requester in your jurisdiction")
    return orders
