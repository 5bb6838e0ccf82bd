"""Mediation's business figures on `/metrics` (libs.common.db_figures: read at scrape time,
cached): cases by state (ix_cases_status) and open cases past their mediation period's due day
(ix_cases_open_due; the period and its basis are the case's own, services/mediation/deadlines.py)
— the same families as aid's, told apart by `service`."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.db_figures import case_gauges
from services.mediation import domain
from services.mediation.models import Case


async def figures(conn: AsyncConnection, now: datetime, service: str) -> list[Metric]:
    cases = (await conn.execute(select(Case.status, func.count()).group_by(Case.status))).all()
    overdue = (
        await conn.execute(
            select(func.count()).where(
                Case.status.in_(domain.OPEN_STATUSES), Case.due_date < domain.local_date(now)
            )
        )
    ).scalar_one()
    return case_gauges(service, ((r[:1], r[1]) for r in cases), [(("mediation",), overdue)])
