"""Supervisor figures for any date range (issue #16): GET /v1/stats/orders — counted by the
database (stats.py), scoped to the caller's jurisdiction, the same for the dashboard and any
other client (a provincial platform pulling monthly figures)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from libs.common.problems import FieldProblem
from services.intake import queries, stats

router = APIRouter(prefix="/v1/stats", tags=["supervision"])
Who = Annotated[Principal, Depends(principal)]

EXAMPLE = {
    "date_from": "2026-11-01",
    "date_to": "2026-11-30",
    "days": 30,
    "region": "1404",
    "totals": {
        "orders": 3120,
        "merged": 41,
        "counted": 3079,
        "closed": 2896,
        "judged": 2896,
        "on_time": 2810,
        "rated": 2204,
        "satisfied": 2101,
        "closure_rate": 0.9406,
        "sla_rate": 0.9703,
        "satisfaction": 0.9533,
        "rating_avg": 4.61,
    },
    "by_channel": {"hotline": 2010, "web": 540, "counter": 480, "external": 90},
    "by_type": {"consultation": 2200, "legal_aid": 480, "mediation": 440},
    "by_day": [{"day": "2026-11-01", "orders": 96}],
    "counties": [
        {"county_code": "140403", "county": "潞州区", "rank": 1, "orders": 610, "closure_rate": 0.96}
    ],
}


def _range(date_from: date, date_to: date) -> stats.Range:
    if date_to < date_from:
        raise FieldProblem("date_to", "结束日期早于开始日期", "date_to is before date_from")
    rng = stats.Range(date_from, date_to)
    if rng.days > stats.MAX_DAYS:
        raise FieldProblem(
            "date_to",
            f"区间最长 {stats.MAX_DAYS} 天，请缩短",
            f"at most {stats.MAX_DAYS} days in one request",
        )
    return rng


@router.get(
    "/orders",
    summary="Figures for a date range: volumes by channel / type / day, 办结率, 及时率, 满意度, by county",
    description="Dates are China calendar days, both inclusive. Only the caller's jurisdiction is "
    "counted (`region` narrows it further); `counties` lists the counties the caller may see, ranked "
    "by closure rate, satisfaction and volume — a county without orders last, with null rates.",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        403: {"description": "region outside the caller's jurisdiction"},
        422: {"description": "date_to before date_from, or a range over 366 days"},
    },
)
async def order_stats(
    request: Request,
    who: Who,
    date_from: Annotated[date, Query(examples=["2026-11-01"])],
    date_to: Annotated[date, Query(examples=["2026-11-30"])],
    region: Annotated[
        str | None,
        Query(max_length=12, pattern=r"^\d{2,12}$", description="区划代码前缀", examples=["140430"]),
    ] = None,
) -> dict[str, Any]:
    rng = _range(date_from, date_to)
    scope = queries.effective_region(who, region)
    if scope is False:
        raise FieldProblem(
            "region", "该区划不在您的辖区内", "this region is outside your jurisdiction", status=403
        )
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        rows = await stats.grouped(session, rng=rng, region=scope or "")
    return stats.fold(rows, rng=rng, region=scope or "")
