"""The demo month's plan (scripts/demo_history/plan.py): pure, the same for the same seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from libs.common import regions
from libs.common.clock import CHINA_TZ
from scripts.demo_history.plan import DEMO_MARK, build_plan, summary

START = date(2026, 11, 2)


def test_same_seed_same_plan_other_seed_other_plan():
    a, b = build_plan(start=START), build_plan(start=START)
    assert a == b
    assert summary(a) == summary(b)
    assert build_plan(start=START, seed=7) != a


def test_a_month_on_every_channel_and_type_weighted_to_the_big_counties():
    plan = build_plan(start=START, days=30, per_day=15)
    orders = plan.orders
    assert 300 <= len(orders) <= 500
    s = summary(plan)
    assert set(s["channel"]) == {"hotline", "web", "counter", "external"}
    assert {"consultation", "legal_aid", "mediation", "notarization", "complaint"} <= set(s["service_type"])
    assert {"accept", "reject", "ignore", "ignore_then_assign"} <= set(s["response"])
    assert all(o.description.startswith(DEMO_MARK) for o in orders)
    assert all(regions.county_of(o.region_code) == o.county for o in orders)
    assert all(regions.lookup(o.region_code) for o in orders)
    by_county = {c: sum(o.county == c for o in orders) for c in {o.county for o in orders}}
    assert len(by_county) == 12 and by_county["140403"] > by_county["140425"]  # 潞州区 > 平顺县
    # Weekends: hotline and web only, and fewer.
    weekend = [o for o in orders if plan.day_date(o.day).weekday() >= 5]
    assert weekend and {o.channel for o in weekend} <= {"hotline", "web"}
    # Later steps never fall on a weekend, and come after the filing.
    for o in orders:
        for step in o.steps:
            assert plan.day_date(step.day).weekday() < 5 and step.day > o.day
    assert any(o.repeat_of for o in orders)  # a caller calling again (并单)
    assert plan.today and all(o.day == plan.days for o in plan.today)


def test_today_is_china_today():
    # The plan's last history day is yesterday in China, whatever the machine's zone.
    now = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 December in China
    assert now.astimezone(CHINA_TZ).date().isoformat() == "2026-12-02"
    plan = build_plan(start=now.astimezone(CHINA_TZ).date() - timedelta(days=30), days=30)
    assert plan.day_date(plan.days).isoformat() == "2026-12-02"
