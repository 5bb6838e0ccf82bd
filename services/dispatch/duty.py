"""Duty rosters (值班) — pure: when is a person on duty, and when next.

Two kinds of weekly slot:
- `weekly` (the office roster): on working days only, so the holiday calendar (调休
  included) decides; a make-up working day on a weekend takes Monday's roster. A pattern
  covering all seven weekdays (12348 hotline seats) runs through holidays too.
- `on_call` (a 7×24 rota, e.g. the city centre's 值班律师 and duty aid officers in turns):
  on that weekday of every week, weekends and public holidays included — the hotline's
  7×24 norm is exactly that nobody's holiday leaves an hour uncovered.
Dated roster exceptions (extra duty, a day or hours off) and leave apply to both kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from libs.common.clock import CHINA_TZ

if TYPE_CHECKING:
    from services.dispatch.domain import StaffView

HORIZON_DAYS = 14
SLOT_KINDS = ("weekly", "on_call")
END_OF_DAY = time.max  # a shift "until midnight" ends at 23:59:59.999999 (time has no 24:00)


@dataclass(frozen=True)
class Slot:
    weekday: int
    start: time
    end: time
    kind: str = "weekly"  # weekly | on_call (see the module docstring)


@dataclass(frozen=True)
class DatedSlot:
    """A roster exception on one date: extra duty, or a day off (start/end None = all day)."""

    day: date
    kind: str  # "extra" | "off"
    start: time | None = None
    end: time | None = None


def _always_on(slots: list[Slot]) -> bool:
    # A 7-day pattern (12348 hotline seats) runs through holidays too.
    return len(slots) >= 7 and len({s.weekday for s in slots}) == 7


def _by_weekday(slots: list[Slot]) -> dict[int, list[tuple[time, time]]]:
    out: dict[int, list[tuple[time, time]]] = {}
    for w in slots:
        out.setdefault(w.weekday, []).append((w.start, w.end))
    for windows in out.values():
        windows.sort()
    return out


class Week:
    """One person's weekly pattern as the sorted windows each weekday can give, worked out
    once per next_duty() call instead of filtering every slot again for each date."""

    __slots__ = ("always", "days", "rota", "any")

    def __init__(self, slots: list[Slot]) -> None:
        office = [s for s in slots if s.kind != "on_call"]
        self.always = _always_on(office)
        get = _by_weekday(office).get
        if self.always:
            self.days = tuple(get(d, ()) for d in range(7))
        else:
            # A make-up working day (调休) on a weekend: the notices name no weekday, so the
            # office week's first day (Monday) roster applies — county centres open as usual.
            monday = get(0, ())
            self.days = (monday, get(1, ()), get(2, ()), get(3, ()), get(4, ()), monday, monday)
        rota = _by_weekday([s for s in slots if s.kind == "on_call"]).get
        self.rota: tuple[Sequence[tuple[time, time]], ...] = tuple(rota(d, ()) for d in range(7))
        self.any = tuple(bool(self.days[d] or self.rota[d]) for d in range(7))

    def on(self, day: date, is_workday: Callable[[date], bool]) -> Sequence[tuple[time, time]]:
        """Office windows on working days (every day for a 7-day pattern), on-call windows
        every day. The calendar is only asked when the office pattern has something that day."""
        weekday = day.weekday()
        windows = self.days[weekday]
        if windows and not self.always and not is_workday(day):
            windows = ()
        rota = self.rota[weekday]
        if not rota:
            return windows
        return sorted([*windows, *rota]) if windows else rota


def on_leave(s: StaffView, day: date) -> bool:
    return any(a <= day <= b for a, b in s.leave)


def windows(
    s: StaffView, day: date, is_workday: Callable[[date], bool], week: Week
) -> Sequence[tuple[time, time]]:
    """Duty windows of one local date with the weekly pattern prepared; sorted, and possibly
    shared: read only. Weekly pattern, minus days off, plus extras."""
    if s.leave and on_leave(s, day):
        return ()
    if not s.exceptions:  # most people: the weekly pattern is the whole answer
        return week.on(day, is_workday)
    exc = [e for e in s.exceptions if e.day == day]
    if not exc:
        return week.on(day, is_workday)
    if any(e.kind == "off" and e.start is None for e in exc):
        return ()
    offs = [(e.start, e.end) for e in exc if e.kind == "off" and e.start is not None and e.end is not None]
    out = [w for w in week.on(day, is_workday) if not any(o[0] <= w[0] and w[1] <= o[1] for o in offs)]
    out += [(e.start, e.end) for e in exc if e.kind == "extra" and e.start and e.end]
    return sorted(out)


def next_duty(
    s: StaffView, at: datetime, local: datetime, is_workday: Callable[[date], bool]
) -> datetime | None:
    """When this person is next on duty (`at` itself if on duty now) within the horizon;
    `local` is `at` in local time (decide() converts it once, not per person)."""
    if not s.active:
        return None
    today, week = local.date(), Week(s.slots)
    if s.signed_in is None:
        clock = local.time()
        # Sorted by start: a window holding the clock comes before any that starts later.
        for start, end in windows(s, today, is_workday, week):  # none while on leave
            if start <= clock < end:
                return at
            if start > clock:
                return datetime.combine(today, start, tzinfo=CHINA_TZ)
    elif s.signed_in and not on_leave(s, today):  # 签到/签退 beats the roster for today
        return at
    # Nothing more today (or signed out for the day): the first window of a later date.
    # Without leave or exceptions only the weekly pattern can give one, so weekdays on which
    # it has nothing are passed over without building the date or asking the calendar.
    plain, weekday = not s.leave and not s.exceptions, today.weekday()
    for offset in range(1, HORIZON_DAYS):
        if plain and not week.any[(weekday + offset) % 7]:
            continue
        day = today + timedelta(days=offset)
        found = windows(s, day, is_workday, week)
        if found:
            return datetime.combine(day, found[0][0], tzinfo=CHINA_TZ)
    return None
