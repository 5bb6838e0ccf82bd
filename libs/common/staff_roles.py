"""Which login roles (libs.common.auth.ROLES) each kind of staff member of the service network
works under, and the jurisdiction their home service point gives them — one table for dispatch
(who may be offered an order: services/dispatch/acting.py) and identity (which roles the account
linked to a staff member gets: services/identity/staff_link.py), so the two sides agree.

Staff roles are what a person *is* in the network (dispatch's `staff.role`); login roles are what
the access rules of every service check. They differ where the access rules have no role of their
own for a profession: a grassroots legal worker (基层法律服务工作者) and a notary work the centre's
windows as counter staff; a volunteer helps at a village room but takes no orders (an admin can
still give their account a role).
"""

from __future__ import annotations

from libs.common.auth import ROLES

STAFF_ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "operator": ("operator",),  # 12348 seats: register and transfer calls, take no orders
    "counter_staff": ("counter_staff",),  # window clerks
    "legal_worker": ("counter_staff",),
    "notary": ("counter_staff",),  # the 公证 window of the county centre
    "volunteer": (),
    "lawyer": ("lawyer",),
    "mediator": ("mediator",),
    "aid_officer": ("aid_officer",),
    "supervisor": ("supervisor",),
}
STAFF_LOGIN_ROLES = STAFF_ROLE_GRANTS  # the name routing reads it by
if not all(set(r) <= set(ROLES) for r in STAFF_ROLE_GRANTS.values()):  # a typo must not start
    raise ValueError("STAFF_ROLE_GRANTS names a role auth.ROLES does not know")


def grants_for(staff_role: str | None) -> tuple[str, ...]:
    """The login roles of a staff role; an unknown one gets none (deny by default; an admin decides)."""
    return STAFF_ROLE_GRANTS.get(staff_role or "", ())


login_roles = grants_for


def jurisdiction_of(*, county_code: str | None, region_code: str) -> str:
    """The region prefix a staff member works in: their county, or for the city (or province)
    centre the city's (province's) prefix — "140400" → "1404", so a city operator sees the city."""
    if county_code:
        return county_code
    code = region_code
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code
