"""Kafka event → aid service call: an accepted legal_aid order opens a case; the admin-entered
holiday schedule is copied into aid's own table and the open clocks it affects are recomputed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import dispatch
from libs.common.events.envelope import Envelope
from libs.common.handlers import Handlers
from services.aid import service
from services.aid.calendar_store import load_calendar, store_year
from services.aid.service_receipt import recompute_for_year


def build_handlers(rt: Runtime) -> Handlers:
    async def on_assigned(session: AsyncSession, event: Envelope, data: dispatch.AssignedV1) -> None:
        cal = await load_calendar(session)
        await service.open_case_from_assignment(session, assigned=data, now=rt.clock.now(), cal=cal)

    async def on_calendar(
        session: AsyncSession, event: Envelope, year: dispatch.CalendarYearUpdatedV1
    ) -> None:
        await store_year(session, year)
        # The open clocks that counted through that year (some without its holidays) follow.
        await recompute_for_year(
            session,
            year=year.year,
            cal=await load_calendar(session),
            now=rt.clock.now(),
            rules=rt.ext.rules,
        )

    return Handlers().on(dispatch.AssignedV1, on_assigned).on(dispatch.CalendarYearUpdatedV1, on_calendar)
