"""The figures the seeds report: cases by source and type, success rate, average duration,
per committee and per county — always inside the caller's jurisdiction."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select, tuple_
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
    where = _where(who, county_code, date_from, date_to)

    # One scan for every breakdown: GROUPING SETS, with grouping() telling the sets apart.
    dims = {
        "by_source": Case.source,
        "by_dispute_type": Case.dispute_type,
        "by_court_procedure": Case.court_procedure,
        "by_county": Case.county_code,
        "by_committee": Case.committee_id,
    }
    flags = [func.grouping(col).label(f"g_{name}") for name, col in dims.items()]
    sets = func.grouping_sets(tuple_(), *(tuple_(col) for col in dims.values()))
    rows = (
        await session.execute(select(*dims.values(), *flags, *_metrics()).where(*where).group_by(sets))
    ).all()
    out: dict[str, Any] = {name: [] for name in dims}
    for r in rows:
        m = r._mapping
        grouped = [name for name in dims if m[f"g_{name}"] == 0]
        if not grouped:
            out.update(_figures(r))
            continue
        name = grouped[0]
        key = m[dims[name]]
        if key is not None:
            out[name].append((key, _figures(r)))
    _name_codes(out)
    top = sorted(out["by_committee"], key=lambda kf: -kf[1]["total"])[:top_committees]
    found = {
        c.id: c
        for c in (await session.scalars(select(Committee).where(Committee.id.in_([k for k, _ in top])))).all()
    }
    out["by_committee"] = [
        {"committee_id": str(k), "name": found[k].name, "kind": found[k].kind, **f}
        for k, f in top
        if k in found
    ]
    return out


def _where(
    who: Principal, county_code: str | None, date_from: date | None, date_to: date | None
) -> list[Any]:
    """The viewer's jurisdiction, the county asked for, and the opening days (China time)."""
    where = [region_filter(Case.region_code, who)]
    if county_code:
        where.append(Case.county_code == county_code)
    if date_from:
        where.append(Case.opened_at >= datetime.combine(date_from, time(0), CHINA_TZ))
    if date_to:
        where.append(Case.opened_at < datetime.combine(date_to, time(23, 59, 59, 999999), CHINA_TZ))
    return where


def _name_codes(out: dict[str, Any]) -> None:
    """Each coded breakdown sorted by code and given its Chinese name (a county its region name)."""
    labels = {
        "by_source": domain.SOURCES,
        "by_dispute_type": domain.DISPUTE_TYPES,
        "by_court_procedure": domain.COURT_PROCEDURES,
    }
    for name, names in labels.items():
        out[name] = [{"code": k, "name": names.get(k, k), **f} for k, f in sorted(out[name])]
    out["by_county"] = [
        {"county_code": k, "name": getattr(regions.lookup(k), "name", k), **f}
        for k, f in sorted(out["by_county"])
    ]
