"""Supervisor figures (办结率, 及时率, 满意度, volumes) for any date range, counted by the database.

The console used to page every order of the month and fetch the closed ones one by one (silently
partial beyond 2,000, issue #16). Here one grouped query returns at most counties × channels ×
types × days rows, whatever the number of orders, and `fold` — pure, unit-tested — turns them
into the figures. Days are China days (the 12348 norms count local calendar days; a UTC day would
move an evening order to the next day). Scoped to the caller's jurisdiction: a county supervisor
gets their county only, never eleven other counties at false zeros."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from services.intake import domain
from services.intake.models import WorkOrder
from services.intake.queries import prefix_match

CHINA = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 366  # a year at most in one request: the by-day series stays a screenful
SATISFIED_FROM = 4  # 满意度: ratings of 4 or 5 out of 5 count as satisfied


@dataclass(frozen=True)
class Range:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), CHINA)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), CHINA)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _zero() -> dict[str, int]:
    return {
        "orders": 0, "merged": 0, "cancelled": 0, "closed": 0, "judged": 0, "on_time": 0, "rated": 0,
        "satisfied": 0,
    }  # fmt: skip


def _summary(acc: dict[str, int], rating_sum: int) -> dict[str, Any]:
    # A merged order is the same matter as its parent; a cancelled one was filed by mistake.
    counted = acc["orders"] - acc["merged"] - acc["cancelled"]
    return {
        **acc,
        "counted": counted,
        "closure_rate": _rate(acc["closed"], counted),
        "sla_rate": _rate(acc["on_time"], acc["judged"]),
        "satisfaction": _rate(acc["satisfied"], acc["rated"]),
        "rating_avg": round(rating_sum / acc["rated"], 2) if acc["rated"] else None,
    }


def visible_counties(region: str) -> list[regions.Region]:
    """The counties a viewer of `region` may see: all of the city for the city, one for a county
    or anyone below it (a township station sees its county's figure, filtered to itself)."""
    return [c for c in regions.counties() if c.code.startswith(region[:6])]


def fold(rows: list[dict], *, rng: Range, region: str) -> dict[str, Any]:
    """Grouped rows (county, channel, type, day, counts) → totals, breakdowns, the county table."""
    total = _zero()
    rating_sum = 0
    by_channel: dict[str, int] = defaultdict(int)
    by_type: dict[str, int] = defaultdict(int)
    by_day: dict[date, int] = defaultdict(int)
    county_acc: dict[str, dict[str, int]] = defaultdict(_zero)
    county_rating: dict[str, int] = defaultdict(int)
    for r in rows:
        for k in total:
            total[k] += r[k]
            county_acc[r["county_code"]][k] += r[k]
        rating_sum += r["rating_sum"]
        county_rating[r["county_code"]] += r["rating_sum"]
        by_channel[r["channel"]] += r["orders"]
        by_type[r["service_type"]] += r["orders"]
        by_day[r["day"]] += r["orders"]
    counties = []
    for c in visible_counties(region):
        row = _summary(county_acc.get(c.code, _zero()), county_rating.get(c.code, 0))
        counties.append({"county_code": c.code, "county": c.name, **row})
    # 排名通报: closure rate, then satisfaction, then volume. A county with no orders ranks last
    # (its rates are "—", not 0 %), so a silent county is visible without passing for a bad one.
    counties.sort(
        key=lambda r: (
            r["counted"] == 0,
            -(r["closure_rate"] or 0),
            -(r["satisfaction"] or 0),
            -r["orders"],
            r["county_code"],
        )
    )
    for i, r in enumerate(counties, 1):
        r["rank"] = i
    return {
        "date_from": rng.first.isoformat(),
        "date_to": rng.last.isoformat(),
        "days": rng.days,
        "region": region,
        "totals": _summary(total, rating_sum),
        "by_channel": {ch: by_channel.get(ch, 0) for ch in ("hotline", "web", "counter", "external")},
        "by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_day": [
            {
                "day": (rng.first + timedelta(days=i)).isoformat(),
                "orders": by_day.get(rng.first + timedelta(i), 0),
            }
            for i in range(rng.days)
        ],
        "counties": counties,
    }


async def grouped(session: AsyncSession, *, rng: Range, region: str) -> list[dict]:
    o = WorkOrder
    day = cast(func.timezone("Asia/Shanghai", o.created_at), Date).label("day")
    closed = o.status == domain.CLOSED
    judged = and_(closed, o.due_at.is_not(None), o.closed_at.is_not(None))

    def count_if(cond) -> Any:  # type: ignore[no-untyped-def]
        return func.count(case((cond, 1)))

    q = select(
        o.county_code,
        o.channel,
        o.service_type,
        day,
        func.count().label("orders"),
        count_if(o.status == domain.MERGED).label("merged"),
        count_if(o.status == domain.CANCELLED).label("cancelled"),
        count_if(closed).label("closed"),
        count_if(judged).label("judged"),
        count_if(and_(judged, o.closed_at <= o.due_at)).label("on_time"),
        count_if(o.rating_score.is_not(None)).label("rated"),
        count_if(o.rating_score >= SATISFIED_FROM).label("satisfied"),
        func.coalesce(func.sum(o.rating_score), 0).label("rating_sum"),
    ).where(o.created_at >= rng.start, o.created_at < rng.end)
    if region:
        q = q.where(prefix_match(o.region_code, region))
    q = q.group_by(o.county_code, o.channel, o.service_type, day)
    return [dict(r._mapping) for r in (await session.execute(q)).all()]
