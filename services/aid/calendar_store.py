"""Aid's copy of the admin-entered holiday years (dispatch.calendar_year_updated): the shared store
(libs.common.calendar_store) over aid's table — so aid counts days exactly as dispatch does,
without calling it, and without reading the table on every request."""

from __future__ import annotations

from libs.common.calendar_store import CalendarStore
from services.aid.models import CalendarYear

STORE = CalendarStore(CalendarYear)
store_year = STORE.store_year
load_calendar = STORE.load_calendar
