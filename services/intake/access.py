"""Intake's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import allow

CASE_WORKERS = ("lawyer", "mediator", "aid_officer")

POLICY = {
    "POST /v1/work-orders": allow(
        "operator", "counter_staff", "supervisor", "admin", "external_system", scopes=("workorders:write",)
    ),
    "GET /v1/work-orders/{order_id}": allow(
        "operator",
        "counter_staff",
        "supervisor",
        "admin",
        *CASE_WORKERS,
        "external_system",
        scopes=("workorders:read",),
    ),
}
