"""Routing policy as data: load the versioned YAML into plain objects and match an order.

The policy file is the only place that says which window serves what; every decision
records `policy.version`. Loading is the only I/O here (`load_policy`, and `default_policy`:
the file in force, read once per process): the service loads it and hands it to
domain.decide, which never reads a file or the environment itself, so the matching and
the routing stay pure and unit-testable.

Urgency is an ordered scale (libs.common.urgency: normal < urgent < critical) and the
policy is checked to treat a more urgent order at least as strictly as a less urgent
one: a rule's `urgency` names the lowest level it takes; the 7×24 on-call tier, offer
timeout caps, transfer clocks and the supervision ladder of `critical` default to those
of `urgent` and may only be stricter. Every target must name roles that can act on an
offer (acting.py), or orders would be offered to people who can only let them time out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from libs.common import urgency as urg
from libs.common.case_roles import can_work, work_roles
from services.dispatch.acting import OFFER_ROLES, can_act_on_offer

POLICY_PATH = Path(__file__).with_name("policy.yaml")
TIERS = ("village", "township", "county", "city")
MATCH_KEYS = ("service_type", "domain", "complexity", "special_groups", "urgency", "channel")
RELAXATIONS = ("lower_proficiency", "neighbouring_township", "parent_tier")


@dataclass(frozen=True)
class Target:
    tier: str
    roles: tuple[str, ...]
    skill: str
    window: str = ""
    min_level: int = 1
    domain_level: int | None = None  # proficiency needed in the order's legal domain
    timeout_minutes: int = 30


@dataclass(frozen=True)
class Rule:
    id: str
    match: dict[str, tuple[str, ...]]
    targets: tuple[Target, ...]

    def matches(self, facts: dict[str, Any]) -> bool:
        for key, allowed in self.match.items():
            value = facts.get(key)
            if key == "special_groups":
                groups = set(value or ())
                if "any" in allowed:
                    if not groups:
                        return False
                elif not groups & set(allowed):
                    return False
            elif value not in allowed:
                return False
        return True


@dataclass(frozen=True)
class ClockRule:
    transfer_workdays: int = 1
    urgent_transfer_hours: float = 1
    reply_workdays: int = 5
    max_workdays: int = 15
    reply_natural_days: bool = False
    critical_transfer_hours: float | None = None  # unset: as urgent; never longer (parse_policy)

    def transfer_hours(self, urgency: str | None) -> float | None:
        """The transfer clock in natural hours for an urgent or critical order (12348 runs
        7×24); None: a normal order counts working days."""
        if urg.at_least(urgency, "critical") and self.critical_transfer_hours is not None:
            return min(self.critical_transfer_hours, self.urgent_transfer_hours)
        return self.urgent_transfer_hours if urg.at_least(urgency, "urgent") else None


@dataclass(frozen=True)
class Rung:
    level: int
    after_hours: float
    to: str


@dataclass(frozen=True)
class Policy:
    version: str
    rules: tuple[Rule, ...]
    bands: dict[str, tuple[int, int]]
    load_weight: dict[str, int]
    relaxation: tuple[str, ...]
    offer_timeout_minutes: int = 30
    max_offers: int = 3
    clocks: dict[str, ClockRule] = field(default_factory=dict)
    at_risk_fraction: float = 0.8
    ladder: tuple[Rung, ...] = ()
    # Per urgency level (every level of the scale present after parse_policy).
    ladders: dict[str, tuple[Rung, ...]] = field(default_factory=dict)
    offer_timeout_caps: dict[str, int] = field(default_factory=dict)
    on_call: OnCall | None = None

    def band(self, score: int) -> str:
        for name, (lo, hi) in self.bands.items():
            if lo <= score <= hi:
                return name
        return max(self.bands, key=lambda n: self.bands[n][1])

    def match(self, facts: dict[str, Any]) -> Rule:
        for rule in self.rules:
            if rule.matches(facts):
                return rule
        raise LookupError(f"policy {self.version} has no rule for {facts}")

    def clock(self, service_type: str) -> ClockRule:
        return self.clocks.get(service_type) or self.clocks.get("default") or ClockRule()

    def targets(self, rule: Rule, urgency: str | None) -> tuple[Target, ...]:
        """The rule's targets, then the 7×24 on-call tier for an order urgent enough."""
        oc = self.on_call
        if oc is None or not urg.at_least(urgency, oc.min_urgency) or oc.target in rule.targets:
            return rule.targets
        return (*rule.targets, oc.target)

    def offer_timeout(self, urgency: str | None, target_minutes: int | None) -> int:
        """The target's offer timeout (or the default), capped by the order's urgency."""
        minutes = self.offer_timeout_minutes if target_minutes is None else target_minutes
        cap = self.offer_timeout_caps.get(urgency or "normal")
        return min(minutes, cap) if cap is not None else minutes

    def ladder_for(self, urgency: str | None) -> tuple[Rung, ...]:
        return self.ladders.get(urgency or "normal") or self.ladder

    @property
    def top_level(self) -> int:
        return max((r.level for ladder in (self.ladder, *self.ladders.values()) for r in ladder), default=0)


@dataclass(frozen=True)
class OnCall:
    """The 7×24 tier (值班) every order at least `min_urgency` falls back to."""

    min_urgency: str
    target: Target


def _tuple(v: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in (v if isinstance(v, list | tuple) else [v]))


def parse_policy(doc: dict[str, Any]) -> Policy:
    """Validate and convert a policy document; raises ValueError naming what is wrong."""
    if not doc.get("version"):
        raise ValueError("policy: `version` is required")
    defaults = doc.get("defaults") or {}
    timeout = int(defaults.get("offer_timeout_minutes", 30))
    rules = []
    for i, r in enumerate(doc.get("rules") or []):
        unknown = set(r.get("match") or {}) - set(MATCH_KEYS)
        if unknown:
            raise ValueError(f"policy rule {r.get('id', i)}: unknown match keys {sorted(unknown)}")
        where = f"policy rule {r.get('id', i)}"
        targets = [_target(t, defaults, timeout, where) for t in r.get("targets") or []]
        if not targets:
            raise ValueError(f"{where}: at least one target is required")
        match = {k: _tuple(v) for k, v in (r.get("match") or {}).items()}
        if "urgency" in match:
            match["urgency"] = _at_or_above(match["urgency"], where)
        _check_workable(where, match.get("service_type", ()), targets)
        rules.append(Rule(str(r.get("id", f"rule-{i}")), match, tuple(targets)))
    if not rules or rules[-1].match:
        raise ValueError("policy: the last rule must match everything (`match: {}`)")
    relax = _tuple(doc.get("relaxation") or RELAXATIONS)
    if set(relax) - set(RELAXATIONS):
        raise ValueError(f"policy: relaxation steps must be among {RELAXATIONS}")
    clocks_doc = dict(doc.get("clocks") or {})
    ladder = tuple(
        Rung(int(x["level"]), float(x["after_hours"]), str(x["to"])) for x in clocks_doc.pop("ladder", [])
    )
    at_risk = float(clocks_doc.pop("at_risk_fraction", 0.8))
    by_urgency = {
        u: tuple(Rung(int(x["level"]), float(x["after_hours"]), str(x["to"])) for x in rungs)
        for u, rungs in (clocks_doc.pop("ladder_by_urgency", None) or {}).items()
    }
    clocks = {k: ClockRule(**v) for k, v in clocks_doc.items()}
    for name, c in clocks.items():
        if c.critical_transfer_hours is not None and c.critical_transfer_hours > c.urgent_transfer_hours:
            raise ValueError(f"policy clocks {name}: critical_transfer_hours must not exceed urgent's")
    on_call = None
    if doc.get("on_call"):
        oc = doc["on_call"]
        level = _at_or_above(_tuple(oc.get("min_urgency", "urgent")), "policy on_call")[0]
        on_call = OnCall(level, _target(oc["target"], defaults, timeout, "policy on_call"))
    return Policy(
        version=str(doc["version"]),
        rules=tuple(rules),
        bands={k: (int(v[0]), int(v[1])) for k, v in (doc.get("complexity_bands") or {}).items()}
        or {"simple": (0, 2), "medium": (3, 4), "complex": (5, 99)},
        load_weight={k: int(v) for k, v in (doc.get("load_weight") or {}).items()},
        relaxation=relax,
        offer_timeout_minutes=timeout,
        max_offers=int(defaults.get("max_offers", 3)),
        clocks=clocks,
        at_risk_fraction=at_risk,
        ladder=ladder,
        ladders=_ladders(ladder, by_urgency),
        offer_timeout_caps=_caps(defaults.get("offer_timeout_cap_minutes") or {}),
        on_call=on_call,
    )


def _target(t: dict[str, Any], defaults: dict[str, Any], timeout: int, where: str) -> Target:
    if t.get("tier") not in TIERS:
        raise ValueError(f"{where}: tier must be one of {TIERS}")
    roles = _tuple(t["roles"])
    idle = [r for r in roles if not can_act_on_offer(r)]
    if idle:
        raise ValueError(
            f"{where}: roles {idle} cannot accept an offer (login roles that can: {', '.join(OFFER_ROLES)})"
        )
    return Target(
        tier=t["tier"],
        roles=roles,
        skill=str(t["skill"]),
        window=str(t.get("window", "")),
        min_level=int(t.get("min_level", defaults.get("min_proficiency", 1))),
        domain_level=t.get("domain_level"),
        timeout_minutes=int(t.get("timeout_minutes", timeout)),
    )


def _check_workable(where: str, service_types: tuple[str, ...], targets: list[Target]) -> None:
    """A rule's every target must name a role that can work each service type it matches (a
    mediation rule sending orders to lawyers would park them where nobody can act). The on-call
    target serves every type, so routing passes over, per order, whoever on it cannot work it."""
    for n, target in enumerate(targets, 1):
        for service_type in service_types:
            if not any(can_work(service_type, role) for role in target.roles):
                raise ValueError(
                    f"{where} target {n}: roles {list(target.roles)} cannot work {service_type} "
                    f"(needs {', '.join(work_roles(service_type) or ())})"
                )


def _at_or_above(levels: tuple[str, ...], where: str) -> tuple[str, ...]:
    """A rule naming an urgency takes that level and every more urgent one."""
    unknown = set(levels) - set(urg.SCALE)
    if unknown:
        raise ValueError(f"{where}: urgency must be among {urg.SCALE}, not {sorted(unknown)}")
    return urg.levels_from(min(levels, key=urg.rank))


def _ladders(base: tuple[Rung, ...], given: dict[str, tuple[Rung, ...]]) -> dict[str, tuple[Rung, ...]]:
    """A ladder per urgency level: a level not given takes the one below; each rung of a
    more urgent level is reached no later than the same rung of the level below."""
    unknown = set(given) - set(urg.SCALE)
    if unknown:
        raise ValueError(f"policy ladder_by_urgency: unknown urgency {sorted(unknown)}")
    out: dict[str, tuple[Rung, ...]] = {}
    below = base
    for level in urg.SCALE:
        ladder = given.get(level) or below
        reached = {r.level: r.after_hours for r in ladder}
        for r in below:
            if reached.get(r.level, float("inf")) > r.after_hours:
                raise ValueError(
                    f"policy ladder_by_urgency {level}: rung {r.level} later than a less urgent one's"
                )
        out[level], below = ladder, ladder
    return out


def _caps(given: dict[str, Any]) -> dict[str, int]:
    """Offer-timeout caps per urgency level, never looser for a more urgent level."""
    unknown = set(given) - set(urg.SCALE)
    if unknown:
        raise ValueError(f"policy offer_timeout_cap_minutes: unknown urgency {sorted(unknown)}")
    out: dict[str, int] = {}
    below: int | None = None
    for level in urg.SCALE:
        cap = int(given[level]) if level in given else below
        if cap is not None and below is not None and cap > below:
            raise ValueError(
                f"policy offer_timeout_cap_minutes: {level} must not exceed a less urgent level's"
            )
        if cap is not None:
            out[level] = cap
        below = cap
    return out


def load_policy(path: str | Path | None = None) -> Policy:
    with open(path or POLICY_PATH, encoding="utf-8") as f:
        return parse_policy(yaml.safe_load(f))


@lru_cache
def default_policy() -> Policy:
    """The policy in force: LAWLINE_DISPATCH_POLICY (a YAML path) or the shipped policy.yaml."""
    return load_policy(os.environ.get("LAWLINE_DISPATCH_POLICY") or None)
