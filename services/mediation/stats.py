"""The figures the seeds report: cases by source and type, success rate, average duration,
per committee and per county — always inside the caller's jurisdiction."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal, region_filter
from libs.common.clock import CHINA_TZ
from services.mediation import domain
from services.mediation.models import Case, Committee

_AGREED = Case.outcome.in_(("agreed_written", "agreed_oral"))
_FAILED = Case.outcome == "failed"


def _metrics() -> list[Any]:
    duration = func.extract("epoch", Case.concluded_at - Case.opened_at) / 86400.0
    return [
        func.count().label("total"),
        func.count().filter(_AGREED).label("agreed"),
        func.count().filter(_FAILED).label("failed"),
        func.count().filter(Case.outcome == "refused").label("refused"),
        func.count().filter(Case.status.in_(domain.OPEN_STATUSES)).label("open"),
        func.avg(when((_AGREED | _FAILED, duration))).label("avg_days"),
    ]


def _figures(row: Any) -> dict[str, Any]:
    return {
        "total": row.total,
        "agreed": row.agreed,
        "failed": row.failed,
        "refused": row.refused,
        "open": row.open,
        "success_rate": domain.success_rate(row.agreed, row.failed),
        "avg_duration_days": round(float(row.avg_days), 2) if row.avg_days is not None else None,
    }


async def statistics(
    session: AsyncSession,
    *,
    who: Principal,
    county_code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    top_committees: int = 50,
) -> dict[str, Any]:
    where = [region_filter(Case.region_code, who)]
    if county_code:
        where.append(Case.county_code == county_code)
    if date_from:
        where.append(Case.opened_at >= datetime.combine(date_from, time(0), CHINA_TZ))
    if date_to:
        where.append(Case.opened_at < datetime.combine(date_to, time(23, 59, 59, 999999), CHINA_TZ))

    totals = (await session.execute(select(*_metrics()).where(*where))).one()
    out: dict[str, Any] = _figures(totals)
    for name, col, labels in (
        ("by_source", Case.source, domain.SOURCES),
        ("by_dispute_type", Case.dispute_type, domain.DISPUTE_TYPES),
        ("by_court_procedure", Case.court_procedure, domain.COURT_PROCEDURES),
    ):
        rows = (await session.execute(select(col, *_metrics()).where(*where).group_by(col))).all()
        out[name] = [
            {"code": r[0], "name": labels.get(r[0], r[0]), **_figures(r)} for r in rows if r[0] is not None
        ]
    counties = (
        await session.execute(select(Case.county_code, *_metrics()).where(*where).group_by(Case.county_code))
    ).all()
    out["by_county"] = [
        {
            "county_code": r[0],
            "name": getattr(regions.lookup(r[0]), "name", r[0]),
            **_figures(r),
        }
        for r in sorted(counties, key=lambda r: r[0])
    ]
    committees = (
        await session.execute(
            select(Committee.id, Committee.name, Committee.kind, *_metrics())
            .join(Committee, Committee.id == Case.committee_id)
            .where(*where)
            .group_by(Committee.id, Committee.name, Committee.kind)
            .order_by(func.count().desc())
            .limit(top_committees)
        )
    ).all()
    out["by_committee"] = [
        {"committee_id": str(r[0]), "name": r[1], "kind": r[2], **_figures(r)} for r in committees
    ]
    return out
