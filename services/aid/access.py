"""Legal aid's access policy — the one place that says who may call what (deny by default).

Officers (aid_officer) review and decide; the assigned lawyer handles and closes (and sees only
their own cases); the 司法行政部门 (supervisor) decides objections (Art 49); courts,
procuratorates and police notify through external_system credentials (Art 36)."""

from libs.common.auth import allow
from libs.common.case_roles import CASE_WORK_ROLES

OFFICERS = CASE_WORK_ROLES["legal_aid"]  # the roles dispatch may hand a legal-aid order to
READ = (*OFFICERS, "counter_staff", "lawyer", "supervisor", "admin")
OFFICER = (*OFFICERS, "admin")
DESK = ("aid_officer", "counter_staff", "admin")

POLICY = {
    "GET /v1/cases": allow(*READ),
    "GET /v1/cases/{case_id}": allow(*READ),
    "GET /v1/cases/{case_id}/log": allow(*READ),
    "GET /v1/cases/{case_id}/documents/{kind}.html": allow(*READ),
    "GET /v1/rules": allow(*READ),
    # Documents: whoever sees the case sees its documents (jurisdiction; a lawyer their own cases),
    # each download audited; the window and officers upload, and the assigned lawyer (evidence).
    "GET /v1/cases/{case_id}/uploads": allow(*READ),
    "GET /v1/cases/{case_id}/uploads/{upload_id}/content": allow(*READ, note="audited download"),
    "POST /v1/cases/{case_id}/uploads": allow(*DESK, "lawyer"),
    "GET /v1/lawyers": allow("aid_officer", "supervisor", "admin"),
    "POST /v1/applications": allow(*DESK),
    "POST /v1/cases/{case_id}/application": allow(*DESK),
    "POST /v1/cases/{case_id}/supplement": allow(*DESK),
    "POST /v1/cases/{case_id}/withdraw": allow(*DESK),
    "POST /v1/cases/{case_id}/receipt": allow(*DESK, note="correct the receipt: reason required, audited"),
    "POST /v1/cases/{case_id}/decision": allow(*OFFICER),
    "POST /v1/cases/{case_id}/assign": allow(*OFFICER),
    "POST /v1/cases/{case_id}/lawyer-accept": allow("lawyer"),
    "POST /v1/cases/{case_id}/lawyer-decline": allow("lawyer"),
    "POST /v1/cases/{case_id}/progress": allow("lawyer"),
    "POST /v1/cases/{case_id}/close": allow("lawyer"),
    "POST /v1/cases/{case_id}/subsidy": allow(*OFFICER),
    "POST /v1/cases/{case_id}/return-visit": allow(*OFFICER),
    "POST /v1/cases/{case_id}/archive": allow(*OFFICER),
    "POST /v1/cases/{case_id}/terminate": allow(*OFFICER),
    "POST /v1/cases/{case_id}/objection": allow(*DESK),
    "POST /v1/cases/{case_id}/objection/decision": allow("supervisor", "admin"),
    "POST /v1/notifications": allow("aid_officer", "external_system", "admin", scopes=("aid:notify",)),
    "POST /v1/clock-sweeps": allow("supervisor", "admin"),
}
