"""Intake's status follows dispatch both ways (issue #15): the transition table, exhaustively;
what a merge does to the survivor; how every dispatch ending reads for the citizen."""

from __future__ import annotations

import pytest

from libs.common.events import aid, dispatch, mediation
from services.intake import domain, queries, timeline

OPEN = domain.OPEN_STATUSES
SIGNALS = ("offered", "assigned", "escalated", "rerouting", "case_opened")

# The whole table, written out: (current, signal) → next. Anything not here keeps its status.
EXPECTED = {
    **{(s, "offered"): "offered" for s in ("received", "offered", "rerouting", "escalated", "assigned")},
    ("in_progress", "offered"): "in_progress",
    **{(s, "assigned"): "assigned" for s in ("received", "offered", "rerouting", "escalated", "assigned")},
    ("in_progress", "assigned"): "in_progress",
    **{(s, "escalated"): "escalated" for s in OPEN},
    **{(s, "rerouting"): "rerouting" for s in OPEN},
    **{(s, "case_opened"): "in_progress" for s in OPEN},
}


@pytest.mark.parametrize("current", domain.STATUSES)
@pytest.mark.parametrize("signal", SIGNALS)
def test_every_status_and_signal(current, signal):
    want = EXPECTED.get((current, signal), current)
    assert domain.transition(current, signal) == want
    # Terminal orders are never changed by dispatch's or the case services' events.
    if current in domain.TERMINAL:
        assert want == current


def test_the_table_names_only_known_statuses_and_signals():
    assert {c for c, _ in domain.TRANSITIONS} <= set(OPEN)
    assert {s for _, s in domain.TRANSITIONS} == set(SIGNALS)
    assert set(domain.TRANSITIONS.values()) <= set(OPEN)
    assert dict(domain.TRANSITIONS) == EXPECTED


def test_a_return_or_escalation_moves_the_tracking_page_back_from_assigned():
    """The complaint: after a 退单 or escalation the tracking page still said 已接单."""
    returned = {"reason_code": "returned"}
    assert domain.next_status("assigned", dispatch.REJECTED, returned) == "rerouting"
    assert domain.next_status("in_progress", dispatch.REJECTED, {"reason_code": "transferred"}) == "rerouting"
    assert domain.next_status("assigned", dispatch.ESCALATED, {}) == "escalated"
    assert queries.STATUS_ZH["rerouting"] == "重新分派中"
    assert set(queries.STATUS_ZH) == set(domain.STATUSES)


def test_a_stale_dispatch_event_reaches_no_status():
    for signal in SIGNALS:
        for current in domain.STATUSES:
            assert domain.transition(current, signal, stale=True) == current


def test_a_case_opened_for_someone_who_gave_the_order_back_is_late_news():
    assert domain.next_status("rerouting", aid.CASE_OPENED, {}, handler_current=False) == "rerouting"
    assert domain.next_status("offered", mediation.CASE_OPENED, {}, handler_current=False) == "offered"
    # The case's topic overtook dispatch's: case first, then the offered/assigned that led to it.
    status = domain.next_status("received", aid.CASE_OPENED, {})
    status = domain.next_status(status, dispatch.OFFERED, {})
    status = domain.next_status(status, dispatch.ASSIGNED, {})
    assert status == "in_progress"


def test_routing_confirmed_and_unknown_events():
    assert domain.signal_of(dispatch.ROUTING_CONFIRMED, {"status": "escalated"}) == "escalated"
    assert domain.signal_of(dispatch.ROUTING_CONFIRMED, {"status": "new"}) is None
    assert domain.signal_of(dispatch.OVERDUE, {}) is None
    assert domain.next_status("assigned", "cn.lawline.aid.granted.v1", {}) == "assigned"


def test_unmerge_goes_back_to_routing_when_dispatch_had_the_order():
    assert domain.status_after_unmerge(dispatched=True) == "rerouting"
    assert domain.status_after_unmerge(dispatched=False) == "received"


@pytest.mark.parametrize(
    ("survivor", "merged", "want"),
    [
        (("normal", []), ("urgent", ["elderly"]), ("urgent", ["elderly"])),
        (("urgent", ["minor"]), ("normal", ["disabled"]), ("urgent", ["disabled", "minor"])),
        (("critical", []), ("urgent", []), ("critical", [])),
        (("normal", ["women"]), ("normal", ["women"]), ("normal", ["women"])),
    ],
)
def test_a_merged_refiling_raises_the_survivor_never_lowers_it(survivor, merged, want):
    got = domain.merged_classification(
        urgency=survivor[0], groups=survivor[1], merged_urgency=merged[0], merged_groups=merged[1]
    )
    assert got == want


def test_handler_states_follow_dispatch_events():
    assert domain.handler_state(dispatch.OFFERED) == "offered"
    assert domain.handler_state(dispatch.ASSIGNED) == "accepted"
    assert domain.handler_state(dispatch.REJECTED) == "ended"
    assert domain.handler_state(dispatch.ESCALATED) is None


@pytest.mark.parametrize(
    ("code", "public", "text"),
    [
        ("returned", True, "工单已退回，正在重新分派"),
        ("transferred", True, "工单已转交其他工作人员，正在重新分派"),
        ("timeout", True, "原分派人员未及时接单，正在重新分派"),
        ("reclassified", True, "工单服务类型已调整，正在重新分派"),
        ("region_corrected", True, "工单正在重新分派"),
        ("conflict", True, "工单正在重新分派"),
        ("overload", True, "工单正在重新分派"),
        ("out_of_scope", True, "工单正在重新分派"),
        (None, True, "工单正在重新分派"),
        # Intake told the citizen itself (已并单 / 已转至某县办理): dispatch's withdrawal is staff-only.
        ("merged", False, "已并单：撤回原派单，释放承办人负荷"),
        ("county_transfer", False, "跨县转办：撤回原县（区）的派单"),
    ],
)
def test_every_ending_reads_right_on_the_timeline(code, public, text):
    step = timeline.step_for(dispatch.REJECTED, {"reason_code": code, "reason": "张律师 13800000000 太忙"})
    assert (step.public, step.text) == (public, text)
    assert "138" not in step.text and "张" not in step.text  # never the staff's free text
