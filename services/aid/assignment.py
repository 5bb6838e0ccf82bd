"""Pure choice of the assigned lawyer: 点援制 where allowed, otherwise fair rotation by caseload;
conflict of interest against every party; Art 26 seniority for life/death cases. No I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class LawyerView:
    id: uuid.UUID
    name: str
    firm: str | None
    practice_years: int
    open_cases: int
    last_assigned_at: datetime | None
    clients: set[str] = field(default_factory=set)  # parties this lawyer acts or acted for in aid cases
    adversaries: set[str] = field(default_factory=set)  # parties on the other side of those cases


@dataclass
class Parties:
    clients: set[str]  # applicant (and proxy)
    adversaries: set[str]  # opposing parties


@dataclass
class Choice:
    lawyer: LawyerView | None
    rule: str  # applicant_choice | rotation
    reason: str
    rejected: dict[str, str]  # lawyer id -> why not


def norm(name: str) -> str:
    return "".join(name.split())


def conflicts(lawyer: LawyerView, parties: Parties) -> list[str]:
    """Acting against a former/current client, or for someone's adversary, is a conflict."""
    clients = {norm(n) for n in parties.clients}
    adversaries = {norm(n) for n in parties.adversaries}
    hits = sorted(adversaries & {norm(n) for n in lawyer.clients}) + sorted(
        clients & {norm(n) for n in lawyer.adversaries}
    )
    return [f"与当事人「{n}」存在利益冲突" for n in hits]


def disqualifications(
    lawyer: LawyerView, parties: Parties, *, needs_senior: bool, senior_years: int
) -> list[str]:
    why = conflicts(lawyer, parties)
    # Art 26: life imprisonment / death penalty cases need ≥ 3 years of practice.
    if needs_senior and lawyer.practice_years < senior_years:
        why.append(f"执业 {lawyer.practice_years} 年，不满 {senior_years} 年（第二十六条）")
    return why


def rotation_key(lawyer: LawyerView) -> tuple:  # type: ignore[type-arg]
    """Fewest open cases first; among equals the one who waited longest; id breaks ties stably."""
    waited = lawyer.last_assigned_at.timestamp() if lawyer.last_assigned_at else float("-inf")
    return (lawyer.open_cases, waited, str(lawyer.id))


def choose(
    candidates: list[LawyerView],
    parties: Parties,
    *,
    needs_senior: bool,
    senior_years: int,
    preferred: uuid.UUID | None,
    choice_allowed: bool,
    excluded: set[uuid.UUID] | None = None,
) -> Choice:
    excluded = excluded or set()
    rejected: dict[str, str] = {}
    eligible: list[LawyerView] = []
    for lawyer in candidates:
        if lawyer.id in excluded:
            rejected[str(lawyer.id)] = "已拒绝或曾退回本案"
            continue
        why = disqualifications(lawyer, parties, needs_senior=needs_senior, senior_years=senior_years)
        if why:
            rejected[str(lawyer.id)] = "；".join(why)
        else:
            eligible.append(lawyer)
    if preferred is not None:
        if not choice_allowed:
            return Choice(None, "applicant_choice", "本地未实行点援制，不能由申请人选择律师", rejected)
        chosen = next((lw for lw in eligible if lw.id == preferred), None)
        if chosen is None:
            reason = rejected.get(str(preferred), "不在本县法律援助律师名册中")
            return Choice(None, "applicant_choice", f"申请人选择的律师不能指派：{reason}", rejected)
        return Choice(chosen, "applicant_choice", f"点援制：按申请人选择指派{chosen.name}", rejected)
    if not eligible:
        return Choice(None, "rotation", "没有符合条件且无利益冲突的律师", rejected)
    chosen = min(eligible, key=rotation_key)
    return Choice(
        chosen,
        "rotation",
        f"轮流指派：{chosen.name}在办援助案件 {chosen.open_cases} 件，为符合条件者中最少",
        rejected,
    )
