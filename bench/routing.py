"""Who may serve an order, read from the routing policy — for building candidate pools.

The bench does not route: routing is services.dispatch.domain.decide. But the
baselines, the Erlang-C floor and the decisions benchmark need to know which people
are *eligible* for an order, and that is now data (services/dispatch/policy.yaml):
the first rule matching the order's facts names ordered targets (tier, roles, skill).
These helpers find that rule as decide() does (domain.match_rule: the domain's own
complexity scoring, the policy's own `band`/`match`) and read roles and skills off its targets.
"""

from __future__ import annotations

from functools import lru_cache

from services.dispatch import domain
from services.dispatch.policy import Policy, Rule, Target, default_policy


def rule_for(order: domain.OrderView, policy: Policy | None = None) -> Rule:
    """The policy rule decide() applies to this order (domain.match_rule, as decide asks it)."""
    return domain.match_rule(order, policy or default_policy())[2]


def _order(service_type: str) -> domain.OrderView:
    # A plain order of this type: no description, domain or special group — what the
    # simulation's calibrated arrivals are.
    return domain.OrderView(id="", service_type=service_type, county_code="")


def targets_for(
    service_type: str, policy: Policy | None = None, tier: str | None = None
) -> tuple[Target, ...]:
    if policy is None:
        return _default_targets(service_type, tier)
    return tuple(t for t in rule_for(_order(service_type), policy).targets if tier is None or t.tier == tier)


@lru_cache(maxsize=256)
def _default_targets(service_type: str, tier: str | None) -> tuple[Target, ...]:
    # Hot in the baselines (one call per order); the shipped policy never changes in a run.
    return tuple(t for t in rule_for(_order(service_type)).targets if tier is None or t.tier == tier)


def roles_for(service_type: str, policy: Policy | None = None, tier: str | None = None) -> tuple[str, ...]:
    """Roles any target (optionally: only those at `tier`) of the matched rule accepts."""
    out: list[str] = []
    for t in targets_for(service_type, policy, tier):
        out.extend(r for r in t.roles if r not in out)
    return tuple(out)


def fits(role: str, skills: frozenset[str] | set[str], service_type: str, tier: str | None = None) -> bool:
    """Does a person with this role and skills match some target (at `tier`) of the rule?"""
    return any(role in t.roles and t.skill in skills for t in targets_for(service_type, None, tier))
