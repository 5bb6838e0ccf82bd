"""Mediation's copy of the admin-entered holiday years (from dispatch.calendar_year_updated) and
the WorkCalendar built from it. In the database, not in one process's memory: every replica
counts with it, and a restarted one still knows what was entered (the event is not replayed)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.calendar import WorkCalendar, YearSchedule
from libs.common.events.dispatch import CalendarYearUpdatedV1
from services.mediation.models import CalendarYear


async def store_year(session: AsyncSession, data: CalendarYearUpdatedV1) -> None:
    """Upsert; an older update arriving late never overwrites a newer one."""
    values = {
        "year": data.year,
        "holidays": [d.isoformat() for d in sorted(data.holidays)],
        "workdays": [d.isoformat() for d in sorted(data.workdays)],
        "updated_at": data.updated_at,
    }
    stmt = insert(CalendarYear).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["year"],
            set_={k: stmt.excluded[k] for k in ("holidays", "workdays", "updated_at")},
            where=CalendarYear.updated_at <= stmt.excluded.updated_at,
        )
    )


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    rows = (await session.scalars(select(CalendarYear))).all()
    return WorkCalendar(
        {
            r.year: YearSchedule(
                holidays={date.fromisoformat(d) for d in r.holidays},
                workdays={date.fromisoformat(d) for d in r.workdays},
            )
            for r in rows
        }
    )
