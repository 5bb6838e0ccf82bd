"""Which login roles (libs.common.auth.ROLES) each kind of staff member of the service
network works under — one table for dispatch (who may be offered an order) and identity
(which roles a staff member's account gets).

Staff roles are what a person *is* in the network (dispatch's `staff.role`); login roles
are what the access rules of every service check. They differ where the access rules
have no role of their own for a profession: a grassroots legal worker (基层法律服务工作者)
and a notary work the centre's windows as counter staff; a volunteer takes no orders.
"""

from __future__ import annotations

from libs.common.auth import ROLES

STAFF_LOGIN_ROLES: dict[str, tuple[str, ...]] = {
    "operator": ("operator",),  # 12348 seats: register and transfer calls, take no orders
    "counter_staff": ("counter_staff",),
    "lawyer": ("lawyer",),
    "legal_worker": ("counter_staff",),
    "mediator": ("mediator",),
    "aid_officer": ("aid_officer",),
    "notary": ("counter_staff",),  # the 公证 window of the county centre
    "volunteer": (),
}
assert all(set(r) <= set(ROLES) for r in STAFF_LOGIN_ROLES.values())


def login_roles(staff_role: str) -> tuple[str, ...]:
    """The login roles of a staff role; an unknown staff role gets none (deny by default)."""
    return STAFF_LOGIN_ROLES.get(staff_role, ())
