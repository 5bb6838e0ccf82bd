"""Choosing the lawyer: rotation by caseload, 点援制, conflicts of interest, Art 26 seniority."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.aid.assignment import LawyerView, Parties, choose, conflicts

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
PARTIES = Parties(clients={"王秀英"}, adversaries={"长治市某建筑公司"})


def lawyers() -> list[LawyerView]:
    return [
        LawyerView(
            A, "甲律师", "正义所", 10, open_cases=2, last_assigned_at=datetime(2026, 3, 1, tzinfo=UTC)
        ),
        LawyerView(B, "乙律师", "明德所", 2, open_cases=0, last_assigned_at=datetime(2026, 3, 2, tzinfo=UTC)),
        LawyerView(C, "丙律师", "太行所", 5, open_cases=0, last_assigned_at=datetime(2026, 2, 1, tzinfo=UTC)),
    ]


def pick(**kw):  # type: ignore[no-untyped-def]
    args = dict(needs_senior=False, senior_years=3, preferred=None, choice_allowed=False)
    args.update(kw)
    return choose(
        kw.pop("candidates", lawyers()), PARTIES, **{k: v for k, v in args.items() if k != "candidates"}
    )


def test_rotation_prefers_fewest_open_cases_then_longest_wait():
    c = pick()
    assert c.lawyer.id == C and c.rule == "rotation"  # B and C both idle; C waited longer
    busy = lawyers()
    busy[2].open_cases = 3
    assert pick(candidates=busy).lawyer.id == B


def test_art26_grave_case_needs_three_years_of_practice():
    few = lawyers()
    few[2].practice_years = 2
    c = pick(candidates=few, needs_senior=True)
    assert c.lawyer.id == A
    assert "第二十六条" in c.rejected[str(B)] and "第二十六条" in c.rejected[str(C)]


def test_conflict_of_interest_against_every_party():
    ls = lawyers()
    ls[2].clients.add("长治市某建筑公司")  # C acts for the opposing company
    ls[1].adversaries.add("王 秀英")  # B once acted against our applicant (spacing normalised)
    assert conflicts(ls[2], PARTIES) and conflicts(ls[1], PARTIES)
    c = pick(candidates=ls)
    assert c.lawyer.id == A and "利益冲突" in c.rejected[str(C)] and "利益冲突" in c.rejected[str(B)]


def test_applicant_choice_only_where_the_county_allows_it():
    assert pick(preferred=A, choice_allowed=True).lawyer.id == A
    refused = pick(preferred=A, choice_allowed=False)
    assert refused.lawyer is None and "点援制" in refused.reason
    ls = lawyers()
    ls[0].clients.add("长治市某建筑公司")
    conflicted = pick(candidates=ls, preferred=A, choice_allowed=True)
    assert conflicted.lawyer is None and "利益冲突" in conflicted.reason
    stranger = pick(preferred=uuid.uuid4(), choice_allowed=True)
    assert stranger.lawyer is None and "名册" in stranger.reason


def test_a_lawyer_who_declined_is_not_picked_again_and_nobody_left_is_explained():
    c = pick(excluded={C, B})
    assert c.lawyer.id == A
    none = pick(excluded={A, B, C})
    assert none.lawyer is None and none.reason == "没有符合条件且无利益冲突的律师"
