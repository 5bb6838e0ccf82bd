"""Notification defence (通知辩护/代理, Art 25, 28, 36): no application, no means test, a lawyer
within 3 days and a confirmation back to the notifying body. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal, ensure_visible
from libs.common.calendar import WorkCalendar
from libs.common.crypto import get_cipher
from libs.common.events import aid as ev
from libs.common.pii import mask_id_number
from libs.common.problems import FieldProblem
from libs.common.receipt import Receipt, local_day, resolve
from services.aid import domain
from services.aid.models import Case, case_number_seq
from services.aid.schemas import (
    ApplicantIn,
    NotificationIn,
)
from services.aid.service_receipt import audit_entered, receipt_values
from services.aid.workflow import (
    actor_of,
    actor_ref,
    publish_case,
    start_statutory,
    step,
)


async def _confirm_notification(session: AsyncSession, case: Case, *, now: datetime) -> None:
    """Art 36: tell the notifying court/procuratorate/police which lawyer was assigned."""
    n = dict(case.notification or {})
    n["confirmation"] = {
        "sent_at": now.isoformat(),
        "lawyer_name": case.lawyer_name,
        "lawyer_firm": case.lawyer_firm,
    }
    case.notification = n
    await publish_case(
        session,
        case,
        ev.AidNotificationConfirmedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=None,
            county_code=case.county_code,
            notifying_body_kind=n["body_kind"],
            notifying_body_name=n["body_name"],
            document_number=n.get("document_number"),
            lawyer_name=case.lawyer_name or "",
            lawyer_firm=case.lawyer_firm,
            confirmed_at=now,
        ),
    )


def _notice_receipt(body: NotificationIn, who: Principal, now: datetime) -> Receipt:
    """The notice's receipt: the time staff entered, else the notice's own time. A notifying
    body's system (external_system key) stamps its own time, which is the evidence; staff who
    enter a paper notice dated before today say why (it starts the 3 days earlier)."""
    machine = who.kind == "api_key" or who.has_role("external_system")
    received = resolve(
        received_at=body.received_at,
        reason=body.receipt_reason,
        now=now,
        label=("收到通知的时间", "received_at"),
        default=body.notified_at,
        default_field="notified_at",
        default_label=("通知时间", "notified_at"),
        reason_required=not machine,
    )
    if body.received_at is not None and body.received_at < body.notified_at:
        raise FieldProblem(
            "received_at", "收到通知的时间不能早于通知时间", "received_at cannot be before notified_at"
        )
    return received


async def receive_notification(
    session: AsyncSession, *, body: NotificationIn, who: Principal, now: datetime, cal: WorkCalendar
) -> Case:
    """Art 25/28/36: a notified case needs no application and no means test; lawyer within 3 days."""
    county = regions.county_of(body.region_code)
    if county is None or regions.lookup(body.region_code) is None:
        raise FieldProblem("region_code", "未知的行政区划代码", "unknown region code")
    ensure_visible(who, body.region_code)
    received = _notice_receipt(body, who, now)
    seq = await session.scalar(case_number_seq.next_value())
    case = _notified_case(body, county=county, seq=int(seq), received=received, who=who, now=now)
    session.add(case)
    await session.flush()
    await audit_entered(session, case, received)
    # Art 36: "收到通知后三日内" — from the day the notice was received, not entered.
    start = local_day(received.at)
    await start_statutory(session, case, "assignment", start, cal, counts_from=domain.RECEIPT)
    await step(
        session,
        case,
        "notify",
        now=now,
        actor=actor_ref(who),
        from_state=None,
        to_state="granted",
        details={"body_kind": body.body_kind, "ground": body.ground},
    )
    return case


def _notified_case(
    body: NotificationIn, *, county: str, seq: int, received: Receipt, who: Principal, now: datetime
) -> Case:
    """The case as granted on the notice: nothing is missing, nothing is declined."""
    return Case(
        id=uuid.uuid4(),
        number=domain.format_case_number(now, county, seq),
        work_order_id=None,
        county_code=county,
        region_code=body.region_code,
        status="granted",
        kind="notification",
        source="notice",
        **_defendant(body.defendant),
        matter={
            "category": "notified_defence",
            "cause": body.cause,
            "stage": body.stage,
            "opposing_parties": [],
        },
        summary=body.cause,
        **_granted(body, now),
        notification={
            **body.model_dump(mode="json", exclude={"defendant", "received_at", "receipt_reason"}),
            "received_at": received.at.isoformat(),
        },
        opened_at=now,
        updated_at=now,
        **receipt_values(received, by=actor_of(who), now=now, source="notice"),
        attachments=[],
        special_groups=[],
        missing_items=[],
        deferred_items=[],
        declined_by=[],
        provide_first=False,
    )


def _defendant(d: ApplicantIn) -> dict[str, Any]:
    """The defendant stands as the applicant; the ID number encrypted, indexed and masked."""
    cipher = get_cipher()
    return {
        "applicant_name": d.name,
        "applicant": {
            "name": d.name,
            "gender": d.gender,
            "birth_date": d.birth_date.isoformat() if d.birth_date else None,
        },
        "id_number_enc": cipher.encrypt(d.id_number),
        "id_number_index": cipher.blind_index(d.id_number),
        "id_number_masked": mask_id_number(d.id_number),
    }


def _granted(body: NotificationIn, now: datetime) -> dict[str, Any]:
    """Art 36: granted on the notice — eligible without a means test, decided when received."""
    return {
        "requested_form": "criminal_defence" if body.ground != "compulsory_treatment" else "criminal_agency",
        "grave_penalty": body.ground in domain.GRAVE_GROUNDS,
        "eligibility": {
            "eligible": True,
            "in_scope": True,
            "means_test": "notification",
            "basis": [domain.NOTIFICATION_GROUNDS[body.ground], "通知辩护/代理不审查经济困难状况"],
            "problems": [],
        },
        "decision": {
            "outcome": "grant",
            "basis": ["法律援助法第三十六条：收到通知后指派律师"],
            "decided_at": now.isoformat(),
        },
    }
