"""Routing policy as data: load the versioned YAML into plain objects and match an order.

The policy file is the only place that says which window serves what; domain.decide
reads it, and every decision records `policy.version`. Loading is the only I/O here
(`load_policy`), so the matching itself stays pure and unit-testable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

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
        targets = []
        for t in r.get("targets") or []:
            if t.get("tier") not in TIERS:
                raise ValueError(f"policy rule {r.get('id', i)}: tier must be one of {TIERS}")
            targets.append(
                Target(
                    tier=t["tier"],
                    roles=_tuple(t["roles"]),
                    skill=str(t["skill"]),
                    window=str(t.get("window", "")),
                    min_level=int(t.get("min_level", defaults.get("min_proficiency", 1))),
                    domain_level=t.get("domain_level"),
                    timeout_minutes=int(t.get("timeout_minutes", timeout)),
                )
            )
        if not targets:
            raise ValueError(f"policy rule {r.get('id', i)}: at least one target is required")
        match = {k: _tuple(v) for k, v in (r.get("match") or {}).items()}
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
    clocks = {k: ClockRule(**v) for k, v in clocks_doc.items()}
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
    )


def load_policy(path: str | Path | None = None) -> Policy:
    with open(path or POLICY_PATH, encoding="utf-8") as f:
        return parse_policy(yaml.safe_load(f))


@lru_cache
def default_policy() -> Policy:
    """The policy in force: LAWLINE_DISPATCH_POLICY (a YAML path) or the shipped policy.yaml."""
    return load_policy(os.environ.get("LAWLINE_DISPATCH_POLICY") or None)
