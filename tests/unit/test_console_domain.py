"""The console's pure rules: duplicate warning, payloads, list filters, screens by role (figures and
exports: test_console_figures.py)."""

from __future__ import annotations

from datetime import date

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


def test_home_screen_and_visible_screens_by_role():
    assert domain.home_for(["operator"]) == "/operator"
    assert domain.home_for(["counter_staff"]) == "/counter"
    assert domain.home_for(["mediator"]) == "/cases"
    assert domain.home_for(["operator", "supervisor"]) == "/supervisor"
    assert domain.home_for([]) == "/login"
    assert domain.screens_for(["mediator"]) == ["counter", "cases", "orders", "liaison"]
    assert domain.screens_for(["supervisor"])[-3:] == ["liaison", "extensions", "knowledge"]
    assert domain.screens_for(["operator"]) == ["operator", "orders"]
    assert domain.case_services_for(["lawyer"]) == ["aid"] and domain.case_services_for(["mediator"]) == [
        "mediation"
    ]


def test_times_are_shown_in_china_time():
    assert domain.local_time("2026-03-16T17:30:00Z") == "2026-03-17 01:30"
    assert domain.local_time(None) == ""
    assert domain.region_label("140430003").startswith("沁县 / ")
