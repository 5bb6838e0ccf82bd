"""Legal aid's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import allow

POLICY = {
    "GET /v1/cases": allow("aid_officer", "lawyer", "supervisor", "admin"),
    "GET /v1/cases/{case_id}": allow("aid_officer", "lawyer", "supervisor", "admin"),
}
