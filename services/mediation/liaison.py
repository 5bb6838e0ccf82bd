"""The police-liaison queue (人民调解法 Art 25: a dispute that may turn violent or criminal is
reported to the police at once).

It lives here, in mediation, fed by mediation's own risk reports in the SAME transaction as the
report: no event hop that could lag or be lost, the case and its jurisdiction are at hand, and
the RISK_REPORTED event still goes out for anyone else. The county supervisor (督办) works the
queue — the person already answering urgent escalations there; the mediator who called 110
themselves may record it too. Each item records who told the police, which unit, when and what
was done. Where a webhook is configured (the police's or a 110 联动 platform's), the report is
POSTed there as well (webhook.py), retried until accepted. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, region_filter
from libs.common.events import mediation as ev
from libs.common.orm import get_present
from libs.common.pii import mask_text
from libs.common.problems import Problem
from services.mediation.models import Case, PoliceLiaison, WebhookDelivery
from services.mediation.schemas import LiaisonAckIn, LiaisonOut, RiskIn
from services.mediation.service import publish_case

RISK_KINDS = {
    "violence": "可能激化为暴力",
    "criminal": "可能引发刑事案件",
    "self_harm": "有自伤、自杀风险",
    "mass_incident": "可能引发群体性事件",
}


def webhook_payload(item: PoliceLiaison) -> dict[str, Any]:
    """What the police system receives: the risk and where, nothing of the parties' identities."""
    return {
        "type": "lawline.mediation.risk_reported",
        "liaison_id": str(item.id),
        "case_id": str(item.case_id),
        "case_number": item.case_number,
        "county_code": item.county_code,
        "region_code": item.region_code,
        "risk_kind": item.risk_kind,
        "risk_kind_zh": RISK_KINDS.get(item.risk_kind, item.risk_kind),
        "description": item.description,
        "reported_by": item.reported_by_name or item.reported_by,
        "reported_at": item.reported_at.isoformat(),
        "basis": "《中华人民共和国人民调解法》第二十五条",
    }


async def open_item(
    session: AsyncSession,
    *,
    case: Case,
    body: RiskIn,
    who: Principal,
    now: datetime,
    webhook_url: str | None,
) -> PoliceLiaison:
    item = PoliceLiaison(
        id=uuid.uuid4(),
        case_id=case.id,
        case_number=case.number,
        county_code=case.county_code,
        region_code=case.region_code,
        risk_kind=body.risk_kind,
        description=mask_text(body.description),
        reported_by=who.staff_id or who.sub,
        reported_by_name=who.name or None,
        reported_at=now,
        status="open",
    )
    session.add(item)
    if webhook_url:
        session.add(
            WebhookDelivery(
                id=uuid.uuid4(),
                liaison_id=item.id,
                url=webhook_url,
                payload=webhook_payload(item),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
    return item


def _webhook_state(d: WebhookDelivery | None) -> str:
    if d is None:
        return "not_configured"
    if d.delivered_at is not None:
        return "delivered"
    return "retrying" if d.attempts else "pending"


def out(item: PoliceLiaison, delivery: WebhookDelivery | None) -> LiaisonOut:
    o = LiaisonOut.model_validate(item)
    o.webhook, o.webhook_attempts = _webhook_state(delivery), delivery.attempts if delivery else 0
    o.allowed_actions = ["acknowledge"] if item.status == "open" else []
    return o


async def list_items(
    session: AsyncSession,
    *,
    who: Principal,
    status: str | None,
    county_code: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[LiaisonOut]:
    """Open items first (oldest waiting longest on top), then the acknowledged, newest first."""
    q = (
        select(PoliceLiaison, WebhookDelivery)
        .outerjoin(WebhookDelivery, WebhookDelivery.liaison_id == PoliceLiaison.id)
        .where(region_filter(PoliceLiaison.region_code, who))
    )
    if status:
        q = q.where(PoliceLiaison.status == status)
    if county_code:
        q = q.where(PoliceLiaison.county_code == county_code)
    if status == "open":
        q = q.order_by(PoliceLiaison.reported_at, PoliceLiaison.id)
        if before:
            q = q.where(tuple_(PoliceLiaison.reported_at, PoliceLiaison.id) > tuple_(*before))
    else:
        q = q.order_by(PoliceLiaison.reported_at.desc(), PoliceLiaison.id.desc())
        if before:
            q = q.where(tuple_(PoliceLiaison.reported_at, PoliceLiaison.id) < tuple_(*before))
    rows = (await session.execute(q.limit(limit))).all()
    return [out(i, d) for i, d in rows]


async def acknowledge(
    session: AsyncSession, *, liaison_id: uuid.UUID, body: LiaisonAckIn, who: Principal, now: datetime
) -> LiaisonOut:
    item = await session.scalar(
        select(PoliceLiaison)
        .where(PoliceLiaison.id == liaison_id, region_filter(PoliceLiaison.region_code, who))
        .with_for_update()
    )
    if item is None:
        raise Problem(404, "未找到该警情通报", "police-liaison item not found")
    if item.status != "open":
        raise Problem(
            409,
            f"该通报已由{item.acknowledged_by_name or item.acknowledged_by}于 {item.acknowledged_at:%Y-%m-%d %H:%M} 确认",
            "this report was already acknowledged",
            allowed_actions=[],
        )
    item.status, item.acknowledged_at = "acknowledged", now
    item.acknowledged_by, item.acknowledged_by_name = who.staff_id or who.sub, who.name or None
    item.police_unit, item.action_taken = body.police_unit, mask_text(body.action_taken)
    case = await get_present(session, Case, item.case_id)
    await publish_case(
        session,
        case,
        ev.MediationRiskAcknowledgedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            liaison_id=str(item.id),
            risk_kind=item.risk_kind,
            police_unit=item.police_unit,
            action_taken=item.action_taken or "",
            acknowledged_by_staff_id=who.staff_id,
            reported_at=item.reported_at,
            at=now,
        ),
    )
    delivery = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.liaison_id == item.id))
    return out(item, delivery)
