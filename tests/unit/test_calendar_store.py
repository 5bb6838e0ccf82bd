"""The shared holiday-year store's pure parts (libs.common.calendar_store; the database side is
tests/integration/test_calendar_store.py): a shared calendar cannot be changed in place, stored
days read back from JSONB strings and from dates alike, and intake handles the calendar event
itself instead of folding or ignoring it."""

from __future__ import annotations

from datetime import date

import pytest

from libs.common.calendar import FrozenCalendar, WorkCalendar, YearSchedule
from libs.common.calendar_store import CalendarStore, schedule_of
from libs.common.events import dispatch
from services.intake.handlers import build_handlers
from services.intake.models import CalendarYear


def test_a_shared_calendar_is_never_changed_in_place():
    cal = FrozenCalendar({2027: YearSchedule({date(2027, 1, 4)})})
    with pytest.raises(TypeError):
        cal.set_year(2027, YearSchedule())
    assert not cal.is_workday(date(2027, 1, 4))
    assert cal.warnings_for(date(2030, 1, 1), date(2030, 1, 2)) == WorkCalendar().warnings_for(
        date(2030, 1, 1), date(2030, 1, 2)
    )


def test_stored_days_read_back_from_iso_strings_and_dates():
    as_json = schedule_of(["2027-01-04"], ["2027-01-09"])
    as_dates = schedule_of([date(2027, 1, 4)], [date(2027, 1, 9)])
    assert as_json == as_dates == YearSchedule({date(2027, 1, 4)}, {date(2027, 1, 9)})


def test_every_copy_has_the_same_table():
    from services.aid.models import CalendarYear as AidYear
    from services.mediation.models import CalendarYear as MediationYear

    def shape(model) -> list[tuple[str, str, bool, bool]]:  # type: ignore[no-untyped-def]
        t = model.__table__
        return [(c.name, str(c.type), c.nullable, c.primary_key) for c in t.columns]

    assert shape(CalendarYear) == shape(AidYear) == shape(MediationYear)
    assert CalendarStore(CalendarYear).table.name == "calendar_years"


def test_intake_stores_the_calendar_event_rather_than_folding_it():
    table = build_handlers(None)  # type: ignore[arg-type]
    own = table.get(dispatch.CALENDAR_YEAR_UPDATED)
    assert own is not None and own is not table.get(dispatch.OFFERED)
