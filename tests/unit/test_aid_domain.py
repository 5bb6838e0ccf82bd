"""Pure legal-aid rules, article by article (法律援助法), without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.common.calendar import WorkCalendar, YearSchedule
from services.aid import domain
from services.aid.settings import get_rules

RULES = get_rules()
TODAY = date(2026, 3, 2)
ALL_PROOFS = set(domain.ATTACHMENT_NAMES)


def facts(**kw) -> domain.Facts:  # type: ignore[no-untyped-def]
    base = dict(
        province="14",
        matter="labour_pay",
        applicant_birth=date(1980, 5, 1),
        exemption=None,
        means=None,
        attachments={"identity", "matter_materials", "hardship_statement"},
        today=TODAY,
    )
    base.update(kw)
    return domain.Facts(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------- state machine (issue item 10)
def test_every_state_is_reachable_and_terminal_states_have_no_way_out():
    reached, frontier = {"received", "granted"}, ["received", "granted"]  # application / notification
    while frontier:
        s = frontier.pop()
        for a in domain.allowed_actions(s):
            t = domain.next_state(s, a)
            if t not in reached:
                reached.add(t)
                frontier.append(t)
    assert reached == set(domain.STATES)
    for s in domain.TERMINAL:
        assert domain.allowed_actions(s) == []


def test_illegal_transition_lists_what_is_allowed():
    with pytest.raises(domain.IllegalTransition) as exc:
        domain.next_state("received", "close")
    assert exc.value.allowed == [
        "accept_application",
        "correct_receipt",  # the receipt can be corrected while the case lives (Art 43 counts from it)
        "provide_first",
        "request_materials",
        "withdraw",
    ]
    with pytest.raises(domain.IllegalTransition):
        domain.next_state("archived", "terminate")


def test_termination_only_while_aid_is_given_and_objection_only_after_refusal_or_termination():
    assert {s for s, _ in domain.TRANSITIONS["terminate"].items()} == {"granted", "assigned", "in_progress"}
    assert domain.next_state("refused", "object") == "objecting_refusal"
    assert domain.next_state("terminated", "object") == "objecting_termination"
    assert domain.next_state("objecting_termination", "objection_reject") == "terminated"
    assert domain.next_state("objecting_refusal", "objection_accept") == "granted"


# ---------------------------------------------------------------- scope (Art 24, 29, 31, 32)
@pytest.mark.parametrize("matter", sorted(RULES.scope_art31))
def test_art31_matters_are_in_scope_but_means_tested(matter):
    e = domain.evaluate(facts(matter=matter), RULES)
    assert e.in_scope and not e.eligible and e.means_test == "unverified"
    assert e.basis[0].startswith("第三十一条")


@pytest.mark.parametrize("matter", sorted(RULES.no_means_test_art32))
def test_art32_matters_skip_the_means_test(matter):
    rich = domain.Means(household_size=1, monthly_income=Decimal(90_000))
    e = domain.evaluate(facts(matter=matter, means=rich, attachments=set()), RULES)
    assert e.eligible and e.means_test == "not_required_art32"
    assert "hardship_statement" not in domain.missing_items(facts(matter=matter, attachments=set()), RULES)


def test_provincial_extension_is_configuration_and_unknown_matter_is_out_of_scope():
    assert domain.scope_basis("consumer_rights", "14", RULES).startswith("第三十一条第九项")
    assert domain.scope_basis("consumer_rights", "11", RULES) is None
    e = domain.evaluate(facts(matter="divorce_property"), RULES)
    assert not e.in_scope and not e.eligible and "第三十一条" in e.problems[0]


def test_criminal_applications_art24_and_29_are_means_tested():
    for matter in ("criminal_defence", "criminal_victim"):
        assert domain.means_test_applies(matter, RULES)
        assert domain.scope_basis(matter, "14", RULES)


# ---------------------------------------------------------------- hardship (Art 34, 41, 42)
EXEMPTION_CASES = {
    "minor_no_income": dict(applicant_birth=date(2012, 1, 1)),
    "elderly_no_income": dict(applicant_birth=date(1950, 1, 1)),
    "disabled_no_income": {},
    "social_relief": {},
    "judicial_relief": {},
    "special_care": {},
    "migrant_worker": dict(matter="labour_pay"),
}


@pytest.mark.parametrize("category", sorted(domain.EXEMPTIONS))
def test_each_art42_exemption_holds_with_its_proof_and_fails_without(category):
    extra = EXEMPTION_CASES[category]
    proofs = set(domain.EXEMPTIONS[category][1])
    ok = domain.evaluate(facts(exemption=category, attachments=proofs | {"matter_materials"}, **extra), RULES)
    assert ok.eligible and ok.means_test == "exempt_art42" and "第四十二条" in ok.basis[-1]
    for proof in proofs:
        without = domain.evaluate(facts(exemption=category, attachments=proofs - {proof}, **extra), RULES)
        assert not without.eligible and any(domain.ATTACHMENT_NAMES[proof] in p for p in without.problems)
        listed = domain.missing_items(facts(exemption=category, attachments=proofs - {proof}, **extra), RULES)
        assert proof in listed


def test_exemption_conditions_beyond_the_paper():
    adult = domain.exemption_problems(facts(exemption="minor_no_income", attachments=ALL_PROOFS))
    assert adult == ["申请人不是未成年人"]
    young = domain.exemption_problems(facts(exemption="elderly_no_income", attachments=ALL_PROOFS))
    assert young == ["申请人未满 60 周岁"]
    divorce = facts(exemption="migrant_worker", matter="support_maintenance", attachments=ALL_PROOFS)
    assert "第四十二条第三项" in domain.exemption_problems(divorce)[0]
    # turns 18 the day after: still a minor today
    assert domain.age_on(date(2008, 3, 3), TODAY) == 17


def test_art41_honesty_commitment_or_data_sharing_and_art34_provincial_threshold():
    t = RULES.threshold("14").monthly_income_per_capita
    poor = Decimal(t) * 3  # exactly at the line for a household of 3
    commit = domain.Means(3, poor, verification="honesty_commitment")
    e = domain.evaluate(facts(means=commit, attachments={"honesty_commitment"}), RULES)
    assert e.eligible and e.means_test == "passed" and any("第四十一条" in b for b in e.basis)
    no_paper = domain.evaluate(facts(means=commit, attachments=set()), RULES)
    assert no_paper.means_test == "unverified"
    shared = domain.evaluate(
        facts(means=domain.Means(3, poor, verification="data_sharing", verified=True)), RULES
    )
    assert shared.eligible and "信息共享" in shared.basis[1]
    pending = domain.evaluate(facts(means=domain.Means(3, poor, verification="data_sharing")), RULES)
    assert pending.means_test == "unverified" and not pending.eligible
    richer = domain.Means(3, poor + 3, verification="data_sharing", verified=True)
    failed = domain.evaluate(facts(means=richer), RULES)
    assert failed.means_test == "failed" and str(t) in failed.problems[0]
    # another province falls back to the default threshold
    assert RULES.threshold("11") == RULES.threshold("default") != RULES.threshold("14")


# ---------------------------------------------------------------- completeness (一次性告知, 容缺受理)
def test_one_time_list_names_everything_missing_at_once():
    f = facts(
        attachments=set(),
        proxy_kind="near_relative",
        means=domain.Means(2, Decimal(100), verification="honesty_commitment"),
    )
    assert domain.missing_items(f, RULES) == [
        "identity",
        "proxy_proof",
        "matter_materials",
        "hardship_statement",
        "honesty_commitment",
    ]


def test_accept_with_missing_defers_only_deferrable_items():
    missing = ["identity", "matter_materials", "hardship_statement"]
    assert domain.blocking_items(missing, RULES, accept_with_missing=False) == missing
    assert domain.blocking_items(missing, RULES, accept_with_missing=True) == ["identity"]


# ---------------------------------------------------------------- clocks (Art 43, 49; 民法典 201/203)
CAL = WorkCalendar()


def test_decision_clock_rolls_past_the_2026_spring_festival():
    # Received Tue 2026-02-10: day 7 is 02-17, inside the Spring Festival holiday (02-15..02-23).
    assert not CAL.is_workday(date(2026, 2, 17)) and CAL.is_workday(date(2026, 2, 24))
    assert domain.clock_due(CAL, "decision", date(2026, 2, 10)).due == date(2026, 2, 24)


def test_assignment_clock_ends_on_a_make_up_saturday():
    # 2026-02-14 and 2026-02-28 are Saturdays worked in exchange (调休): a deadline may end there.
    assert CAL.is_workday(date(2026, 2, 14)) and CAL.is_workday(date(2026, 2, 28))
    assert domain.clock_due(CAL, "assignment", date(2026, 2, 11)).due == date(2026, 2, 14)
    assert domain.clock_due(CAL, "assignment", date(2026, 2, 25)).due == date(2026, 2, 28)
    # the start day is never counted (Art 201): granted on the holiday eve, three days later is a holiday
    assert domain.clock_due(CAL, "assignment", date(2026, 2, 13)).due == date(2026, 2, 24)


def test_objection_clock_rolls_past_national_day():
    # Filed Mon 2026-09-28: day 5 is 10-03 (National Day holiday to 10-07) → Thu 10-08.
    assert domain.clock_due(CAL, "objection", date(2026, 9, 28)).due == date(2026, 10, 8)


def test_admin_table_for_a_year_the_library_does_not_know_and_the_fallback_warning():
    bare = domain.clock_due(CAL, "decision", date(2027, 2, 1))
    assert bare.warnings and "2027" in bare.warnings[0]
    table = {2027: YearSchedule(holidays={date(2027, 2, 8) + timedelta(days=i) for i in range(7)})}
    cal = WorkCalendar(table)
    d = domain.clock_due(cal, "decision", date(2027, 2, 1))  # day 7 = 02-08, a holiday in the table
    assert d.due == date(2027, 2, 15) and d.warnings == []


def test_breach_is_the_day_after_the_due_day():
    due = date(2026, 3, 9)
    assert not domain.breached(due, due) and domain.breached(due, due + timedelta(days=1))


def test_provide_first_when_fewer_than_seven_days_remain_or_preservation_is_urgent_art44():
    assert "第四十四条第一项" in domain.provide_first(TODAY + timedelta(days=6), TODAY, RULES)
    assert domain.provide_first(TODAY + timedelta(days=7), TODAY, RULES) is None
    assert domain.provide_first(None, TODAY, RULES) is None
    assert "第四十四条第二项" in domain.provide_first(None, TODAY, RULES, urgent_preservation=True)


def test_custody_forwarding_within_24_hours_art39():
    got = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert not domain.custody_forwarding_late(got, got + timedelta(hours=24))
    assert domain.custody_forwarding_late(got, got + timedelta(hours=24, minutes=1))


# ---------------------------------------------------------------- termination (Art 48)
@pytest.mark.parametrize("cause", sorted(domain.TERMINATION_CAUSES))
def test_each_art48_cause_terminates_with_a_reason(cause):
    assert domain.termination_problems(cause, "受援人书面说明情况") == []
    assert domain.termination_problems(cause, "  ") == ["须写明终止的具体理由"]


def test_a_cause_outside_art48_is_refused():
    assert domain.termination_problems("lawyer_busy", "律师工作太忙") == [
        "终止原因须为第四十八条列明的情形之一"
    ]


# ---------------------------------------------------------------- identity (PIPL / GB 11643)
def test_id_number_check_digit_and_birth_date():
    assert domain.id_number_valid("11010519491231002X")
    assert not domain.id_number_valid("110105194912310021")
    assert domain.birth_from_id("11010519491231002X") == date(1949, 12, 31)
