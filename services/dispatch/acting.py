"""Who can act on an offer — the one rule routing and the access policy share.

An offer is only worth making to someone who can open the inbox, accept it, reject it
or hand it back (退单): the access rules of those routes (access.py) allow exactly
OFFER_ROLES, and routing (domain.decide) passes over anyone whose login roles hold none
of them, saying so in the decision. Before this rule, urgent consultations at night fell
back to the city's 12348 operators, who got 403 on accept, and timed out three times.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from libs.common.staff_roles import login_roles

# Login roles that take offers: the inbox, accept, reject and return routes (access.py).
OFFER_ROLES: tuple[str, ...] = ("counter_staff", "lawyer", "mediator", "aid_officer")
# Every kind of offer (first offer, follow-up back to the previous handler, 转办) is
# answered through the same routes, so each needs the same roles.
OFFER_KINDS: dict[str, tuple[str, ...]] = {kind: OFFER_ROLES for kind in ("offer", "follow_up", "transfer")}


def can_act_on_offer(staff_role: str, kind: str = "offer", roles: Iterable[str] | None = None) -> bool:
    """Can a staff member of this role accept (or reject, or return) an offer of this kind?
    `roles`: the person's login roles when known (an account given other roles); otherwise
    the roles their staff role works under (libs.common.staff_roles)."""
    if roles is None:
        return _by_staff_role(staff_role, kind)  # routing asks this for ~100 people per order
    return bool(set(roles) & set(OFFER_KINDS.get(kind, ())))


@cache
def _by_staff_role(staff_role: str, kind: str) -> bool:
    return bool(set(login_roles(staff_role)) & set(OFFER_KINDS.get(kind, ())))


def cannot_act_reason(staff_role: str) -> str:
    return (
        f"岗位（{staff_role}）无权接单：接单、拒单、退单需 {'/'.join(OFFER_ROLES)} 角色 | "
        f"role {staff_role} cannot accept offers (needs one of {', '.join(OFFER_ROLES)})"
    )
