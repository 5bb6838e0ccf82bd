"""Kafka event → mediation service call: an accepted mediation order opens a case; dispatch's
staff-availability and calendar events keep our copy of mediators and holidays current (and a
holiday year entered later recomputes the open deadlines it affects)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import dispatch
from libs.common.events.envelope import Envelope
from libs.common.handlers import Handlers
from services.mediation import deadlines, service
from services.mediation.calendar_store import load_calendar, store_year
from services.mediation.models import Mediator


def build_handlers(rt: Runtime) -> Handlers:
    async def on_assigned(session: AsyncSession, event: Envelope, data: dispatch.AssignedV1) -> None:
        await service.open_case_from_assignment(
            session, assigned=data, now=rt.clock.now(), cal=await load_calendar(session)
        )

    async def on_availability(
        session: AsyncSession, event: Envelope, data: dispatch.StaffAvailabilityV1
    ) -> None:
        await upsert_mediator(session, data)

    async def on_calendar(
        session: AsyncSession, event: Envelope, year: dispatch.CalendarYearUpdatedV1
    ) -> None:
        await store_year(session, year)
        # The open deadlines that counted through that year (some without its holidays) follow.
        await deadlines.recompute_for_year(
            session, year=year.year, cal=await load_calendar(session), now=rt.clock.now()
        )

    return (
        Handlers()
        .on(dispatch.AssignedV1, on_assigned)
        .on(dispatch.StaffAvailabilityV1, on_availability)
        .on(dispatch.CalendarYearUpdatedV1, on_calendar)
    )


async def upsert_mediator(session: AsyncSession, s: dispatch.StaffAvailabilityV1) -> None:
    """Keep staff who mediate; someone who lost the skill stays on file but inactive. An event older
    than what we hold (redelivery, reordering across partitions) changes nothing."""
    mediates = "mediation" in s.skills or s.role == "mediator"
    values = {
        "staff_id": uuid.UUID(s.staff_id),
        "name": s.name,
        "role": s.role,
        "skills": s.skills,
        "service_point_id": uuid.UUID(s.service_point_id),
        "county_code": s.county_code,
        "region_code": s.region_code,
        "active": s.active and mediates,
        "signed_in": s.signed_in,
        "on_leave_until": s.on_leave_until,
        "slots": [[x.weekday, f"{x.start:%H:%M}", f"{x.end:%H:%M}"] for x in s.slots],
        "as_of": s.at,
    }
    ins = insert(Mediator).values(**values)
    stmt: Any = ins.on_conflict_do_update(
        index_elements=["staff_id"],
        set_={k: ins.excluded[k] for k in values if k != "staff_id"},
        where=(Mediator.as_of.is_(None)) | (Mediator.as_of <= ins.excluded.as_of),
    )
    if not mediates:
        # Not a mediator: only deactivate a row we already hold, never add one.
        stmt = (
            update(Mediator)
            .where(Mediator.staff_id == values["staff_id"])
            .where((Mediator.as_of.is_(None)) | (Mediator.as_of <= s.at))
            .values({k: v for k, v in values.items() if k != "staff_id"})
        )
    await session.execute(stmt)
