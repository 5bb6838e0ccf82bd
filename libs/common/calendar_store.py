"""The one source of the admin-entered holiday years (节假日安排) for every service.

Dispatch is the writer: an admin enters a year there (PUT /v1/calendar/{year}) and dispatch
emits dispatch.calendar_year_updated. Every other service that counts days keeps a copy table,
`calendar_years`, filled from that event — in the database, not in process memory, so every
replica counts with it and a restarted one still knows what was entered (the event is not
replayed). This module owns all of it: the copy's columns (`CalendarYearCopy`, the migration
step in libs.common.calendar_migrations), `store_year` and the cached `load_calendar`.
Dispatch reads its own table (same columns plus who entered it) through the same loader.

The cache (per store and database engine, so per process): a `FrozenCalendar`, shared by every
request, is kept with a version of the table — an md5 of its rows, read in one tiny query
(a handful of rows). The version is checked at most every `max_age` seconds (2 s); between
checks no query at all, as deadline arithmetic runs on every new order. So:
- this process sees a year it stored at once: `store_year` / `written` drop the cached
  version check when the transaction commits (or rolls back), and the transaction that wrote
  reads its own rows, never the shared cache (nor does it fill it with rows not yet committed);
- another replica sees it within `max_age` seconds — a bounded time, with no message between
  replicas; a hand-made UPDATE is covered alike;
- `load_calendar(session, fresh=True)` checks the version now (dispatch's network snapshot does,
  as it reloads only when the network version says something changed).
A content hash, not max(updated_at): two entries of a year within the same second (or with an
injected clock) still differ.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, Table, event, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from libs.common.calendar import FrozenCalendar, YearSchedule
from libs.common.events.dispatch import CalendarYearUpdatedV1

CHECK_SECONDS = 2.0
TABLE_NAME = "calendar_years"


class CalendarYearCopy:
    """Mixin for a service's copy of dispatch's holiday years: `class CalendarYear(CalendarYearCopy,
    Base)`. Days are ISO strings in JSONB, as the event carries them; the table is created by
    libs.common.calendar_migrations.create_calendar_copy, the same in every database."""

    __tablename__ = TABLE_NAME

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[Any]] = mapped_column(JSONB)
    workdays: Mapped[list[Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _day(d: date | str) -> date:
    return d if isinstance(d, date) else date.fromisoformat(d)


def schedule_of(holidays: list[Any], workdays: list[Any]) -> YearSchedule:
    """A stored year (dates, or ISO strings from JSONB) as a YearSchedule."""
    return YearSchedule({_day(d) for d in holidays}, {_day(d) for d in workdays})


@dataclass
class _Cached:
    version: str | None = None
    calendar: FrozenCalendar | None = None
    checked_at: float = float("-inf")
    generation: int = 0  # bumped by every invalidation: a check begun before it is not filed


def _engine_of(session: AsyncSession | Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


class CalendarStore:
    """One service's holiday years: `CalendarStore(CalendarYear)` over a mapped class (or table)
    with the columns year, holidays, workdays, updated_at."""

    def __init__(self, model: Any, *, max_age: float = CHECK_SECONDS) -> None:
        self.table: Table = model if isinstance(model, Table) else model.__table__
        self.max_age = max_age
        self.clock = time.monotonic
        self._caches: weakref.WeakKeyDictionary[Engine, _Cached] = weakref.WeakKeyDictionary()
        self._mark = f"lawline.calendar_written.{self.table.name}"  # session.info key
        # Whole rows as text, in year order: any change to any row changes the hash.
        self._version = text(
            f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.year), '')) FROM {self.table.name} t"
        )

    # ---- writing ---------------------------------------------------------------------

    async def store_year(self, session: AsyncSession, data: CalendarYearUpdatedV1) -> bool:
        """Upsert a copy's year from the event; an older update arriving late never overwrites a
        newer one (an equal one — a redelivery — rewrites the same). True if it was applied."""
        c = self.table.c
        ins = insert(self.table).values(
            year=data.year,
            holidays=[d.isoformat() for d in sorted(data.holidays)],
            workdays=[d.isoformat() for d in sorted(data.workdays)],
            updated_at=data.updated_at,
        )
        upsert = ins.on_conflict_do_update(
            index_elements=[c.year],
            set_={k: ins.excluded[k] for k in ("holidays", "workdays", "updated_at")},
            where=c.updated_at <= ins.excluded.updated_at,
        ).returning(c.year)
        applied = (await session.execute(upsert)).first() is not None
        self.written(session)
        return applied

    def written(self, session: AsyncSession) -> None:
        """This transaction changed the table (store_year, or dispatch's admin write): it reads
        its own rows from now on, and this process checks the version again once it ends."""
        sync = session.sync_session
        engine = _engine_of(session)
        self._invalidate(engine)
        if sync.info.get(self._mark):
            return
        sync.info[self._mark] = True

        def ended(s: Session, *_: Any) -> None:
            s.info.pop(self._mark, None)
            self._invalidate(engine)

        event.listen(sync, "after_commit", ended, once=True)
        event.listen(sync, "after_rollback", ended, once=True)

    def _invalidate(self, engine: Engine) -> None:
        cached = self._caches.get(engine)
        if cached is not None:
            cached.checked_at, cached.generation = float("-inf"), cached.generation + 1

    # ---- reading ---------------------------------------------------------------------

    async def load_calendar(self, session: AsyncSession, *, fresh: bool = False) -> FrozenCalendar:
        """The admin-entered years (chinese-calendar and the warned fallback cover the rest), as a
        shared FrozenCalendar: see the module docstring for how current it is."""
        if session.sync_session.info.get(self._mark):
            return await self._read(session)  # uncommitted rows: this transaction's own view
        engine = _engine_of(session)
        cached = self._caches.get(engine)
        if cached is None:
            cached = self._caches[engine] = _Cached()
        now = self.clock()
        if not fresh and cached.calendar is not None and now - cached.checked_at < self.max_age:
            return cached.calendar
        generation = cached.generation
        version = await session.scalar(self._version)
        if cached.calendar is not None and version == cached.version:
            calendar = cached.calendar
        else:
            calendar = await self._read(session)  # rows after the version: never older than it
        if cached.generation == generation:
            cached.version, cached.calendar, cached.checked_at = version, calendar, now
        return calendar

    async def _read(self, session: AsyncSession) -> FrozenCalendar:
        c = self.table.c
        rows = await session.execute(select(c.year, c.holidays, c.workdays))
        return FrozenCalendar({r.year: schedule_of(r.holidays, r.workdays) for r in rows})
