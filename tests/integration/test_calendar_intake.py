"""A holiday year entered by an admin in dispatch reaches intake's callback deadline (回拨, issue #18
item 4): dispatch emits dispatch.calendar_year_updated, intake stores it in its copy
(libs.common.calendar_store) and counts new orders' callback deadlines with it — and a restarted
intake still knows the year (the event is not replayed). Dispatch and intake on a private broker,
each on its own real database; injected clock."""

from __future__ import annotations

import contextlib
import itertools
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.events.dispatch import CALENDAR_YEAR_UPDATED
from libs.common.pipeline_tables import PIPELINE_STATE
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, wait_for
from services.dispatch.main import create_app as dispatch_app
from services.dispatch.models import CalendarYear as DispatchYear
from services.dispatch.models import outbox as dispatch_outbox
from services.intake.main import create_app as intake_app
from services.intake.models import CalendarYear
from tests.integration.intake_helpers import order

MONDAY = datetime(2026, 12, 28, 10, 0, tzinfo=CHINA_TZ)
# Test data for 2027 (not the State Council's real schedule): New Year's Day, and a 调休 swap that
# makes Monday 4 January a holiday and Saturday 9 January a working day.
YEAR_2027 = {"holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-09"]}
WARNING = "2027 年的节假日安排尚未录入"
OPERATOR = auth("operator", region="1404")
PHONES = itertools.count(7001)


@contextlib.asynccontextmanager
async def running(make, url, broker, clock):  # type: ignore[no-untyped-def]
    svc = await serve(make.__module__, make(db_url=url, bootstrap=broker.bootstrap, clock=clock))
    try:
        yield svc
    finally:
        await svc.stop()


def end_of(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T23:59:59+08:00")


async def callback_due(intake) -> tuple[datetime, list[str]]:  # type: ignore[no-untyped-def]
    """A new ordinary web order's callback deadline (5 working days, end of day) and warnings."""
    # A different caller each time: the same one again would be linked to the first order (并单).
    phone = f"1383456{next(PHONES):04d}"
    body = order(
        service_type="consultation",
        description="咨询房屋租赁合同到期后押金退还的问题",
        requester={"name": "李明", "phone": phone},
    )
    async with intake.client(headers=OPERATOR) as c:
        r = await c.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        got = (await c.get(f"/v1/work-orders/{created['id']}")).json()
    (task,) = [t for t in got["tasks"] if t["kind"] == "callback"]
    assert task["due_at"] == got["due_at"]
    # The calendar's own warnings (a classification warning is another matter).
    return datetime.fromisoformat(got["due_at"]), [
        w["code"] for w in created["warnings"] if w["code"].startswith("calendar")
    ]


async def test_a_holiday_entered_in_dispatch_moves_intakes_callback_deadline(infra):
    clock = FrozenClock(MONDAY)
    broker = EmbeddedBroker(free_port()).start()
    try:
        dispatch_url, intake_url = [await infra.fresh_database(s) for s in ("dispatch", "intake")]
        async with running(dispatch_app, dispatch_url, broker, clock) as dispatch:
            async with running(intake_app, intake_url, broker, clock) as intake:
                await consumers_ready(dispatch, intake)
                # 2027 unknown (chinese-calendar ends with 2026): Dec 29, 30, 31, Jan 4, 5, warned.
                due, warnings = await callback_due(intake)
                assert due == end_of("2027-01-05") and "calendar_fallback" in warnings

                async with dispatch.client(headers=auth("admin", region="")) as admin:
                    r = await admin.put("/v1/calendar/2027", json=YEAR_2027)
                    assert r.status_code == 200, r.text

                async def stored():  # type: ignore[no-untyped-def]
                    async with intake.rt.sessionmaker() as s:
                        return await s.get(CalendarYear, 2027)

                await wait_for(stored, what="intake's copy of 2027")
                # Jan 4 is a holiday now: Dec 29, 30, 31, Jan 5, 6; no warning.
                assert await callback_due(intake) == (end_of("2027-01-06"), [])

            # A restarted intake: nothing in memory, the event not replayed — the table knows.
            async with running(intake_app, intake_url, broker, clock) as intake:
                assert await callback_due(intake) == (end_of("2027-01-06"), [])
    finally:
        broker.stop()


async def test_years_entered_before_intake_kept_a_copy_reach_it_once(infra):
    """Intake's copy (0008) starts empty while dispatch already holds the years: dispatch
    announces them once (network.announce_calendar_once), not at every start."""
    clock = FrozenClock(MONDAY)
    broker = EmbeddedBroker(free_port()).start()
    try:
        dispatch_url, intake_url = [await infra.fresh_database(s) for s in ("dispatch", "intake")]
        engine = create_async_engine(dispatch_url)
        try:
            async with engine.begin() as conn:  # entered before this version of dispatch ran
                await conn.execute(
                    insert(DispatchYear).values(
                        year=2027,
                        holidays=[date(2027, 1, 1), date(2027, 1, 4)],
                        workdays=[],
                        updated_at=MONDAY,
                    )
                )
                await conn.execute(delete(PIPELINE_STATE).where(PIPELINE_STATE.c.key == "calendar.copies"))
            announced = (
                select(func.count())
                .select_from(dispatch_outbox)
                .where(dispatch_outbox.c.event["type"].astext == CALENDAR_YEAR_UPDATED)
            )
            async with running(intake_app, intake_url, broker, clock) as intake:
                for _ in range(2):  # a restart of dispatch announces nothing again
                    async with running(dispatch_app, dispatch_url, broker, clock) as dispatch:
                        await consumers_ready(dispatch, intake)

                        async def stored():  # type: ignore[no-untyped-def]
                            async with intake.rt.sessionmaker() as s:
                                return await s.get(CalendarYear, 2027)

                        assert (await wait_for(stored, what="intake's copy of 2027")).holidays == [
                            "2027-01-01",
                            "2027-01-04",
                        ]
                        assert await callback_due(intake) == (end_of("2027-01-06"), [])
                async with engine.connect() as conn:
                    assert await conn.scalar(announced) == 1
        finally:
            await engine.dispose()
    finally:
        broker.stop()
