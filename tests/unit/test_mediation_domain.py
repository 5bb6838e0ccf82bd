"""Pure rules of people's mediation (人民调解法), no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.common.calendar import WorkCalendar, YearSchedule
from services.mediation import domain
from services.mediation.settings import MediationSettings, clock_rules

CAL = WorkCalendar()


# --- state machine ---------------------------------------------------------------------------------


def test_every_status_is_reachable_and_closed_is_almost_final():
    reached = {"registered"} | {t for _, t in domain.TRANSITIONS.values() if t}
    assert reached == set(domain.STATUSES)
    assert domain.allowed_actions("closed") == ["return_visit"]


def test_illegal_transition_lists_what_is_allowed():
    with pytest.raises(domain.IllegalTransition) as err:
        domain.transition("registered", "draft_agreement")
    assert "draft_agreement" not in err.value.allowed
    assert {"consent", "refuse", "add_party", "assign_mediator"} <= set(err.value.allowed)
    assert "deadline_breached" not in err.value.allowed  # the sweeper's step is not a user action


@pytest.mark.parametrize("status", sorted(domain.OPEN_STATUSES))
def test_refusal_stops_the_case_from_any_open_status(status):
    # Art 17 (refusal before) and Art 23 (a party may ask to stop at any stage).
    assert domain.transition(status, "refuse") == "closed"


def test_oral_agreement_only_while_mediating_and_agreed_directly():
    assert domain.transition("mediating", "oral_agreement") == "agreed"
    with pytest.raises(domain.IllegalTransition):
        domain.transition("accepted", "oral_agreement")


def test_no_agreement_before_a_session_was_held():
    # 人民调解法 Art 22, 27, 28: an agreement is reached in a mediation that was held and recorded.
    problem = domain.agreement_before_session(0)
    assert problem is not None and "第二十八条" in problem.zh and problem.en
    assert domain.agreement_before_session(1) is None


def test_written_agreement_path():
    s = domain.transition("mediating", "draft_agreement")
    assert s == "agreement_pending"
    assert domain.transition(s, "sign_agreement") == "agreement_pending"
    assert domain.transition(s, "agreement_effective") == "agreed"
    assert domain.transition("agreed", "follow_up") == "agreed"
    assert domain.transition("agreed", "return_visit") == "closed"


# --- consent --------------------------------------------------------------------------------------


def test_applicant_who_applied_has_consented_others_are_asked():
    assert domain.initial_consent("application", "applicant") == "given"
    assert domain.initial_consent("application", "respondent") == "pending"
    assert domain.initial_consent("police", "applicant") == "pending"
    assert domain.initial_consent("own_initiative", "applicant") == "pending"


def test_consent_complete_needs_both_sides_and_every_yes():
    assert not domain.consent_complete([("applicant", "given")])
    assert not domain.consent_complete([("applicant", "given"), ("respondent", "pending")])
    assert domain.consent_complete([("applicant", "given"), ("respondent", "given"), ("respondent", "given")])


def test_routes_told_after_failure_fit_the_dispute():
    labour = [r.code for r in domain.other_routes("labour")]
    assert (
        labour[0] == "arbitration" and labour[-1] == "litigation"
    )  # arbitration first (劳动争议调解仲裁法 Art 5)
    land = {r.code for r in domain.other_routes("land")}
    assert land == {"administrative", "litigation"}
    for kind in domain.DISPUTE_TYPES:
        assert domain.other_routes(kind)[-1].code == "litigation"


# --- mediators ----------------------------------------------------------------------------------


def test_mediator_on_leave_or_inactive_is_unavailable():
    av = domain.Availability(True, date(2026, 12, 1), [(0, "09:00", "17:00")])
    assert "休假" in domain.unavailable_reason(av, date(2026, 11, 30)).zh
    assert domain.unavailable_reason(av, date(2026, 12, 2)) is None
    assert "停用" in domain.unavailable_reason(domain.Availability(False, None, []), date(2026, 12, 2)).zh


def test_on_duty_follows_the_roster_in_china_time():
    av = domain.Availability(True, None, [(0, "09:00", "13:00")])
    assert domain.on_duty(av, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 Beijing
    assert not domain.on_duty(av, datetime(2026, 11, 23, 6, 0, tzinfo=UTC))  # Monday 14:00


def test_conflict_recused_or_mediator_is_a_party():
    assert domain.conflict_with("张三", ["李四"], {"m1"}, "m1")
    assert domain.conflict_with("李四", ["李四", "王五"], set(), "m2")
    assert domain.conflict_with("赵六", ["李四"], set(), "m2") is None


# --- agreement ------------------------------------------------------------------------------------


def test_agreement_not_effective_without_the_committee_seal():
    ok, missing = domain.agreement_effective(
        party_signatures=["signature", "thumbprint"], mediator_signed=True, committee_sealed=False
    )
    assert not ok and len(missing) == 1 and "印章" in missing[0]


def test_agreement_needs_every_party_and_the_mediator():
    ok, missing = domain.agreement_effective(
        party_signatures=["seal", None], mediator_signed=False, committee_sealed=True
    )
    assert not ok and len(missing) == 2
    ok, missing = domain.agreement_effective(
        party_signatures=["seal", "signature"], mediator_signed=True, committee_sealed=True
    )
    assert ok and missing == []


def test_art29_contents_are_checked():
    assert domain.missing_art29({"facts": "x", "terms": "y"}) == [
        "disputed_points",
        "responsibilities",
        "performance_manner",
        "performance_deadline",
    ]


# --- judicial confirmation (Art 33) ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["marriage", "adoption", "personal_status"])
def test_no_confirmation_reminder_for_status_adoption_marriage(kind):
    offered, deadline, text = domain.confirmation_offer(kind, "written", date(2026, 9, 1), CAL)
    assert not offered and deadline is None and "不适用司法确认" in text


def test_confirmation_within_30_days_rolled_past_national_day():
    offered, deadline, text = domain.confirmation_offer("debt", "written", date(2026, 9, 1), CAL)
    # 1 Sep + 30 days = 1 Oct, a holiday through 7 Oct: the period ends on 8 Oct (民法典 Art 203).
    assert offered and deadline.due == date(2026, 10, 8) and "2026-10-08" in text


def test_no_confirmation_for_an_oral_agreement():
    offered, _, _ = domain.confirmation_offer("debt", "oral", date(2026, 9, 1), CAL)
    assert not offered


# --- clocks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,procedure,due",
    [
        ("court", "pre_filing", date(2026, 4, 1)),  # 委派: 30 days
        ("court", "post_filing_ordinary", date(2026, 3, 17)),  # 委托, ordinary: 15 days
        ("court", "post_filing_summary", date(2026, 3, 9)),  # 委托, summary: 7 days
        ("application", None, date(2026, 4, 2)),  # one month
        ("police", None, date(2026, 4, 2)),
    ],
)
def test_court_referred_and_default_clocks(source, procedure, due):
    deadline, basis = domain.mediation_deadline(source, procedure, date(2026, 3, 2), CAL)
    assert deadline.due == due and basis and deadline.warnings == []


def test_month_end_and_makeup_workday():
    # 31 Jan + 1 month = 28 Feb 2026, a Saturday that is a make-up workday (调休): not rolled.
    deadline, _ = domain.mediation_deadline("application", None, date(2026, 1, 31), CAL)
    assert deadline.due == date(2026, 2, 28)
    assert domain.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_unknown_year_carries_a_warning_and_admin_table_wins():
    deadline, _ = domain.mediation_deadline("application", None, date(2026, 12, 20), CAL)
    assert deadline.due == date(2027, 1, 20) and "2027" in deadline.warnings[0]
    cal = WorkCalendar({2027: YearSchedule(holidays={date(2027, 1, 20), date(2027, 1, 21)})})
    deadline, _ = domain.mediation_deadline("application", None, date(2026, 12, 20), cal)
    assert deadline.due == date(2027, 1, 22) and deadline.warnings == []


def test_clock_periods_are_settings():
    rules = clock_rules(MediationSettings(post_filing_summary_days=10))
    deadline, basis = domain.mediation_deadline("court", "post_filing_summary", date(2026, 3, 2), CAL, rules)
    assert deadline.due == date(2026, 3, 12) and "10 日" in basis


def test_extension_needs_every_party():
    assert domain.extension_allowed({"a": True}, ["a", "b"]) == ["b"]
    assert domain.extension_allowed({"a": True, "b": True}, ["a", "b"]) == []


def test_breach_is_strictly_after_the_due_day():
    assert not domain.breached(date(2026, 3, 9), date(2026, 3, 9))
    assert domain.breached(date(2026, 3, 9), date(2026, 3, 10))


# --- misc -------------------------------------------------------------------------------------------


def test_resident_id_check_digit():
    assert domain.valid_resident_id("11010519491231002X")
    assert not domain.valid_resident_id("110105194912310021")
    assert not domain.valid_resident_id("110105194913310028")  # month 13


def test_success_rate_counts_concluded_mediations_only():
    assert domain.success_rate(0, 0) is None
    assert domain.success_rate(19, 1) == 0.95


def test_first_guess_of_the_dispute_type():
    assert domain.guess_dispute_type("邻居家空调外机噪音大还滴水") == "neighbour"
    assert domain.guess_dispute_type("想离婚，财产怎么分") == "marriage"
    assert domain.guess_dispute_type("老板拖欠三个月工资") == "labour"
    assert domain.guess_dispute_type("说不清楚的事") == "other"


def test_judicial_confirmation_application_is_joint_and_timely():
    offered = {"offered": True, "deadline": "2026-04-01"}
    assert domain.confirmation_application_problem(offered, date(2026, 3, 20), ["a", "b"], ["a", "b"]) is None
    assert "共同" in domain.confirmation_application_problem(offered, date(2026, 3, 20), ["a", "b"], ["a"]).zh
    assert (
        "三十日"
        in domain.confirmation_application_problem(offered, date(2026, 4, 2), ["a", "b"], ["a", "b"]).zh
    )
    refused = {"offered": False, "deadline": None}
    assert "不适用" in domain.confirmation_application_problem(refused, date(2026, 3, 3), ["a"], ["a"]).zh
