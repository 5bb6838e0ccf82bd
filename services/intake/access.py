"""Intake's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import PUBLIC, allow

CASE_WORKERS = ("lawyer", "mediator", "aid_officer")
FRONT_DESK = ("operator", "counter_staff", "supervisor", "admin")
READERS = (*FRONT_DESK, *CASE_WORKERS)
# Open311 GeoReport v2 clients: a bearer token with the external_system role, or an API key from
# identity (scopes are resource:action there): open311:read to look, open311:write to file and look.
OPEN311 = allow(
    "external_system", scopes=("open311:read", "open311:write"), note="Open311 GeoReport v2 clients"
)
OPEN311_WRITE = allow("external_system", scopes=("open311:write",), note="Open311 GeoReport v2 clients")

POLICY = {
    "POST /v1/work-orders": allow(*FRONT_DESK, "external_system", scopes=("workorders:write",)),
    "GET /v1/work-orders": allow(*READERS, scopes=("workorders:read",)),
    "GET /v1/work-orders/{order_id}": allow(*READERS, "external_system", scopes=("workorders:read",)),
    "PATCH /v1/work-orders/{order_id}": allow(*FRONT_DESK),
    "PUT /v1/work-orders/{order_id}/classification": allow(*FRONT_DESK),
    "POST /v1/work-orders/{order_id}/merge": allow(*FRONT_DESK),
    "POST /v1/work-orders/{order_id}/unmerge": allow(*FRONT_DESK),
    # Whoever handled the order may close it; the callback rule (domain.closure_blockers) still applies.
    "POST /v1/work-orders/{order_id}/close": allow(*FRONT_DESK, *CASE_WORKERS),
    "POST /v1/work-orders/{order_id}/rating": allow("operator", "counter_staff", "supervisor", "admin"),
    # Unmasked phone/ID number: only who calls back or verifies identity; each read audited (PIPL Art 51).
    "GET /v1/work-orders/{order_id}/contact": allow("operator", "counter_staff", "supervisor"),
    "GET /v1/tasks": allow(*READERS),
    "POST /v1/tasks/{task_id}/attempts": allow(*READERS),
    "POST /v1/classify": allow("operator", "counter_staff", "supervisor", "admin"),
    "POST /v1/caller-lookup": allow("operator", "counter_staff", "supervisor", "admin"),
    # The road to dispatch (issue #14): unacknowledged orders and re-announcements, own region only.
    "GET /v1/pipeline/reconciliation": allow("supervisor", "admin"),
    # The citizen's own view: order number + last 4 phone digits; rate limited per IP and per number.
    "GET /v1/track/{number}": PUBLIC,
    "POST /v1/track/{number}/rating": PUBLIC,
    "GET /open311/v2/services.json": OPEN311,
    "GET /open311/v2/services/{code}.json": OPEN311,
    "POST /open311/v2/requests.json": OPEN311_WRITE,
    "GET /open311/v2/requests.json": OPEN311,
    "GET /open311/v2/requests/{request_id}.json": OPEN311,
    "GET /open311/v2/tokens/{token}.json": OPEN311,
}
