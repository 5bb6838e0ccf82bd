"""Demo roster of legal-aid lawyers: the shared demo network's lawyers, same ids as dispatch staff."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import demo_network
from services.aid.models import Lawyer


async def seed(session: AsyncSession) -> None:
    _, staff = demo_network.build()
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "firm": s.firm,
            "practice_years": s.practice_years,
            "county_code": s.point.county_code,
            "region_code": s.point.region_code,
            "demo": True,
        }
        for s in staff
        if s.role == "lawyer" and s.point.county_code
    ]
    await session.execute(insert(Lawyer).values(rows).on_conflict_do_nothing(index_elements=["id"]))
