"""Service and statutory clocks of a work order — pure, unit-tested.

Hotline rule (Shandong 2017; provincial, so it lives in policy.yaml): transfer the
order within 1 working day, an urgent (or critical) one within 1 hour; tell the caller the result
within 5 working days, at most 15 with approval. Legal aid: decide within 7 days of
the application (法律援助法 Art 43), natural days per 民法典 Art 201/203 (start day not
counted, a deadline on a holiday rolls to the next working day).
Working days come from the holiday calendar (调休 included); a year nobody entered
gives a deadline with a visible warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.common.calendar import WorkCalendar
from services.dispatch.policy import Policy, Rung

CLOCKS = ("transfer", "reply", "max")


@dataclass
class Clocks:
    transfer_due: datetime
    reply_due: datetime
    max_due: datetime
    warnings: list[str] = field(default_factory=list)


def order_clocks(
    *, received_at: datetime, service_type: str, urgency: str, policy: Policy, calendar: WorkCalendar
) -> Clocks:
    r = policy.clock(service_type)
    warnings: list[str] = []
    hours = r.transfer_hours(urgency)  # urgent and critical alike (libs.common.urgency)
    if hours is not None:
        transfer = received_at + timedelta(hours=hours)  # 12348 is 7×24: natural hours
    else:
        t = calendar.add_workdays_at(received_at, r.transfer_workdays)
        transfer, warnings = t.due, warnings + t.warnings
    if r.reply_natural_days:
        rep = calendar.add_days_at(received_at, r.reply_workdays)  # 法律援助法 Art 43 (7 days)
    else:
        rep = calendar.add_workdays_at(received_at, r.reply_workdays)
    mx = calendar.add_workdays_at(received_at, r.max_workdays)
    for w in rep.warnings + mx.warnings:
        if w not in warnings:
            warnings.append(w)
    return Clocks(transfer, rep.due, max(mx.due, rep.due), warnings)


def status(now: datetime, start: datetime, due: datetime | None, at_risk_fraction: float) -> str:
    """ok | at_risk (most of the time used) | overdue."""
    if due is None:
        return "ok"
    if now >= due:
        return "overdue"
    total = (due - start).total_seconds()
    used = (now - start).total_seconds()
    return "at_risk" if total > 0 and used / total >= at_risk_fraction else "ok"


def rung(now: datetime, due: datetime, ladder: tuple[Rung, ...]) -> Rung | None:
    """The highest rung of the escalation ladder reached by a breach (None: not breached)."""
    if now < due:
        return None
    late_hours = (now - due).total_seconds() / 3600
    reached = [r for r in ladder if late_hours >= r.after_hours]
    return max(reached, key=lambda r: r.level) if reached else None


def running_clock(
    *, status_: str, transfer_due: datetime | None, reply_due: datetime | None
) -> tuple[str, datetime | None]:
    """Which clock is ticking: before assignment the transfer clock, after it the reply clock."""
    if status_ in ("new", "offered", "escalated", "queued"):
        return "transfer", transfer_due
    return "reply", reply_due
