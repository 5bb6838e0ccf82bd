"""The pure fold of intake's grouped figures (services/intake/stats.py)."""

from __future__ import annotations

from datetime import date

from services.intake import stats

NOV = stats.Range(date(2026, 11, 1), date(2026, 11, 30))


def row(county: str, channel: str = "hotline", kind: str = "consultation", day: int = 3, **n) -> dict:  # type: ignore[no-untyped-def]
    base = {
        k: 0
        for k in (
            "orders",
            "merged",
            "cancelled",
            "closed",
            "judged",
            "on_time",
            "rated",
            "satisfied",
            "rating_sum",
        )
    }
    return {
        "county_code": county,
        "channel": channel,
        "service_type": kind,
        "day": date(2026, 11, day),
        **base,
        **n,
    }


def test_totals_rates_breakdowns_and_days():
    rows = [
        row(
            "140403",
            orders=11,
            merged=2,
            cancelled=1,
            closed=6,
            judged=6,
            on_time=5,
            rated=4,
            satisfied=3,
            rating_sum=17,
        ),
        row("140403", channel="web", kind="legal_aid", day=30, orders=2, closed=2, judged=1, on_time=1),
        row("140430", channel="counter", orders=4, closed=4, rated=2, satisfied=2, rating_sum=10),
    ]
    out = stats.fold(rows, rng=NOV, region="1404")
    t = out["totals"]
    assert (t["orders"], t["counted"], t["closed"]) == (17, 14, 12)
    assert t["closure_rate"] == round(12 / 14, 4)  # neither merged nor cancelled orders count
    assert t["sla_rate"] == round(6 / 7, 4) and t["satisfaction"] == round(5 / 6, 4)
    assert t["rating_avg"] == round(27 / 6, 2)
    assert out["by_channel"] == {"hotline": 11, "web": 2, "counter": 4, "external": 0}
    assert list(out["by_type"]) == ["consultation", "legal_aid"]
    assert len(out["by_day"]) == 30 and out["by_day"][2] == {"day": "2026-11-03", "orders": 15}
    assert out["by_day"][29]["orders"] == 2


def test_counties_visible_ranked_and_silent_ones_last_without_false_zeros():
    rows = [
        row("140403", orders=10, closed=5),
        row("140430", orders=4, closed=4),
    ]
    city = stats.fold(rows, rng=NOV, region="1404")["counties"]
    assert len(city) == 12  # every county of 长治 for the city
    assert [c["county_code"] for c in city[:2]] == ["140430", "140403"]
    silent = city[2]
    assert silent["orders"] == 0 and silent["closure_rate"] is None and silent["satisfaction"] is None
    assert [c["rank"] for c in city] == list(range(1, 13))
    county = stats.fold(rows[1:], rng=NOV, region="140430")["counties"]
    assert [(c["county_code"], c["county"], c["rank"]) for c in county] == [("140430", "沁县", 1)]
    township = stats.fold([], rng=NOV, region="140430003")["counties"]
    assert [c["county_code"] for c in township] == ["140430"]


def test_range_days_and_bounds_are_china_days():
    r = stats.Range(date(2026, 11, 30), date(2026, 12, 1))
    assert r.days == 2
    assert r.start.isoformat() == "2026-11-30T00:00:00+08:00"
    assert r.end.isoformat() == "2026-12-02T00:00:00+08:00"
