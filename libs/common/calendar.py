"""Working days and statutory day counting for China.

- 民法典 Art 201: a period counted in days starts the day AFTER the triggering event.
- 民法典 Art 203: a period whose last day is a statutory holiday ends on the first
  working day after it.
- Holidays and make-up workdays (调休) come from an admin-maintained table per year;
  for years not in the table, PyPI `chinese-calendar` (it knows 2004–2026); for a year
  neither knows, weekends plus the fixed-date statutory holidays (1 Jan, 1 May, 1–3 Oct)
  — and every deadline computed that way carries a visible warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar

from libs.common.bilingual import Text

_CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # = clock.CHINA_TZ (no import cycle)
FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}
FALLBACK_WARNING = Text(
    "{year} 年的节假日安排尚未录入，按周末及固定节日推算，请管理员补录",
    "holiday schedule for {year} not entered yet; computed from weekends and fixed holidays",
)


@dataclass
class YearSchedule:
    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)  # make-up working days on weekends (调休)


@dataclass
class Deadline:
    due: date
    warnings: list[str]


class WorkCalendar:
    def __init__(self, table: dict[int, YearSchedule] | None = None) -> None:
        self.table = table or {}
        # Memos per instance (a changed year table means a new WorkCalendar): every new order
        # asks for the same few dates, and chinese-calendar's lookups cost ~0.1 ms each.
        self._workday: dict[date, bool] = {}
        self._sources: dict[int, str] = {}

    def set_year(self, year: int, schedule: YearSchedule) -> None:
        """An admin-entered year replaces what was known about it (memos included)."""
        self.table[year] = schedule
        self._workday = {d: v for d, v in self._workday.items() if d.year != year}
        self._sources.pop(year, None)

    def _source(self, d: date) -> str:
        if (known := self._sources.get(d.year)) is None:
            known = self._sources[d.year] = self._year_source(d)
        return known

    def _year_source(self, d: date) -> str:
        if d.year in self.table:
            return "table"
        try:
            chinese_calendar.is_workday(d)
            return "library"
        except NotImplementedError:
            return "fallback"

    def is_workday(self, d: date) -> bool:
        if (known := self._workday.get(d)) is None:
            known = self._workday[d] = self._is_workday(d)
        return known

    def _is_workday(self, d: date) -> bool:
        source = self._source(d)
        if source == "table":
            sched = self.table[d.year]
            if d in sched.workdays:
                return True
            if d in sched.holidays:
                return False
            return d.weekday() < 5
        if source == "library":
            return chinese_calendar.is_workday(d)
        return d.weekday() < 5 and (d.month, d.day) not in FIXED_HOLIDAYS

    def warnings_for(self, start: date, end: date) -> list[str]:
        years = {y for y in range(start.year, end.year + 1) if self._source(date(y, 6, 1)) == "fallback"}
        # Joined (str): a deadline's warnings are stored and published as text.
        return [str(FALLBACK_WARNING.format(year=y)) for y in sorted(years)]

    def next_workday(self, d: date) -> date:
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d

    def add_days(self, start: date, days: int) -> Deadline:
        """Natural-day period per 民法典 Art 201/203: start day excluded, roll past holidays."""
        due = self.next_workday(start + timedelta(days=days))
        return Deadline(due, self.warnings_for(start, due))

    def add_workdays(self, start: date, days: int) -> Deadline:
        """Period counted in working days (hotline rules): start day excluded."""
        d, left = start, days
        while left > 0:
            d += timedelta(days=1)
            if self.is_workday(d):
                left -= 1
        return Deadline(d, self.warnings_for(start, d))

    def add_workdays_at(self, start: datetime, days: int) -> DeadlineAt:
        """`days` working days after `start`, at the same local time of day (hotline rule
        "transfer within 1 working day"): start day excluded, like add_workdays."""
        local = start.astimezone(_CHINA_TZ)
        d = self.add_workdays(local.date(), days)
        return DeadlineAt(datetime.combine(d.due, local.timetz()), d.warnings)

    def add_days_at(self, start: datetime, days: int) -> DeadlineAt:
        """Natural-day period (民法典 Art 201/203) ending at the end of the due working day."""
        local = start.astimezone(_CHINA_TZ)
        d = self.add_days(local.date(), days)
        return DeadlineAt(datetime.combine(d.due, time(23, 59, 59), tzinfo=_CHINA_TZ), d.warnings)

    def add_working_hours(
        self, start: datetime, hours: float, *, day: tuple[time, time] = (time(8, 30), time(17, 30))
    ) -> DeadlineAt:
        """Office-hours arithmetic: only time inside `day` on working days counts."""
        left = timedelta(hours=hours)
        t = start.astimezone(_CHINA_TZ)
        while True:
            open_at = datetime.combine(t.date(), day[0], tzinfo=_CHINA_TZ)
            close_at = datetime.combine(t.date(), day[1], tzinfo=_CHINA_TZ)
            if self.is_workday(t.date()) and t < close_at:
                t = max(t, open_at)
                if t + left <= close_at:
                    t += left
                    break
                left -= close_at - t
            t = datetime.combine(t.date() + timedelta(days=1), day[0], tzinfo=_CHINA_TZ)
        return DeadlineAt(t, self.warnings_for(start.date(), t.date()))


@dataclass
class DeadlineAt:
    due: datetime
    warnings: list[str]


class FrozenCalendar(WorkCalendar):
    """A WorkCalendar whose table never changes once loaded, so its answers can be kept and the
    instance shared by every request of a process (libs.common.calendar_store caches these):
    deadline arithmetic asks the same few dates thousands of times a minute. A changed year
    means a new FrozenCalendar, never set_year on a shared one."""

    def __init__(self, table: dict[int, YearSchedule] | None = None) -> None:
        super().__init__(table)
        self._warnings: dict[tuple[int, int], list[str]] = {}

    def set_year(self, year: int, schedule: YearSchedule) -> None:
        raise TypeError("a FrozenCalendar is shared: load a new one (calendar_store) instead")

    def warnings_for(self, start: date, end: date) -> list[str]:
        # Depends on the years only; every deadline computed asks for it.
        key = (start.year, end.year)
        known = self._warnings.get(key)
        if known is None:
            known = self._warnings[key] = super().warnings_for(start, end)
        return list(known)


def schedule_from_days(holidays: list[date], workdays: list[date]) -> YearSchedule:
    return YearSchedule(set(holidays), set(workdays))


DEFAULT_CALENDAR = WorkCalendar()
