"""The console's pure rules: figures for the dashboard, ranking, duplicate warning, payloads, export rows."""

from __future__ import annotations

from datetime import date

from libs.common import regions
from services.console import domain

TODAY = date(2026, 3, 17)


def order(n: int, **kw):  # type: ignore[no-untyped-def]
    base = {
        "id": f"id{n}",
        "number": f"LW{n:04d}",
        "status": "in_progress",
        "channel": "hotline",
        "service_type": "consultation",
        "county_code": "140403",
        "created_at": "2026-03-17T02:00:00Z",  # 10:00 in China: today
    }
    return {**base, **kw}


def test_today_counts_use_china_time_and_every_channel_appears():
    orders = [
        order(1),
        order(2, channel="web", service_type="legal_aid"),
        order(3, created_at="2026-03-16T17:30:00Z"),  # 01:30 on the 17th in China: today
        order(4, created_at="2026-03-16T15:00:00Z"),  # 23:00 on the 16th in China: not today
    ]
    f = domain.compute_figures(orders, today=TODAY, target_per_county=10, counties=12)
    assert f.total == 4 and f.today == 3
    assert f.today_by_channel == {"hotline": 2, "web": 1, "counter": 0, "external": 0}
    assert f.today_by_type == {"consultation": 2, "legal_aid": 1}


def test_closure_sla_satisfaction_and_completion():
    orders = [
        order(1, status="closed", due_at="2026-03-20T00:00:00Z", closed_at="2026-03-18T00:00:00Z", rating=5),
        order(
            2,
            status="closed",
            due_at="2026-03-10T00:00:00Z",
            closed_at="2026-03-12T00:00:00Z",
            rating={"score": 2},
        ),
        order(3, status="answered", rating=4),  # answered on the call: closed, no deadline to judge
        order(4),
        order(5, status="merged"),  # a merged duplicate is not a separate order in the rates
    ]
    f = domain.compute_figures(orders, today=TODAY, target_per_county=3, counties=2)
    assert f.closed == 3
    assert f.closure_rate == 0.75  # 3 of the 4 counted orders
    assert f.sla_rate == 0.5  # 1 of the 2 closed orders that carry a deadline
    assert f.satisfaction == round(2 / 3, 4) and f.rating_avg == round(11 / 3, 2)
    assert f.target == 6 and f.completion == 0.5


def test_no_data_means_no_rate_rather_than_zero():
    f = domain.compute_figures([], today=TODAY, target_per_county=10, counties=12)
    assert f.closure_rate is None and f.sla_rate is None and f.satisfaction is None
    assert domain.pct(None) == "—" and domain.pct(0.5) == "50.0%"


def test_ranking_lists_every_county_best_closure_first():
    orders = [
        order(1, county_code="140430", status="closed", rating=5),
        order(2, county_code="140430", status="closed"),
        order(3, county_code="140403", status="closed"),
        order(4, county_code="140403"),
        order(5, county_code=None, region_code="140426001"),  # county derived from the region code
    ]
    rows = domain.county_ranking(orders, target_per_county=4)
    assert len(rows) == len(regions.counties()) and [r["rank"] for r in rows] == list(range(1, 13))
    assert (
        rows[0]["county_code"] == "140430" and rows[0]["closure_rate"] == 1.0 and rows[0]["completion"] == 0.5
    )
    assert rows[1]["county_code"] == "140403" and rows[1]["closure_rate"] == 0.5
    licheng = next(r for r in rows if r["county_code"] == "140426")
    assert licheng["orders"] == 1 and licheng["closure_rate"] == 0.0
    silent = [r for r in rows if r["orders"] == 0]
    assert len(silent) == 9 and all(r["closure_rate"] is None for r in silent)


def test_duplicate_warning_prefers_same_type_and_ignores_closed_orders():
    orders = [
        order(1, service_type="legal_aid"),
        order(2, status="closed", service_type="legal_aid"),
        order(3),
    ]
    assert [o["id"] for o in domain.duplicate_warning(orders, "legal_aid")] == ["id1"]
    assert [o["id"] for o in domain.duplicate_warning(orders, None)] == ["id1", "id3"]
    assert domain.duplicate_warning(orders, "mediation") == []


def test_payload_sends_optional_fields_only_when_set():
    form = {
        "phone": " 13834567890 ",
        "name": "王秀英",
        "county": "140430",
        "township": "140430003",
        "village": "",
        "service_type": "legal_aid",
        "description": " 欠薪 ",
        "urgency": "normal",
        "special_groups": [],
        "domain": "",
    }
    body = domain.payload_from_form(form)
    assert body == {
        "channel": "hotline",
        "requester": {"name": "王秀英", "phone": "13834567890"},
        "region_code": "140430003",
        "service_type": "legal_aid",
        "description": "欠薪",
    }
    form |= {
        "village": "140430003001",
        "urgency": "urgent",
        "special_groups": ["elderly", "bogus"],
        "domain": "labor",
        "answered_on_call": "1",
        "answer_summary": "已告知劳动仲裁途径",
        "call_id": "c0ffee",
        "call_started_at": "2026-11-24T09:30:00+08:00",
    }
    body = domain.payload_from_form(form, operator_id="op-7")
    assert body["region_code"] == "140430003001" and body["urgency"] == "urgent" and body["domain"] == "labor"
    assert body["special_groups"] == ["elderly"]
    # intake's HotlineDetails: the call, who took it and when it started, plus the on-call answer.
    assert body["hotline"] == {
        "call_id": "c0ffee",
        "operator_id": "op-7",
        "call_started_at": "2026-11-24T09:30:00+08:00",
        "answered_on_call": True,
        "answer_summary": "已告知劳动仲裁途径",
    }
    # Without a known operator the call block is left out rather than sent incomplete (intake: 422).
    assert "hotline" not in domain.payload_from_form(form)


def test_a_counter_clerk_files_walk_ins_as_counter_orders_with_the_window():
    assert domain.filing_channel(["counter_staff"]) == "counter"
    assert domain.filing_channel(["operator"]) == domain.filing_channel(["supervisor"]) == "hotline"
    assert domain.filing_channel(["operator", "counter_staff"]) == "hotline"
    user = {"staff_id": "s-1", "service_point_id": "p-9"}
    assert domain.counter_details(user) == {"service_point_id": "p-9", "staff_id": "s-1"}
    assert domain.counter_details({"staff_id": "s-1"}) is None  # no window known: no half block
    form = {"phone": "13834567890", "name": "王秀英", "county": "140430", "description": "欠薪",
            "call_id": "c0ffee", "answered_on_call": "1", "answer_summary": "x"}  # fmt: skip
    body = domain.payload_from_form(
        form, channel="counter", operator_id="s-1", counter=domain.counter_details(user)
    )
    assert body["channel"] == "counter" and body["counter"] == {"service_point_id": "p-9", "staff_id": "s-1"}
    assert "hotline" not in body


def test_order_list_filters_become_intakes_query():
    q = domain.order_list_params(
        {"region_prefix": "140430", "created_from": "2026-11-01", "created_to": "2026-11-24", "q": "LW"}
    )
    assert q == {
        "region": "140430",
        "created_from": "2026-11-01T00:00:00+08:00",
        "created_to": "2026-11-25T00:00:00+08:00",  # the whole last day, China time
        "q": "LW",
    }


def test_export_cells_never_start_a_formula():
    row = domain.export_row(
        "orders",
        {
            "number": '=HYPERLINK("x")',
            "requester_name": "@王",
            "rating": {"score": 5},
            "status": "-3",
            "channel": "+cmd",
        },
    )
    cols = domain.EXPORT_COLUMNS["orders"]
    cell = dict(zip(cols, row, strict=True))
    assert cell["number"].startswith("'=") and cell["requester_name"] == "'@王" and cell["channel"] == "'+cmd"
    assert cell["status"] == "-3" and cell["rating"] == "5"  # numbers stay numbers


def test_home_screen_and_visible_screens_by_role():
    assert domain.home_for(["operator"]) == "/operator"
    assert domain.home_for(["counter_staff"]) == "/counter"
    assert domain.home_for(["mediator"]) == "/cases"
    assert domain.home_for(["operator", "supervisor"]) == "/supervisor"
    assert domain.home_for([]) == "/login"
    assert domain.screens_for(["mediator"]) == ["counter", "cases", "orders", "liaison"]
    assert domain.screens_for(["supervisor"])[-2:] == ["liaison", "extensions"]
    assert domain.screens_for(["operator"]) == ["operator", "orders"]
    assert domain.case_services_for(["lawyer"]) == ["aid"] and domain.case_services_for(["mediator"]) == [
        "mediation"
    ]


def test_times_are_shown_in_china_time():
    assert domain.local_time("2026-03-16T17:30:00Z") == "2026-03-17 01:30"
    assert domain.local_time(None) == ""
    assert domain.region_label("140430003").startswith("沁县 / ")
