"""Intake's own clock: when the citizen must hear back (回拨). Dispatch keeps the statutory and
hotline clocks of the routing itself (services/dispatch/clocks.py). Working days count with the
admin-entered holiday years (intake's copy, services/intake/calendar_store.load_calendar), which
the caller passes in: this stays pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from services.intake.settings import IntakeSettings


def callback_due(
    now: datetime, urgency: str, s: IntakeSettings, cal: WorkCalendar
) -> tuple[datetime, list[str]]:
    """When the citizen must hear back: urgent within hours, otherwise N working days (end of day)."""
    if urgency != "normal":
        return now + timedelta(hours=s.urgent_callback_hours), []
    return workdays_end(now, s.callback_workdays, cal)


def workdays_end(now: datetime, days: int, cal: WorkCalendar) -> tuple[datetime, list[str]]:
    """The end (23:59:59 local) of the `days`-th working day after `now`, and its warnings."""
    deadline = cal.add_workdays(now.astimezone(CHINA_TZ).date(), days)
    due = datetime.combine(deadline.due, datetime.max.time().replace(microsecond=0), tzinfo=CHINA_TZ)
    return due, deadline.warnings
