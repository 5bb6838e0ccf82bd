"""Intake's pure rules: duplicates (并单), closure blockers, return visits, tracking compare,
status folding and the generic event handler table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.intake import domain, timeline
from services.intake.handlers import IGNORED, build_handlers

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
W, FU = timedelta(hours=72), timedelta(days=30)


def cand(status="received", st="legal_aid", dom="labor", age=timedelta(hours=5), closed=None):
    return domain.Candidate("c1", status, st, dom, "老板拖欠工资", NOW - age, closed)


def decide(cands, st="legal_aid", dom="labor"):
    return domain.duplicate_decision(
        now=NOW, service_type=st, domain=dom, candidates=cands, window=W, follow_up_window=FU, threshold=0.3
    )


def test_open_same_matter_within_window_is_an_urge():
    assert decide([(cand(), 0.5)]).kind == "urge"
    assert decide([(cand(), 0.5)], st="consultation").kind == "urge"  # same domain is enough
    assert (
        decide([(cand(dom="other"), 0.5)], st="consultation", dom="other").kind == "new"
    )  # "other" says nothing


def test_not_a_duplicate_when_text_differs_or_window_passed():
    assert decide([(cand(), 0.1)]).kind == "new"
    assert decide([(cand(age=timedelta(hours=80)), 0.9)]).kind == "new"
    assert decide([(cand(dom="housing", st="mediation"), 0.9)]).kind == "new"


def test_closed_recently_is_a_follow_up_and_open_wins():
    closed = cand(status="closed", closed=NOW - timedelta(days=3), age=timedelta(days=10))
    assert decide([(closed, 0.5)]) == domain.DuplicateDecision("follow_up", "c1", 0.5)
    old = cand(status="closed", closed=NOW - timedelta(days=40), age=timedelta(days=50))
    assert decide([(old, 0.9)]).kind == "new"
    assert decide([(closed, 0.5), (cand(), 0.4)]).kind == "urge"
    assert decide([(cand(status="merged"), 0.9)]).kind == "new"


def test_closure_blockers_list_everything_missing_at_once():
    b = domain.closure_blockers(
        status="assigned", callback_required=True, callback_outcomes=[], open_children=["LW1"]
    )
    assert [x.code for x in b] == ["callback_missing", "children_open"] and all(x.zh and x.en for x in b)
    assert (
        domain.closure_blockers(
            status="assigned", callback_required=True, callback_outcomes=["reached"], open_children=[]
        )
        == []
    )
    three = ["no_answer", "busy", "no_answer"]
    assert (
        domain.closure_blockers(
            status="assigned", callback_required=True, callback_outcomes=three, open_children=[]
        )
        == []
    )
    assert (
        domain.closure_blockers(
            status="assigned", callback_required=False, callback_outcomes=[], open_children=[]
        )
        == []
    )
    assert (
        domain.closure_blockers(
            status="closed", callback_required=False, callback_outcomes=[], open_children=[]
        )[0].code
        == "already_terminal"
    )


def test_return_visit_for_unsatisfied():
    assert [s for s in range(1, 6) if domain.needs_return_visit(s)] == [1, 2]


def test_suffix_compare():
    assert domain.suffix_matches("13834567890", "7890")
    assert domain.suffix_matches("0355-2021234", "1234")
    for bad in ("7891", "789", "78900", "", None):
        assert not domain.suffix_matches("13834567890", bad)
    assert not domain.suffix_matches(None, "0000")


def test_status_follows_dispatch_and_timeline_is_generic():
    # An older dispatch event (stale) never moves the status; a newer one is dispatch's word.
    assert domain.next_status("assigned", "cn.lawline.dispatch.offered.v1", stale=True) == "assigned"
    assert domain.next_status("received", "cn.lawline.dispatch.offered.v1") == "offered"
    assert domain.next_status("closed", "cn.lawline.aid.case_opened.v1") == "closed"
    assert domain.timeline_text("cn.lawline.aid.case_closed.v1", {}) == ("case_closed", "案件已办结")
    kind, text = domain.timeline_text("cn.lawline.mediation.brand_new.v1", {"phone": "13800000000"})
    assert kind == "brand_new" and "138" not in text


def test_handler_table_folds_every_event_type_but_not_reference_data():
    table = build_handlers(None)  # type: ignore[arg-type]
    fold = table.get("cn.lawline.dispatch.offered.v1")
    assert fold is not None and table.get("cn.lawline.aid.brand_new_step.v1") is fold
    for ignored in IGNORED:  # the inbox looks up get(type) or get("*"): both must say no
        assert table.get(ignored) is None and table.get("*") is None


def test_every_case_step_has_a_chinese_entry_and_supervision_is_staff_only():
    from libs.common.events import aid, dispatch, mediation

    for t in (*aid.CASE_EVENT_TYPES, aid.NOTIFICATION_CONFIRMED, dispatch.OFFERED, dispatch.ASSIGNED):
        step = timeline.step_for(t, {"case_number": "法援2026-1", "service_point_name": "沁县法律服务所"})
        assert "更新（" not in step.text and any("\u4e00" <= ch <= "\u9fff" for ch in step.text), t
    for t, data in (
        (dispatch.OVERDUE, {"clock": "reply", "level": 1}),
        (aid.DEADLINE_BREACHED, {"clock": "decision", "article": "第四十三条", "due": "2026-03-09"}),
        (mediation.RISK_REPORTED, {"risk_kind": "violence"}),
        (mediation.DEADLINE_BREACHED, {"days_over": 3}),
        (aid.SUBSIDY_RECORDED, {}),
        ("cn.lawline.aid.brand_new.v1", {}),
    ):
        assert not timeline.step_for(t, data).public, t
    returned = timeline.step_for(
        dispatch.REJECTED, {"reason_code": "returned", "reason": "张律师 13800000000"}
    )
    assert returned.public and returned.kind == "returned" and "138" not in returned.text
    told = timeline.step_for(
        mediation.CASE_TRANSITIONED, {"action": "agree", "citizen_text": "已达成调解协议，联系 13912345678"}
    )
    assert told.public and told.kind == "mediation_agree" and "13912345678" not in told.text


def test_order_number_is_local_date():
    assert domain.format_number(datetime(2026, 11, 24, 17, 0, tzinfo=UTC), 123) == "LW20261125000123"
