"""Service and statutory clocks of a work order — pure, unit-tested.

Hotline rule (Shandong 2017; provincial, so it lives in policy.yaml): transfer the
order within 1 working day, an urgent (or critical) one within 1 hour; tell the caller the result
within 5 working days, at most 15 with approval (a supervisor's, extensions.py). Legal aid: decide within 7 days of
the application (法律援助法 Art 43), natural days per 民法典 Art 201/203 (start day not
counted, a deadline on a holiday rolls to the next working day).
Working days come from the holiday calendar (调休 included); a year nobody entered
gives a deadline with a visible warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.common.calendar import WorkCalendar
from services.dispatch.policy import ClockRule, Policy, Rung

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
    *, status_: str, transfer_due: datetime | None, reply_due: datetime | None, extended: bool = False
) -> tuple[str, datetime | None]:
    """Which clock is ticking: before assignment the transfer clock, after it the reply clock —
    "max" once a supervisor approved the extension to the 15-working-day limit."""
    if status_ in ("new", "offered", "escalated", "queued"):
        return "transfer", transfer_due
    return ("max" if extended else "reply"), reply_due


def reply_due(c: Clocks, *, extended: bool) -> datetime:
    """The reply deadline in force: the ordinary one, or the maximum after an approved extension."""
    return c.max_due if extended else c.reply_due


def extension_problem(
    rule: ClockRule, *, assigned: bool, now: datetime, due: datetime | None
) -> tuple[str, str] | None:
    """Why the reply clock of an order cannot be extended now (zh, en), or None.
    - The hotline rule allows up to max_workdays "with approval"; a statutory period counted in
      natural days (法律援助法 Art 43: decide within 7 days) has no extension in the law.
    - Only a running reply clock (the order accepted) can be extended, and only before it ran out."""
    if rule.reply_natural_days:
        return (
            "该类工单的答复期限为法定期限（如法律援助法第四十三条七日内作出决定），不得延长",
            "this reply period is statutory (e.g. 法律援助法 Art 43) and cannot be extended",
        )
    if not assigned:
        return "工单尚未被接单，答复期限尚未起算", "the order is not accepted yet: no reply clock is running"
    if due is not None and now >= due:
        return "答复期限已届满，须在届满前申请延期", "the reply period has run out: ask before it does"
    return None
