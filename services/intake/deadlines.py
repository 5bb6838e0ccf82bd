"""Intake's own clock: when the citizen must hear back (回拨). Dispatch keeps the statutory and
hotline clocks of the routing itself (services/dispatch/clocks.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from libs.common.calendar import DEFAULT_CALENDAR
from libs.common.clock import CHINA_TZ
from services.intake.settings import IntakeSettings


def callback_due(now: datetime, urgency: str, s: IntakeSettings) -> tuple[datetime, list[str]]:
    """When the citizen must hear back: urgent within hours, otherwise N working days (end of day)."""
    if urgency != "normal":
        return now + timedelta(hours=s.urgent_callback_hours), []
    deadline = DEFAULT_CALENDAR.add_workdays(now.astimezone(CHINA_TZ).date(), s.callback_workdays)
    due = datetime.combine(deadline.due, datetime.max.time().replace(microsecond=0), tzinfo=CHINA_TZ)
    return due, deadline.warnings
