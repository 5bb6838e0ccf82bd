"""Working-hours and workday-at arithmetic added to libs.common.calendar (public API unchanged)."""

from __future__ import annotations

from datetime import date, datetime

from libs.common.calendar import Deadline, WorkCalendar, YearSchedule
from libs.common.clock import CHINA_TZ


def at(y, m, d, h=10, mi=0):  # type: ignore[no-untyped-def]
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


def test_working_hours_skip_nights_weekends_and_holidays():
    cal = WorkCalendar()
    assert cal.add_working_hours(at(2026, 11, 24, 9), 2).due == at(2026, 11, 24, 11)
    # Friday 16:00 + 3 h = 1.5 h Friday, 1.5 h Monday from 08:30.
    assert cal.add_working_hours(at(2026, 11, 27, 16), 3).due == at(2026, 11, 30, 10)
    # Before opening counts from opening.
    assert cal.add_working_hours(at(2026, 11, 24, 6), 1).due == at(2026, 11, 24, 9, 30)
    # National Day 2026 is 10-01..07 (chinese-calendar knows 2026): half an hour each side of it.
    assert cal.add_working_hours(at(2026, 9, 30, 17), 1).due == at(2026, 10, 8, 9)


def test_workdays_at_keeps_the_time_of_day_and_the_stable_api_still_works():
    # An entered year replaces the fallback entirely: the admin lists every holiday.
    cal = WorkCalendar({2027: YearSchedule(holidays={date(2027, 1, 1), date(2027, 1, 4)})})
    assert cal.add_workdays_at(at(2026, 12, 31, 15), 1).due == at(2027, 1, 5, 15)
    d = cal.add_days(date(2026, 12, 28), 7)
    assert isinstance(d, Deadline) and d.due == date(2027, 1, 5) and d.warnings == []
    assert cal.next_workday(date(2027, 1, 2)) == date(2027, 1, 5) and not cal.is_workday(date(2027, 1, 4))


def test_an_admin_entered_year_replaces_what_was_memoised():
    cal = WorkCalendar()
    monday = date(2031, 3, 3)  # beyond chinese-calendar's data: the warned fallback answers
    assert cal.is_workday(monday) is True
    cal.set_year(2031, YearSchedule(holidays={monday}))
    assert cal.is_workday(monday) is False  # not the memoised answer
    assert cal.add_workdays(date(2031, 2, 28), 1).due == date(2031, 3, 4)
