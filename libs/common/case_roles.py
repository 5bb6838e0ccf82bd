"""Who can work an order once they hold it, by service type — one table for dispatch (whom an
order may be offered or transferred to) and the case services' access rules (who may act on
the case an accepted order opens), so the two sides cannot drift apart.

Most orders are answered and closed through dispatch and intake, whose routes every role that
takes offers may use (services/dispatch/acting.py). Two service types open a case in a service of
their own when accepted, and only that service's working role can move the case on:
- legal_aid → an aid case (services/aid): the 法律援助机构's officer reviews and decides
  (法律援助法 Art 43), then appoints a lawyer (Art 44); a lawyer sees only the cases appointed
  to them, so a lawyer holding the order can do nothing with it.
- mediation → a mediation case (services/mediation): only a 人民调解员 mediates
  (人民调解法 Art 13, Art 19); a lawyer or aid officer holding it gets 403 on every step.

Before this table, an urgent mediation order at night went to the city's 7×24 on-call tier
(policy.yaml `on_call`, lawyers and aid officers), was accepted by an aid officer, and stopped:
every mediation step answered 403 `role_forbidden` and nothing handed it to a mediator.
"""

from __future__ import annotations

from functools import cache

from libs.common.bilingual import Text
from libs.common.staff_roles import login_roles

# Service type → the login roles (libs.common.auth.ROLES) that work its case. A type not listed
# opens no case: whoever may take an offer can answer it.
CASE_WORK_ROLES: dict[str, tuple[str, ...]] = {
    "legal_aid": ("aid_officer",),
    "mediation": ("mediator",),
}
CASE_LABELS = {"legal_aid": "法律援助", "mediation": "人民调解"}


def work_roles(service_type: str) -> tuple[str, ...] | None:
    """The login roles that can work an order of this type; None: any role that takes offers."""
    return CASE_WORK_ROLES.get(service_type)


@cache
def can_work(service_type: str, staff_role: str) -> bool:
    """Can a staff member of this role (through the login roles it grants) work an order of this
    service type once they hold it? Routing asks this for ~100 people per order, hence the cache."""
    needed = CASE_WORK_ROLES.get(service_type)
    return needed is None or bool(set(login_roles(staff_role)) & set(needed))


def cannot_work_reason(service_type: str, staff_role: str) -> Text:
    """Why not (a decision stores `str()` of it, a 409 raises it)."""
    needed = CASE_WORK_ROLES.get(service_type, ())
    label = CASE_LABELS.get(service_type, service_type)
    return Text(
        f"岗位（{staff_role}）不能办理{label}案件（需 {'/'.join(needed)} 角色）",
        f"role {staff_role} cannot work a {service_type} case (needs {', '.join(needed)})",
    )
