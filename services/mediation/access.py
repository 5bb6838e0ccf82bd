"""Mediation's access policy — the one place that says who may call what (deny by default).

Mediators (and the committee staff who hold the mediator role) run cases; supervisors read,
see the figures, may trigger the deadline sweep and work the police-liaison queue (Art 25);
everything is jurisdiction-filtered.
"""

from libs.common.auth import allow
from libs.common.case_roles import CASE_WORK_ROLES

MEDIATORS = CASE_WORK_ROLES["mediation"]  # the roles dispatch may hand a mediation order to
_READ = allow(*MEDIATORS, "supervisor", "admin")
_WORK = allow(*MEDIATORS, "admin")
_REGISTER = allow("mediator", "counter_staff", "admin", note="walk-in registration at the counter")

POLICY = {
    "GET /v1/cases": _READ,
    "POST /v1/cases": _REGISTER,
    "GET /v1/cases/{case_id}": _READ,
    "GET /v1/cases/{case_id}/agreement.html": _READ,
    "POST /v1/cases/{case_id}/parties": _REGISTER,
    "PATCH /v1/cases/{case_id}": _WORK,
    "POST /v1/cases/{case_id}/consents": _WORK,
    "POST /v1/cases/{case_id}/mediator": _WORK,
    "POST /v1/cases/{case_id}/recusals": _WORK,
    "POST /v1/cases/{case_id}/sessions": _WORK,
    "POST /v1/cases/{case_id}/sessions/{session_id}/record": _WORK,
    "POST /v1/cases/{case_id}/risk": _WORK,
    "POST /v1/cases/{case_id}/agreement": _WORK,
    "POST /v1/cases/{case_id}/agreement/signatures": _WORK,
    "POST /v1/cases/{case_id}/oral-agreement": _WORK,
    "POST /v1/cases/{case_id}/failure": _WORK,
    "POST /v1/cases/{case_id}/extensions": _WORK,
    "POST /v1/cases/{case_id}/receipt": allow(
        "mediator", "counter_staff", "admin", note="correct the receipt: reason required, audited"
    ),
    "POST /v1/cases/{case_id}/judicial-confirmation": _WORK,
    "POST /v1/cases/{case_id}/follow-ups": allow("mediator", "supervisor", "admin"),
    "GET /v1/statistics": _READ,
    "POST /v1/supervision/sweep": allow("supervisor", "admin"),
    "GET /v1/committees": allow("mediator", "counter_staff", "supervisor", "admin"),
    "GET /v1/mediators": allow("mediator", "counter_staff", "supervisor", "admin"),
    # Art 25 police liaison: the county supervisor works the queue; the mediator who told the
    # police themselves may record it too.
    "GET /v1/police-liaisons": _READ,
    "POST /v1/police-liaisons/{liaison_id}/acknowledge": _READ,
}
