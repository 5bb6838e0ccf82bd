"""The supervisor dashboard's figures, from intake's aggregate (GET /v1/stats/orders) — pure.

Intake counts; this module only chooses the period, scales the target and shapes the tiles, the
charts and the ranking with their drill-down links into the order list."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

MAX_DAYS = 366  # intake's limit for one request


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def whole_month(self) -> bool:
        return (
            self.first.day == 1 and self.last.day == calendar.monthrange(self.last.year, self.last.month)[1]
        )


@dataclass
class PeriodChoice:
    period: Period
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # field → (zh, en)


DEFAULT_DAYS = 30


def choose_period(date_from: str | None, date_to: str | None, *, today: date) -> PeriodChoice:
    """The dashboard's date range: the last 30 days unless the supervisor picked one (本月 on the
    2nd would be two days of figures; 本月 and 上月 are a click away). A bad pick keeps the
    default figures on screen and says beside the field what is wrong."""
    default = Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
    errors: dict[str, tuple[str, str]] = {}
    picked: dict[str, date] = {}
    for name, raw in (("from", date_from), ("to", date_to)):
        if not raw:
            continue
        try:
            picked[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = ("日期格式应为 年-月-日", "use the date picker (YYYY-MM-DD)")
    if errors:
        return PeriodChoice(default, errors)
    first = picked.get("from", default.first)
    last = picked.get("to", max(first, default.last) if "from" in picked else default.last)
    if last < first:
        return PeriodChoice(default, {"to": ("结束日期不能早于开始日期", "the end is before the start")})
    if (last - first).days + 1 > MAX_DAYS:
        return PeriodChoice(default, {"to": (f"最长 {MAX_DAYS} 天", f"at most {MAX_DAYS} days")})
    return PeriodChoice(Period(first, last))


def drill(period: Period, **filters: str) -> str:
    """A link to the order list showing exactly the orders behind a figure."""
    q = {"created_from": period.first.isoformat(), "created_to": period.last.isoformat(), **filters}
    return "/orders?" + urlencode({k: v for k, v in q.items() if v})


@dataclass
class Dashboard:
    period: Period
    today: int
    today_by_channel: dict[str, int]
    today_by_type: dict[str, int]
    total: int
    closed: int
    closure_rate: float | None
    sla_rate: float | None
    satisfaction: float | None
    rating_avg: float | None
    rated: int
    target: int
    completion: float | None
    by_day: list[dict[str, Any]]
    ranking: list[dict[str, Any]]
    links: dict[str, str]


def dashboard(stats: dict, today_stats: dict, *, period: Period, monthly_target_per_county: int) -> Dashboard:
    t = stats.get("totals") or {}
    counties = stats.get("counties") or []
    # 完成率: closed orders against the target of the counties this viewer answers for, the
    # monthly target taken pro rata for the period's days (30 days: one month's).
    target = round(monthly_target_per_county * max(1, len(counties)) * period.days / 30)
    ranking = [{**c, "link": drill(period, region_prefix=c["county_code"])} for c in counties]
    return Dashboard(
        period=period,
        today=int((today_stats.get("totals") or {}).get("orders", 0)),
        today_by_channel=dict(today_stats.get("by_channel") or {}),
        today_by_type=dict(today_stats.get("by_type") or {}),
        total=int(t.get("orders", 0)),
        closed=int(t.get("closed", 0)),
        closure_rate=t.get("closure_rate"),
        sla_rate=t.get("sla_rate"),
        satisfaction=t.get("satisfaction"),
        rating_avg=t.get("rating_avg"),
        rated=int(t.get("rated", 0)),
        target=target,
        completion=round(t.get("closed", 0) / target, 4) if target else None,
        by_day=list(stats.get("by_day") or []),
        ranking=ranking,
        links={
            "today": drill(Period(*(date.fromisoformat(today_stats[k]) for k in ("date_from", "date_to"))))
            if today_stats.get("date_from")
            else drill(period),
            "total": drill(period),
            "closed": drill(period, status="closed"),
        },
    )
