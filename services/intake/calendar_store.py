"""Intake's copy of the admin-entered holiday years (dispatch.calendar_year_updated): the shared
store (libs.common.calendar_store) over intake's table, so the callback deadline (回拨) counts
the holidays and 调休 workdays an admin entered in dispatch."""

from __future__ import annotations

from libs.common.calendar_store import CalendarStore
from services.intake.models import CalendarYear

STORE = CalendarStore(CalendarYear)
store_year = STORE.store_year
load_calendar = STORE.load_calendar
