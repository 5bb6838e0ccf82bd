"""Every timeline line intake writes for a downstream event has its English beside the Chinese
(issue #16 item 8): non-empty, and no Chinese left in it — names of places and bodies passed in the
event data aside, which is why the sample data here is ASCII."""

from __future__ import annotations

import re

import pytest

from libs.common.events import aid, dispatch, mediation
from services.intake import timeline
from services.mediation.domain import TRANSITIONS

CJK = re.compile(r"[\u4e00-\u9fff]")


def _event_types() -> list[str]:
    return sorted(
        v
        for module in (aid, dispatch, mediation)
        for v in vars(module).values()
        if isinstance(v, str) and v.startswith("cn.lawline.")
    )


def _samples(event_type: str) -> list[dict]:
    """Representative data for each event type: every branch of its reading."""
    base = {"case_number": "FY-2026-0001", "service_point_name": "Yangcheng Centre"}
    if event_type == dispatch.REJECTED:
        codes = [*timeline._REJECTED_ZH, "conflict", "", None]
        return [{**base, "reason_code": c} for c in codes]
    if event_type == dispatch.OVERDUE:
        clocks = [*timeline._CLOCK_ZH, "objection", ""]
        return [{"clock": c, "level": level} for c in clocks for level in (0, 1, 3)]
    if event_type == dispatch.ROUTING_CONFIRMED:
        states = [*timeline._DISPATCH_STATE_ZH, "unknown_state"]
        return [{"status": s, **extra} for s in states for extra in ({}, base)]
    if event_type in (dispatch.OFFERED, dispatch.ASSIGNED):
        return [base, {}]
    if event_type == aid.DEADLINE_BREACHED:
        articles = [
            "法律援助法第四十三条",
            "法律援助法第四十三条、第三十六条",
            "法律援助法第三十九条",
            "某条",
            "",
        ]
        return [
            {"clock": c, "article": a, "due": "2026-12-01"}
            for c in ("decision", "assignment", "objection", "notification")
            for a in articles
        ]
    if event_type == mediation.RISK_REPORTED:
        return [{"risk_kind": k} for k in [*timeline._RISK_ZH, "other"]]
    if event_type == mediation.DEADLINE_BREACHED:
        return [{"days_over": 3}]
    if event_type == mediation.CASE_TRANSITIONED:
        return _mediation_samples()
    return [base, {}]


def _mediation_samples() -> list[dict]:
    confirmation = {"offered": True, "deadline": "2026-12-30"}
    facts: dict[str, list[dict]] = {
        "assign_mediator": [{"chosen_by": "parties"}, {"chosen_by": "committee"}],
        "recuse": [{"was_assigned": True}, {"was_assigned": False}],
        "agreement_effective": [{"confirmation": confirmation}, {"confirmation": {"offered": False}}],
        "oral_agreement": [{"confirmation": {"offered": False}}],
        "extend": [{"due_date": "2026-12-15"}, {}],
        "correct_receipt": [{"from": "2026-11-01", "to": "2026-11-03", "due_date": "2026-12-03"}],
        "recompute_deadline": [{"year": 2027, "from": "2027-01-01", "to": "2027-01-04"}],
        "confirmation_applied": [{"court": "Yangcheng County People's Court"}, {}],
    }
    out = []
    for action in [*TRANSITIONS, "something_new", ""]:
        for inner in facts.get(action, [{}]):
            citizen = (
                "调解会已安排于 2026-12-01 09:30" if action == "schedule_session" else "人民调解办理进展更新"
            )
            out.append(
                {"case_number": "TJ-2026-0001", "action": action, "citizen_text": citizen, "data": inner}
            )
    return out


CASES = [(t, d) for t in _event_types() for d in _samples(t)] + [
    (f"cn.lawline.aid.{name}.v1", {}) for name in timeline._LEGACY
]


@pytest.mark.parametrize(("event_type", "data"), CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)])
def test_every_step_has_an_english_line(event_type: str, data: dict) -> None:
    step = timeline.step_for(event_type, data)
    assert step.text  # the Chinese is there as before
    assert step.text_en.strip(), (event_type, data)
    assert not CJK.search(step.text_en), (event_type, data, step.text_en)


def test_the_english_keeps_the_facts() -> None:
    offered = timeline.step_for(dispatch.OFFERED, {"service_point_name": "Yangcheng Centre"})
    assert offered.text == "已分派至Yangcheng Centre，等待工作人员接单"
    assert "Yangcheng Centre" in offered.text_en
    assert "FY-9" in timeline.step_for(aid.CASE_OPENED, {"case_number": "FY-9"}).text_en
    breach = timeline.step_for(
        aid.DEADLINE_BREACHED,
        {"clock": "assignment", "article": "法律援助法第四十三条、第三十六条", "due": "2026-12-01"},
    )
    assert "Legal Aid Law Art 43, Art 36" in breach.text_en and "2026-12-01" in breach.text_en
    overdue = timeline.step_for(dispatch.OVERDUE, {"clock": "reply", "level": 2})
    assert overdue.public is False and "level 2" in overdue.text_en and "reply" in overdue.text_en
    session = timeline.step_for(
        mediation.CASE_TRANSITIONED,
        {"action": "schedule_session", "citizen_text": "调解会已安排于 2026-12-01 09:30"},
    )
    assert session.text == "调解会已安排于 2026-12-01 09:30"
    assert session.text_en == "A mediation session has been scheduled for 2026-12-01 09:30"


def test_a_producers_own_english_is_used_and_masked() -> None:
    step = timeline.step_for(
        mediation.CASE_TRANSITIONED,
        {"action": "consent", "citizen_text": "已记录", "citizen_text_en": "Consent noted, call 13812345678"},
    )
    assert step.text_en.startswith("Consent noted")
    assert "13812345678" not in step.text_en


def test_unknown_events_stay_for_staff_in_both_languages() -> None:
    step = timeline.step_for("cn.lawline.other.brand_new.v1", {})
    assert step.public is False
    assert step.text == "办理进展更新（brand_new）"
    assert step.text_en == "Progress update (brand_new)"
