"""Conflict of interest — pure, unit-tested.

A lawyer, aid officer or mediator may not act against someone they acted for in another
matter, nor for someone they acted against (律师法 Art 39; 律师执业行为规范 on conflicts).
Parties are compared by identity, never by name alone: two different people called 王伟
are not one party, so a shared name is only a warning in the decision.

- same ID-number blind index → the same person (blocked);
- both ID numbers known and different → different people, whatever else matches;
- otherwise the same phone (normalised, blind-indexed) → the same person (blocked);
- only the name matches → a warning, not a block.

"Acted" means an accepted assignment (or a case that names the person); an offer that
was never accepted is not acting for anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Match = Literal["same", "namesake"]


@dataclass(frozen=True)
class PartyKeys:
    """One party as blind indexes (libs.common.crypto.blind_index); None where unknown."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None


def compare(a: PartyKeys, b: PartyKeys) -> Match | None:
    """Are two parties the same person ("same"), possibly so by name only ("namesake")?"""
    namesake: Match | None = "namesake" if a.name and a.name == b.name else None
    if a.id_number and b.id_number:
        return "same" if a.id_number == b.id_number else namesake
    if a.phone and b.phone and a.phone == b.phone:
        return "same"
    return namesake


@dataclass(frozen=True)
class PriorAct:
    """Someone acted (accepted, or named by a case) on an earlier order in which `theirs`
    stood on the other side from `mine`, a party of the order being routed."""

    staff_id: str
    mine: PartyKeys
    theirs: PartyKeys


@dataclass(frozen=True)
class Conflicts:
    blocked: frozenset[str] = frozenset()
    warned: frozenset[str] = frozenset()  # name matches only, never blocked
    reasons: dict[str, str] = field(default_factory=dict)


BLOCK_ID = "身份证号一致 | same ID number"
BLOCK_PHONE = "电话一致 | same phone"


def assess(acts: Iterable[PriorAct]) -> Conflicts:
    blocked: dict[str, str] = {}
    warned: set[str] = set()
    for act in acts:
        verdict = compare(act.mine, act.theirs)
        if verdict == "same":
            same_id = act.mine.id_number and act.mine.id_number == act.theirs.id_number
            blocked.setdefault(act.staff_id, BLOCK_ID if same_id else BLOCK_PHONE)
        elif verdict == "namesake":
            warned.add(act.staff_id)
    reasons = {
        s: f"利益冲突：曾代理本事项另一方当事人（{why}） | conflict of interest" for s, why in blocked.items()
    }
    return Conflicts(frozenset(blocked), frozenset(warned - set(blocked)), reasons)


NAMESAKE_WARNING = (
    "提示：本事项有当事人与此人曾承办事项的对方当事人同名，身份证号或电话未能确认是同一人，"
    "接单前请核实 | warning: a party shares only a name with the other side of a matter this person "
    "handled (not confirmed by ID number or phone) — check before accepting"
)
