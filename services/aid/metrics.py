"""Aid's business figures on `/metrics` (libs.common.db_figures: read at scrape time, cached):
cases by state (ix_cases_status) and the statutory clocks past their due day — 法律援助法 Art 43
(decide within 7 days), Art 44 / the supplement and objection periods (services/aid/rules.yaml)
— neither met nor cancelled, whether or not the sweeper has flagged them yet."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.db_figures import case_gauges
from services.aid.models import Case, CaseClock
from services.aid.workflow import local_day


async def figures(conn: AsyncConnection, now: datetime, service: str) -> list[Metric]:
    cases = (await conn.execute(select(Case.status, func.count()).group_by(Case.status))).all()
    c = CaseClock
    overdue = (
        await conn.execute(
            select(c.name, func.count())
            .where(c.met_at.is_(None), c.cancelled_at.is_(None), c.due < local_day(now))
            .group_by(c.name)
        )
    ).all()
    return case_gauges(service, ((r[:1], r[1]) for r in cases), ((r[:1], r[1]) for r in overdue))
