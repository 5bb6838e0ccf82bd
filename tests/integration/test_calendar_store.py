"""The one holiday-year store (libs.common.calendar_store, issue #18 item 4) on the real database:
an older event never overwrites a newer one; a restarted process (a new engine) still knows the
year; the cache sees a new year — at once in the process that stored it, within `max_age` on
another replica, never one that was rolled back; dispatch's own table through the same loader."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta

from alembic import command
from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from libs.common import migrate
from libs.common.calendar_store import CalendarStore
from libs.common.clock import CHINA_TZ
from libs.common.events.dispatch import CalendarYearUpdatedV1
from services.aid.models import CalendarYear as AidYear
from services.dispatch.models import CalendarYear as DispatchYear
from services.intake.models import CalendarYear

T = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
NEW_YEAR, MONDAY_4 = date(2027, 1, 1), date(2027, 1, 4)  # test data, not the real 2027 schedule


def year(holidays: list[date], at: datetime, workdays: list[date] | None = None) -> CalendarYearUpdatedV1:
    return CalendarYearUpdatedV1(year=2027, holidays=holidays, workdays=workdays or [], updated_at=at)


@contextlib.asynccontextmanager
async def process(url: str):  # type: ignore[no-untyped-def]
    """One service process: its own engine (the cache is per engine) and sessionmaker."""
    engine = create_async_engine(url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


class Ticking:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_older_event_never_overwrites_and_a_restarted_process_still_knows(infra):
    url = await infra.fresh_database("intake", seed=False)  # the 0008 migration made the table
    store = CalendarStore(CalendarYear)
    async with process(url) as sm:
        async with sm() as s, s.begin():
            assert await store.store_year(s, year([NEW_YEAR, MONDAY_4], T)) is True
        async with sm() as s, s.begin():  # an older update, redelivered late: ignored
            assert await store.store_year(s, year([NEW_YEAR], T - timedelta(days=1))) is False
        async with sm() as s:
            cal = await store.load_calendar(s)
        assert not cal.is_workday(MONDAY_4) and cal.warnings_for(MONDAY_4, MONDAY_4) == []

    # A restart: a new process and a new store (nothing in memory), the same database.
    async with process(url) as sm:
        async with sm() as s:
            cal = await CalendarStore(CalendarYear).load_calendar(s)
            row = await s.get(CalendarYear, 2027)
        assert not cal.is_workday(MONDAY_4) and row.holidays == ["2027-01-01", "2027-01-04"]


async def test_the_cache_sees_a_new_year(infra):
    url = await infra.fresh_database("intake", seed=False)
    here, there = CalendarStore(CalendarYear), CalendarStore(CalendarYear)  # two replicas
    clock = there.clock = Ticking()
    async with process(url) as sm_here, process(url) as sm_there:
        async with sm_there() as s:
            before = await there.load_calendar(s)
        assert before.is_workday(MONDAY_4) and before.warnings_for(MONDAY_4, MONDAY_4)  # 2027 unknown
        async with sm_there() as s:
            assert await there.load_calendar(s) is before  # cached: one shared FrozenCalendar

        # The transaction that stores reads its own year; nobody else sees it before the commit.
        async with sm_here() as s, s.begin():
            await here.store_year(s, year([MONDAY_4], T))
            assert not (await here.load_calendar(s)).is_workday(MONDAY_4)
            async with sm_here() as other:
                assert (await here.load_calendar(other)).is_workday(MONDAY_4)
        # The process that stored it: at once after the commit.
        async with sm_here() as s:
            assert not (await here.load_calendar(s)).is_workday(MONDAY_4)

        # Another replica: within max_age, with no message between them.
        async with sm_there() as s:
            assert await there.load_calendar(s) is before
            clock.t += there.max_age
            after = await there.load_calendar(s)
        assert not after.is_workday(MONDAY_4) and after.warnings_for(MONDAY_4, MONDAY_4) == []
        async with sm_there() as s:  # version unchanged: the same calendar, no reload
            clock.t += there.max_age
            assert await there.load_calendar(s) is after

        # A rolled-back write is never cached; a hand-made UPDATE is seen like any other change.
        async with sm_here() as s:
            await here.store_year(s, year([], T + timedelta(hours=1)))
            await s.rollback()
        async with sm_here() as s:
            assert not (await here.load_calendar(s)).is_workday(MONDAY_4)
        async with sm_here() as s, s.begin():
            await s.execute(update(CalendarYear).values(holidays=[]))
        async with sm_there() as s:
            clock.t += there.max_age
            assert (await there.load_calendar(s)).is_workday(MONDAY_4)


async def test_dispatch_reads_its_own_table_through_the_same_loader(infra):
    url = await infra.fresh_database("dispatch", seed=False)
    store = CalendarStore(DispatchYear)
    async with process(url) as sm:
        async with sm() as s:
            assert (await store.load_calendar(s)).is_workday(MONDAY_4)
        async with sm() as s, s.begin():  # dispatch's admin write: dates, and who entered them
            await s.execute(
                insert(DispatchYear).values(
                    year=2027, holidays=[NEW_YEAR, MONDAY_4], workdays=[date(2027, 1, 9)], updated_at=T
                )
            )
            store.written(s)
            assert not (await store.load_calendar(s)).is_workday(MONDAY_4)
        async with sm() as s:
            cal = await store.load_calendar(s)
        assert not cal.is_workday(MONDAY_4) and cal.is_workday(date(2027, 1, 9))  # Saturday 调休
        # The same content written again at the same instant (an injected clock) is one version;
        # a change at the same instant is another (the version hashes the rows, not the time).
        async with sm() as s, s.begin():
            await s.execute(update(DispatchYear).values(holidays=[NEW_YEAR]))
        async with sm() as s:
            assert (await store.load_calendar(s, fresh=True)).is_workday(MONDAY_4)


async def test_every_service_migration_creates_the_same_copy_table(infra):
    query = text(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'calendar_years' ORDER BY ordinal_position"
    )
    shapes = {}
    for service in ("aid", "mediation", "intake"):
        async with process(await infra.fresh_database(service, seed=False)) as sm, sm() as s:
            shapes[service] = (await s.execute(query)).all()
    assert shapes["aid"] == shapes["mediation"] == shapes["intake"]
    assert [r[0] for r in shapes["intake"]] == ["year", "holidays", "workdays", "updated_at"]


async def test_aid_0004_keeps_every_row_and_goes_back_cleanly(infra):
    url = await infra.fresh_database("aid", seed=False)
    default = text(
        "SELECT column_default FROM information_schema.columns WHERE table_name = 'calendar_years'"
    )
    async with process(url) as sm:
        async with sm() as s, s.begin():
            await CalendarStore(AidYear).store_year(s, year([MONDAY_4], T))
        await asyncio.to_thread(command.downgrade, migrate.alembic_config("aid", url), "0003")
        async with sm() as s:
            assert "nextval" in (await s.scalar(default) or "")
        await asyncio.to_thread(migrate.upgrade, "aid", url)
        async with sm() as s:
            assert await s.scalar(default) is None
            assert (await s.get(AidYear, 2027)).holidays == ["2027-01-04"]
