"""What a change intake announces about an order means for its routing — pure, unit-tested.

Intake reclassifies, raises the urgency or the special groups, corrects the region, moves the
order to another county, merges and unmerges it (services/dispatch/lifecycle.py applies them).
Here: which facts changed (`diff`), whether the person who has the order still fits the new
facts (`still_fits`), and what to do (`redecide`):

- an open offer that no longer fits is withdrawn and the order offered again under the new
  facts (same for an accepted order whose handler's role or skill cannot serve the new type —
  an accepted handler keeps it otherwise: where they sit no longer matters once they took it);
- an order in the supervisor queue is routed again when the new facts match another policy rule
  (the reason nobody was found may be gone), otherwise it keeps its place, re-prioritised;
- a closed or merged order only has its facts recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.case_roles import can_work, cannot_work_reason
from services.dispatch import domain
from services.dispatch.acting import can_act_on_offer, cannot_act_reason
from services.dispatch.policy import Policy, Rule

KEEP = "keep"  # the current holder stays (the order's facts are updated)
WITHDRAW = "withdraw"  # withdraw the offer / assignment and offer the order again
REROUTE = "reroute"  # nobody holds it: route it again under the new facts
QUEUE = "queue"  # stays in the supervisor queue, re-prioritised
NOTHING = "nothing"  # closed or merged: facts recorded only

CAUSE_ZH = {
    "reclassified": "工单重新分类",
    "region_corrected": "工单区划更正",
    "county_transfer": "跨县转办",
    "merged": "并单",
    "unmerged": "撤销并单",
    "reconciled": "对账时发现工单信息已变更",
}


@dataclass(frozen=True)
class Facts:
    """What routing reads of an order that intake may change."""

    service_type: str
    domain: str | None
    urgency: str
    special_groups: tuple[str, ...]
    region_code: str
    county_code: str


@dataclass(frozen=True)
class Change:
    reclassified: bool = False  # service type or legal domain
    urgency: bool = False
    groups: bool = False
    region: bool = False
    county: bool = False

    @property
    def any(self) -> bool:
        return self.reclassified or self.urgency or self.groups or self.region or self.county

    @property
    def clocks(self) -> bool:
        """The clocks depend on the service type (policy.clock) and the urgency."""
        return self.reclassified or self.urgency

    def describe(self, before: Facts, after: Facts) -> str:
        parts = []
        if before.service_type != after.service_type:
            parts.append(f"服务类型 {before.service_type}→{after.service_type}")
        if before.domain != after.domain:
            parts.append(f"法律领域 {before.domain or '-'}→{after.domain or '-'}")
        if self.urgency:
            parts.append(f"紧急程度 {before.urgency}→{after.urgency}")
        if self.groups:
            parts.append(
                f"特殊群体 {'/'.join(before.special_groups) or '-'}→{'/'.join(after.special_groups) or '-'}"
            )
        if self.region:
            parts.append(f"区划 {before.region_code}→{after.region_code}")
        return "，".join(parts)


def diff(before: Facts, after: Facts) -> Change:
    return Change(
        reclassified=(before.service_type, before.domain) != (after.service_type, after.domain),
        urgency=before.urgency != after.urgency,
        groups=tuple(sorted(before.special_groups)) != tuple(sorted(after.special_groups)),
        region=before.region_code != after.region_code,
        county=before.county_code != after.county_code,
    )


def stale(sequence: int | None, applied: int) -> bool:
    """An intake event older than (or as old as) one already applied: its facts are superseded.
    Events without a revision (an older producer) are taken as they come."""
    return sequence is not None and sequence <= applied


def rule_for(order: domain.OrderView, policy: Policy) -> Rule:
    """The policy rule an order matches, as domain.decide would pick it."""
    cplx = domain.order_complexity(order)
    return policy.match(
        {
            "service_type": order.service_type,
            "domain": order.domain,
            "complexity": policy.band(cplx.score),
            "special_groups": order.special_groups,
            "urgency": order.urgency,
            "channel": order.channel,
        }
    )


def still_fits(s: domain.StaffView, order: domain.OrderView, policy: Policy, *, taken: bool) -> str | None:
    """None when this person still fits the order's current facts, else why not (stored with
    the decision). `taken`: accepted, or named by a person (转办) — then only their role and skill
    must serve the rule now matching; an open routed offer must also sit where the rule looks
    (its tiers and the order's locality, relaxation included)."""
    if not can_work(order.service_type, s.role):  # a lawyer holding what became a mediation order
        return str(cannot_work_reason(order.service_type, s.role))
    rule = rule_for(order, policy)
    # The targets routing would use, the 7×24 on-call tier included for an urgent order: the
    # on-call lawyer working an urgent consultation keeps it when a fact of it changes.
    targets = policy.targets(rule, order.urgency)
    serving = [t for t in targets if s.role in t.roles and t.skill in s.skills]
    if not serving:
        needed = "；".join(f"{'/'.join(t.roles)}·{t.skill}" for t in targets)
        return (
            f"岗位/技能不适用于规则 {rule.id}（需要 {needed}） | role or skill does not serve rule {rule.id}"
        )
    if taken:
        return None
    for t in serving:
        for step, tier in domain._steps(policy, t):
            if domain._in_scope(s, order, tier, step):
                return None
    return f"所在服务点不在规则 {rule.id} 的目标范围 | not at a point rule {rule.id} looks at"


def holder_unable(*, active: bool, role: str, service_type: str) -> str | None:
    """None when a staff member (after a change to them) can still act on an order of this type
    they hold, else why not: deactivated (their login is disabled with them), or given a role
    that cannot answer offers or cannot work the case the order opens."""
    if not active:
        return "承办人已停用（登录已随之停用） | the holder was deactivated (their login with them)"
    if not can_act_on_offer(role):
        return cannot_act_reason(role)
    if not can_work(service_type, role):
        return str(cannot_work_reason(service_type, role))
    return None


def redecide(*, status: str, holder_fit: str | None, has_holder: bool, rule_changed: bool) -> str:
    """What to do after the facts changed (see the module docstring)."""
    if status in ("closed", "merged"):
        return NOTHING
    if has_holder:
        return KEEP if holder_fit is None else WITHDRAW
    if status == "escalated":
        return REROUTE if rule_changed else QUEUE
    return REROUTE  # "new": between an ending and the next offer — nothing holds it
