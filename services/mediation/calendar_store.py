"""Mediation's copy of the admin-entered holiday years (dispatch.calendar_year_updated): the shared
store (libs.common.calendar_store) over mediation's table. In the database, not in one process's
memory: every replica counts with it, and a restarted one still knows what was entered."""

from __future__ import annotations

from libs.common.calendar_store import CalendarStore
from services.mediation.models import CalendarYear

STORE = CalendarStore(CalendarYear)
store_year = STORE.store_year
load_calendar = STORE.load_calendar
