"""The legal start of a case's clocks: when the application or notice was RECEIVED (法律援助法
Art 43 "自收到法律援助申请之日起七日内", Art 36 "收到通知后三日内"), entered by staff with a reason when
it was before the day of entry, audited, and correctable later — and the open clocks that count
from it, or from a holiday year entered later, recomputed. Never commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.orm import get_present
from libs.common.receipt import Receipt, correction, local_day
from services.aid import domain
from services.aid.models import Case, CaseClock, CaseLog
from services.aid.schemas import ReceiptIn
from services.aid.settings import AidRules
from services.aid.workflow import SERVICE, actor_of, actor_ref, guard, step


def receipt_values(r: Receipt, *, by: str, now: datetime, source: str) -> dict[str, Any]:
    """The columns a new case takes from its receipt."""
    return {
        "received_at": r.at,
        "received_on": local_day(r.at),
        "receipt": {**r.record(by=by, entered_at=now, source=source), "corrections": []},
    }


async def audit_entered(session: AsyncSession, case: Case, r: Receipt) -> None:
    """A receipt staff typed in (above all one before the day of entry) moves statutory clocks:
    who entered which time, and why, goes into the tamper-evident trail."""
    if not (r.entered or r.backdated):
        return
    await audit.record(
        session,
        service=SERVICE,
        action="aid.receipt_entered",
        subject=str(case.id),
        detail={"received_at": r.at.isoformat(), "reason": r.reason, "backdated": r.backdated},
    )


def _recompute(clock: CaseClock, start: date, cal: WorkCalendar, rules: AidRules, today: date) -> dict | None:
    """New due (民法典 Art 201/203 from `start`) for one open clock; what changed, or None."""
    due = cal.add_days(start, domain.clock_days(clock.name, clock.days, rules))
    if (start, due.due, due.warnings) == (clock.started_on, clock.due, list(clock.warnings or [])):
        return None
    change = {"clock": clock.name, "from": clock.due.isoformat(), "to": due.due.isoformat()}
    clock.started_on, clock.due, clock.warnings = start, due.due, due.warnings
    if clock.breached_at is not None and not domain.breached(due.due, today):
        clock.breached_at = None  # no longer run out: supervised again against the new due date
    return change


def _mirror(case: Case, clock: CaseClock) -> None:
    """Due dates the case shows besides its clocks."""
    if clock.name == "supplement":
        case.supplement_due = clock.due
    if clock.name == "objection" and case.objection:
        case.objection = {**case.objection, "due": clock.due.isoformat()}


async def _open_clocks(session: AsyncSession, *where: Any) -> list[CaseClock]:
    q = select(CaseClock).where(CaseClock.met_at.is_(None), CaseClock.cancelled_at.is_(None), *where)
    return list((await session.scalars(q.order_by(CaseClock.case_id, CaseClock.id).with_for_update())).all())


async def correct_receipt(
    session: AsyncSession,
    *,
    case: Case,
    body: ReceiptIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
    reason_field: str = "reason",
) -> Case:
    """A later correction (a date typed wrong, the post-room's stamp found): with a reason, audited,
    and every open clock that counts from the receipt recomputed. `reason_field`: the field a
    missing reason is reported on (receipt_reason when it comes with the application)."""
    guard(case, "correct_receipt")
    r = correction(received_at=body.received_at, reason=body.reason, now=now, reason_field=reason_field)
    before = case.received_at
    case.received_at, case.received_on = r.at, local_day(r.at)
    entry = {
        "from": before.isoformat() if before else None,
        "to": r.at.isoformat(),
        "reason": r.reason,
        "by": actor_of(who),
        "at": now.isoformat(),
    }
    previous = case.receipt or {}
    case.receipt = {
        **previous,
        "received_at": r.at.isoformat(),
        "reason": r.reason,
        "backdated": r.backdated,
        "corrections": [*previous.get("corrections", []), entry],
    }
    if case.kind == "notification" and case.notification:
        case.notification = {**case.notification, "received_at": r.at.isoformat()}
    today = local_day(now)
    changes = []
    for clock in await _open_clocks(
        session, CaseClock.case_id == case.id, CaseClock.counts_from == domain.RECEIPT
    ):
        if (change := _recompute(clock, case.received_on, cal, rules, today)) is not None:
            _mirror(case, clock)
            changes.append(change)
    await audit.record(
        session,
        service=SERVICE,
        action="aid.receipt_corrected",
        subject=str(case.id),
        detail={**entry, "clocks": changes},
    )
    await step(
        session,
        case,
        "correct_receipt",
        now=now,
        actor=actor_ref(who),
        reason=r.reason,
        details={"from": entry["from"], "to": entry["to"], "clocks": changes},
    )
    return case


async def recompute_for_year(
    session: AsyncSession, *, year: int, cal: WorkCalendar, now: datetime, rules: AidRules
) -> int:
    """An admin entered or changed `year`'s holidays (dispatch.calendar_year_updated): every open
    clock whose count went through that year is computed again — the due date may move (民法典
    Art 203: a due date on a holiday rolls to the next working day) and the "computed without the
    year's holidays" warning goes. Returns how many clocks changed."""
    today = local_day(now)
    touched = await _open_clocks(
        session, CaseClock.started_on <= date(year, 12, 31), CaseClock.due >= date(year, 1, 1)
    )
    by_case: dict[Any, list[dict]] = {}
    for clock in touched:
        if not domain.touches_year(clock.started_on, clock.due, year):
            continue
        if (change := _recompute(clock, clock.started_on, cal, rules, today)) is not None:
            case = await get_present(session, Case, clock.case_id)
            _mirror(case, clock)
            by_case.setdefault(case, []).append(change)
    for case, changes in by_case.items():
        session.add(
            CaseLog(
                case_id=case.id,
                action="recompute_clocks",
                from_state=case.status,
                to_state=case.status,
                actor="system",
                reason=f"已录入 {year} 年节假日安排，期限重新计算（民法典第二百零三条）",
                details={"year": year, "clocks": changes},
                at=now,
            )
        )
        await audit.record(
            session,
            service=SERVICE,
            action="aid.clocks_recomputed",
            subject=str(case.id),
            detail={"year": year, "clocks": changes},
        )
    return sum(len(c) for c in by_case.values())
