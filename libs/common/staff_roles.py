"""What a staff member's work needs to be able to log in and act: the login roles their
dispatch role gives them, and the jurisdiction their home service point gives them.

Shared so the two sides agree: identity grants these roles to the account linked to the
person (services/identity/staff_link.py); routing can ask the same table whether the person
it is about to offer an order to holds a role that can accept it.
"""

from __future__ import annotations

from libs.common.auth import ROLES

# dispatch's staff.role → identity roles (libs/common/auth.py ROLES; who may do what is in
# each service's access.py: the counter inbox, accept and reject need counter_staff, lawyer,
# mediator or aid_officer).
STAFF_ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "operator": ("operator",),  # 12348 hotline seats
    "counter_staff": ("counter_staff",),  # window clerks
    # 基层法律服务工作者, notaries and volunteers serve at counters and village rooms: they take
    # the offers of their window through the counter inbox.
    "legal_worker": ("counter_staff",),
    "notary": ("counter_staff",),
    "volunteer": ("counter_staff",),
    "lawyer": ("lawyer",),
    "mediator": ("mediator",),
    "aid_officer": ("aid_officer",),
    "supervisor": ("supervisor",),
}
assert all(set(r) <= set(ROLES) for r in STAFF_ROLE_GRANTS.values())


def grants_for(staff_role: str | None) -> tuple[str, ...]:
    """The login roles of a dispatch role; an unknown role gets none (an admin decides)."""
    return STAFF_ROLE_GRANTS.get(staff_role or "", ())


def jurisdiction_of(*, county_code: str | None, region_code: str) -> str:
    """The region prefix a staff member works in: their county, or for the city (or province)
    centre the city's (province's) prefix — "140400" → "1404", so a city operator sees the city."""
    if county_code:
        return county_code
    code = region_code
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code
