"""The supervisor's period, figures and exports (services/console/figures.py, exports.py): pure."""

from __future__ import annotations

from datetime import date, datetime

from services.console import exports, figures

TODAY = date(2026, 12, 2)


def test_period_defaults_to_this_month_and_bad_picks_say_which_field():
    p = figures.choose_period(None, None, today=TODAY)
    assert (p.period.first, p.period.last, p.errors) == (date(2026, 11, 3), TODAY, {})  # last 30 days
    nov = figures.choose_period("2026-11-01", "2026-11-30", today=TODAY).period
    assert nov.whole_month and nov.days == 30
    assert figures.choose_period("2026-10-15", "2026-11-14", today=TODAY).period.days == 31
    backwards = figures.choose_period("2026-11-30", "2026-11-01", today=TODAY)
    assert "to" in backwards.errors and backwards.period.first == date(2026, 11, 3)
    assert "from" in figures.choose_period("2026-13-01", None, today=TODAY).errors
    assert "to" in figures.choose_period("2024-01-01", "2026-01-01", today=TODAY).errors


def test_dashboard_from_intakes_stats_with_drill_down_links():
    stats = {
        "totals": {"orders": 40, "closed": 30, "rated": 10, "closure_rate": 0.75, "sla_rate": None},
        "counties": [
            {"county_code": "140430", "county": "沁县", "orders": 40, "closed": 30, "rank": 1},
        ],
        "by_day": [{"day": "2026-11-01", "orders": 3}],
    }
    today = {
        "date_from": "2026-12-02",
        "date_to": "2026-12-02",
        "totals": {"orders": 2},
        "by_channel": {"web": 2},
    }
    nov = figures.Period(date(2026, 11, 1), date(2026, 11, 30))
    d = figures.dashboard(stats, today, period=nov, monthly_target_per_county=50)
    assert (d.total, d.closed, d.today, d.closure_rate, d.sla_rate) == (40, 30, 2, 0.75, None)
    assert d.target == 50 and d.completion == 0.6  # one county visible, 30 days: one month's target
    week = figures.dashboard(
        stats,
        today,
        period=figures.Period(date(2026, 11, 1), date(2026, 11, 6)),
        monthly_target_per_county=50,
    )
    assert week.target == 10  # pro rata: 6 of 30 days
    assert (
        d.ranking[0]["link"] == "/orders?created_from=2026-11-01&created_to=2026-11-30&region_prefix=140430"
    )
    assert d.links["closed"].endswith("&status=closed")
    assert d.links["today"] == "/orders?created_from=2026-12-02&created_to=2026-12-02"


ORDER = {
    "number": '=HYPERLINK("x")',
    "status": "in_progress",
    "channel": "counter",
    "service_type": "legal_aid",
    "domain": "labor",
    "urgency": "urgent",
    "region_code": "140430003",
    "county_code": "140430",
    "requester_name": "@王",
    "requester_phone_masked": "139****0004",
    "special_groups": ["elderly", "migrant_worker"],
    "created_at": "2026-11-30T16:30:00Z",  # 1 December 00:30 in China
    "closed_at": None,
    "overdue": True,
    "urge_count": 2,
    "rating_score": 4,
}


def test_order_export_rows_speak_chinese_in_china_time_with_typed_cells():
    heads = exports.headers("orders", "zh")
    cell = dict(zip(heads, exports.cells("orders", ORDER, "zh"), strict=True))
    assert heads[0] == "工单号" and "办结时间" in heads and "满意度评分" in heads
    assert cell["状态"] == "办理中" and cell["受理渠道"] == "窗口" and cell["服务类型"] == "法律援助"
    assert cell["县（区）"] == "沁县" and cell["紧急程度"] != "urgent"
    assert cell["受理时间"] == datetime(2026, 12, 1, 0, 30)  # China wall-clock, a real date cell
    assert cell["满意度评分"] == 4 and cell["催办次数"] == 2 and cell["是否超期"] == "是"
    assert cell["办结时间"] is None
    assert cell["工单号"].startswith("'=") and cell["求助人"] == "'@王"  # never a formula
    line = dict(zip(heads, exports.csv_line("orders", ORDER, "zh"), strict=True))
    assert line["受理时间"] == "2026-12-01 00:30" and line["办结时间"] == ""
    en = exports.headers("orders", "en")
    assert (
        en[0] == "Order number"
        and dict(zip(en, exports.cells("orders", ORDER, "en"), strict=True))["Channel"] == "Counter"
    )


def test_every_export_header_has_both_languages():
    for dataset in exports.DATASETS:
        for lang in ("zh", "en"):
            assert all(not h.startswith("xp.") for h in exports.headers(dataset, lang)), (dataset, lang)
