"""Mediation's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import allow

POLICY = {
    "GET /v1/cases": allow("mediator", "supervisor", "admin"),
    "GET /v1/cases/{case_id}": allow("mediator", "supervisor", "admin"),
}
