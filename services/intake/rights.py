"""A citizen's rights over what intake holds about them: a copy (PIPL Art 45: 查阅、复制) and
deletion (Art 47), asked at the front desk and carried out by a supervisor of the jurisdiction.

Deletion here is the anonymising of services/intake/retention.py applied to one requester's
orders now instead of after the period. It is refused, order by order and with the reason, where
the law says the record must stay:

- an order still being handled (PIPL Art 47(1) gives deletion once the purpose is achieved; an
  open matter's purpose is not — the citizen may withdraw it, 撤销, and ask again);
- an order from which a legal-aid case (法律援助案卷) or a people's-mediation case (人民调解法
  Art 27: the committee files the registration, the record and the agreement) was opened, while
  that file is within its keeping period (the archive keeping rules; RetentionSettings.
  case_file_years). PIPL Art 47 para 2: where a law's keeping period has not run out, the
  handler stops all processing but storage and protection — it does not delete.

Intake knows the cases by their events folded into the order's timeline (data.event_type); the
keeping period runs from the case's last step heard of here.

`refusal` is the pure decision; the rest reads and writes in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.crypto import get_cipher
from libs.common.retention import RetentionSettings, case_file_kept_until
from services.intake import domain
from services.intake.models import Task, TimelineEntry, WorkOrder
from services.intake.queries import effective_region, prefix_match, requester_is

MAX_ORDERS = 500  # one person's orders; a phone shared by an institution is not one person

PIPL_47_2 = "个人信息保护法第四十七条第二款 (PIPL Art 47 para 2)"
_STATUTES = {
    "aid": f"法律援助案卷保管（档案保管规则）(legal-aid case file, archive keeping rules); {PIPL_47_2}",
    "mediation": f"人民调解法第二十七条 (People's Mediation Law Art 27); {PIPL_47_2}",
}
_CASE_NAMES = {"aid": ("法律援助", "legal-aid"), "mediation": ("人民调解", "people's-mediation")}


@dataclass(frozen=True)
class Refusal:
    code: str  # order_open | case_file_kept
    reason: str
    reason_en: str
    statute: str
    kept_until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "reason_en": self.reason_en,
            "statute": self.statute,
            "kept_until": self.kept_until.isoformat() if self.kept_until else None,
        }


def refusal(
    *, status: str, cases: dict[str, datetime], now: datetime, policy: RetentionSettings
) -> Refusal | None:
    """Why this order may not be anonymised now (None: it may). `cases`: kind → last step."""
    if status not in domain.TERMINAL:
        return Refusal(
            "order_open",
            "工单尚未办结，处理目的尚未实现；可先撤销工单后再申请删除",
            "the order is still being handled (its purpose is not achieved); withdraw it first",
            "个人信息保护法第四十七条第一款 (PIPL Art 47 para 1)",
        )
    for kind, last in sorted(cases.items()):
        until = case_file_kept_until(last, policy)
        if now < until:
            zh, en = _CASE_NAMES[kind]
            return Refusal(
                "case_file_kept",
                f"本工单已转为{zh}案件，案卷须依法保存至 {until.date().isoformat()}，期间仅保存不再使用",
                f"a {en} case was opened from this order; its file must be kept until "
                f"{until.date().isoformat()} (stored and protected only, not used)",
                _STATUTES[kind],
                until,
            )
    return None


async def requester_orders(
    session: AsyncSession, *, phone: str | None, id_number: str | None, who: Principal
) -> list[WorkOrder]:
    """Every order of this requester in the caller's jurisdiction (by phone, or by ID number through
    the blind index of either crypto mode), oldest first."""
    q = select(WorkOrder).where(requester_is(phone, id_number))
    region = effective_region(who, None)
    if region:
        q = q.where(prefix_match(WorkOrder.region_code, region))
    q = q.order_by(WorkOrder.created_at, WorkOrder.id).limit(MAX_ORDERS)
    return list((await session.scalars(q)).all())


_CASES = text(
    "SELECT work_order_id, "
    "max(at) FILTER (WHERE data->>'event_type' LIKE 'cn.lawline.aid.%') AS aid, "
    "max(at) FILTER (WHERE data->>'event_type' LIKE 'cn.lawline.mediation.%') AS mediation "
    "FROM timeline_entries WHERE work_order_id = ANY(:ids) GROUP BY work_order_id"
)


async def linked_cases(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, datetime]]:
    """Order → {"aid" | "mediation": the case's last step folded into the order}."""
    rows = (await session.execute(_CASES, {"ids": ids})).all()
    return {
        r.work_order_id: {k: getattr(r, k) for k in ("aid", "mediation") if getattr(r, k) is not None}
        for r in rows
    }


async def export(session: AsyncSession, orders: list[WorkOrder]) -> list[dict[str, Any]]:
    """Everything intake holds about the requester, order by order, unmasked (it is their own)."""
    ids = [o.id for o in orders]
    timeline = (
        await session.scalars(
            select(TimelineEntry).where(TimelineEntry.work_order_id.in_(ids)).order_by(TimelineEntry.id)
        )
    ).all()
    tasks = (await session.scalars(select(Task).where(Task.work_order_id.in_(ids)))).all()
    cipher = get_cipher()
    out = []
    for o in orders:
        out.append(
            {
                "number": o.number,
                "channel": o.channel,
                "status": o.status,
                "service_type": o.service_type,
                "domain": o.domain,
                "region_code": o.region_code,
                "requester": {
                    "name": o.requester_name,
                    "phone": o.requester_phone,
                    "id_number": cipher.decrypt(o.requester_id_enc),
                },
                "description": o.description,
                "special_groups": o.special_groups,
                "answer_summary": o.answer_summary,
                "close_reason": o.close_reason,
                "rating": {"score": o.rating_score, "comment": o.rating_comment, "at": _iso(o.rated_at)},
                "created_at": _iso(o.created_at),
                "closed_at": _iso(o.closed_at),
                "timeline": [
                    {"at": _iso(t.at), "kind": t.kind, "text": t.text}
                    for t in timeline
                    if t.work_order_id == o.id and t.public
                ],
                "tasks": [
                    {"kind": t.kind, "status": t.status, "due_at": _iso(t.due_at), "outcome": t.outcome}
                    for t in tasks
                    if t.work_order_id == o.id
                ],
            }
        )
    return out


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
