"""Recomputing a case's deadlines: a corrected receipt (the period counts from when the application
or referral was received) and a holiday year entered or changed later (民法典 Art 203: a due date
on a holiday rolls to the next working day). Never commits — the caller owns the transaction."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.receipt import correction
from services.mediation import domain
from services.mediation.models import Agreement, Case
from services.mediation.schemas import ReceiptIn
from services.mediation.service import SERVICE, guard, step
from services.mediation.settings import clock_rules


def _start(case: Case) -> date:
    return domain.local_date(case.received_at or case.opened_at)


def _recompute_due(case: Case, cal: WorkCalendar) -> dict[str, Any] | None:
    """The mediation due date again from the receipt, extensions included; what changed, or None."""
    due, basis, extensions = domain.mediation_due(
        case.source, case.court_procedure, _start(case), list(case.extensions or []), cal, clock_rules()
    )
    if (due.due, due.warnings) == (case.due_date, list(case.deadline_warnings or [])):
        return None
    change = {"deadline": "mediation", "from": case.due_date.isoformat() if case.due_date else None}
    case.due_date, case.deadline_warnings, case.deadline_basis = due.due, due.warnings, basis
    case.extensions = extensions
    return change | {"to": due.due.isoformat()}


async def correct_receipt(
    session: AsyncSession, *, case: Case, body: ReceiptIn, who: Principal, now: datetime, cal: WorkCalendar
) -> None:
    """With a reason, audited; the open mediation period is recomputed from the corrected receipt."""
    guard(case, "correct_receipt")
    r = correction(received_at=body.received_at, reason=body.reason, now=now)
    entry = {
        "from": case.received_at.isoformat() if case.received_at else None,
        "to": r.at.isoformat(),
        "reason": r.reason,
        "by": who.staff_id or who.sub,
        "at": now.isoformat(),
    }
    previous = case.receipt or {}
    case.received_at = r.at
    case.receipt = {
        **previous,
        "received_at": r.at.isoformat(),
        "reason": r.reason,
        "backdated": r.backdated,
        "corrections": [*previous.get("corrections", []), entry],
    }
    change = _recompute_due(case, cal)
    await audit.record(
        session,
        service=SERVICE,
        action="mediation.receipt_corrected",
        subject=str(case.id),
        detail={**entry, "deadline": change},
    )
    await step(
        session,
        case,
        "correct_receipt",
        now=now,
        reason=r.reason,
        citizen_text=f"调解申请的收到时间已更正，调解期限相应为 {case.due_date}",
        data={"from": entry["from"], "to": entry["to"], "due_date": str(case.due_date)},
    )


def _recompute_confirmation(case: Case, agreement: Agreement | None, cal: WorkCalendar) -> dict | None:
    """Art 33's 30 days for judicial confirmation, counted again (only while not yet applied for)."""
    c = case.confirmation or {}
    if not (c.get("offered") and c.get("deadline")) or c.get("application") or agreement is None:
        return None
    if agreement.effective_at is None:
        return None
    due = cal.add_days(domain.local_date(agreement.effective_at), domain.CONFIRMATION_DAYS)
    if (due.due.isoformat(), due.warnings) == (c["deadline"], list(c.get("warnings") or [])):
        return None
    case.confirmation = {**c, "deadline": due.due.isoformat(), "warnings": due.warnings}
    return {"deadline": "judicial_confirmation", "from": c["deadline"], "to": due.due.isoformat()}


async def recompute_for_year(session: AsyncSession, *, year: int, cal: WorkCalendar, now: datetime) -> int:
    """Every open deadline whose count went through `year` is computed again: the mediation period
    of open cases and the judicial-confirmation period of agreements not yet taken to court.
    Returns how many cases changed."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    end_of_year = datetime.combine(last, time(23, 59, 59), tzinfo=CHINA_TZ)
    open_cases = select(Case).where(
        Case.status.in_(domain.OPEN_STATUSES), Case.due_date >= first, Case.received_at <= end_of_year
    )
    agreed = (
        select(Case)
        .where(Case.status == "agreed", Case.confirmation["deadline"].astext >= first.isoformat())
        .where(Case.confirmation["application"].is_(None))
    )
    changed = 0
    for q in (open_cases, agreed):
        for case in (await session.scalars(q.order_by(Case.id).with_for_update())).all():
            if case.status == "agreed":
                agreement = await session.scalar(select(Agreement).where(Agreement.case_id == case.id))
                change = _recompute_confirmation(case, agreement, cal)
            elif case.due_date and domain.touches_year(_start(case), case.due_date, year):
                change = _recompute_due(case, cal)
            else:
                change = None
            if change is None:
                continue
            changed += 1
            await audit.record(
                session,
                service=SERVICE,
                action="mediation.deadline_recomputed",
                subject=str(case.id),
                detail={"year": year, **change},
            )
            await step(
                session,
                case,
                "recompute_deadline",
                now=now,
                reason=f"已录入 {year} 年节假日安排（民法典第二百零三条）",
                citizen_text=f"根据 {year} 年节假日安排，期限调整为 {change['to']}",
                data={"year": year, **change},
            )
    return changed
