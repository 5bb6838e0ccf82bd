"""Dispatch's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import allow

STAFF = ("operator", "counter_staff", "lawyer", "mediator", "aid_officer", "supervisor", "admin")
HANDLERS = ("counter_staff", "lawyer", "mediator", "aid_officer")

POLICY = {
    "GET /v1/assignments": allow(*STAFF),
    "GET /v1/inbox": allow(*HANDLERS, "supervisor", "admin"),
    "POST /v1/assignments/{assignment_id}/accept": allow(*HANDLERS),
    "GET /v1/work-orders/{work_order_id}/decision": allow("operator", "supervisor", "admin"),
    "GET /v1/service-points": allow(*STAFF),
    "GET /v1/staff": allow(*STAFF),
}
