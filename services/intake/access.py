"""Intake's access policy — the one place that says who may call what (deny by default), and
which orders each role sees (object level, libs.common.auth.object_access; checked in
services/intake/visibility.py, generated into the access-matrix test).

Access follows the work (issue #15): whoever dispatch offered or gave an order to sees it, in
any county — a handler of 武乡县 given a 沁县 order by a transfer included. Front-desk roles
(operators, counter staff: they register and look up) and supervisors see their jurisdiction.
The case-working roles see only what was given to them: a lawyer or mediator serves the matters
offered or assigned to them, and a legal-aid officer's county-wide view is the aid service's
case list (法律援助法 Art 43 review happens there) — intake's orders of every kind carry personal
data they have no duty to read (PIPL Art 6, minimum necessary)."""

from libs.common.auth import PUBLIC, allow, object_access

CASE_WORKERS = ("lawyer", "mediator", "aid_officer")
FRONT_DESK = ("operator", "counter_staff", "supervisor", "admin")
READERS = (*FRONT_DESK, *CASE_WORKERS)
CALLERS_BACK = ("operator", "counter_staff", "supervisor")  # who calls citizens in their jurisdiction
KB_EDITORS = ("supervisor", "admin")  # who writes the knowledge base's standard answers

# ---- object level: which order a role sees ------------------------------------------------
READ_ORDER = object_access(jurisdiction=(*FRONT_DESK, "external_system"), holder=READERS)
LIST_ORDERS = object_access(jurisdiction=FRONT_DESK, holder=READERS)
ACT_ON_ORDER = object_access(jurisdiction=FRONT_DESK, handler=FRONT_DESK)
# Whoever handled the order may close it; the callback rule (domain.closure_blockers) still applies.
CLOSE_ORDER = object_access(jurisdiction=FRONT_DESK, handler=READERS)
# Unmasked phone/ID: who calls back or verifies identity — the jurisdiction's front desk, and the
# handler of the order (an accepted assignment: an offer alone does not need the phone number).
CONTACT = object_access(jurisdiction=CALLERS_BACK, handler=(*CALLERS_BACK, *CASE_WORKERS))
# 跨县转办: a supervisor of the order's jurisdiction, or its handler, hands it to another county.
COUNTY_TRANSFER = object_access(
    jurisdiction=("supervisor", "admin"), handler=("counter_staff", *CASE_WORKERS)
)
# Callback tasks go with the order to its handler; return visits (回访, after an unsatisfied
# rating) stay with the front desk: the handler does not check their own work.
TASKS = object_access(jurisdiction=FRONT_DESK, handler=READERS)

# Open311 GeoReport v2 clients: a bearer token with the external_system role, or an API key from
# identity (scopes are resource:action there): open311:read for tokens, open311:write to file.
OPEN311 = allow(
    "external_system", scopes=("open311:read", "open311:write"), note="Open311 GeoReport v2 clients"
)
OPEN311_WRITE = allow("external_system", scopes=("open311:write",), note="Open311 GeoReport v2 clients")

POLICY = {
    "POST /v1/work-orders": allow(*FRONT_DESK, "external_system", scopes=("workorders:write",)),
    "GET /v1/work-orders": allow(*READERS, objects=LIST_ORDERS),
    "GET /v1/work-orders/{order_id}": allow(
        *READERS, "external_system", scopes=("workorders:read",), objects=READ_ORDER
    ),
    "PATCH /v1/work-orders/{order_id}": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    "PUT /v1/work-orders/{order_id}/classification": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    "POST /v1/work-orders/{order_id}/merge": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    "POST /v1/work-orders/{order_id}/unmerge": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    "POST /v1/work-orders/{order_id}/county-transfer": allow(
        "supervisor", "admin", "counter_staff", *CASE_WORKERS, objects=COUNTY_TRANSFER
    ),
    "POST /v1/work-orders/{order_id}/close": allow(*READERS, objects=CLOSE_ORDER),
    "POST /v1/work-orders/{order_id}/cancel": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    "POST /v1/work-orders/{order_id}/rating": allow(*FRONT_DESK, objects=ACT_ON_ORDER),
    # Each read audited (PIPL Art 51).
    "GET /v1/work-orders/{order_id}/contact": allow(*CALLERS_BACK, *CASE_WORKERS, objects=CONTACT),
    "GET /v1/tasks": allow(*READERS, objects=TASKS),
    "POST /v1/tasks/{task_id}/attempts": allow(*READERS, objects=TASKS),
    "POST /v1/classify": allow("operator", "counter_staff", "supervisor", "admin"),
    "POST /v1/caller-lookup": allow("operator", "counter_staff", "supervisor", "admin"),
    # The road to dispatch (issue #14): unacknowledged orders and re-announcements, own region only.
    "GET /v1/pipeline/reconciliation": allow("supervisor", "admin"),
    # Figures of the caller's jurisdiction only (stats.py scopes the query itself).
    "GET /v1/stats/orders": allow("supervisor", "admin"),
    # The citizen's own view: order number + last 4 phone digits; rate limited per IP and per number.
    "GET /v1/track/{number}": PUBLIC,
    "POST /v1/track/{number}/rating": PUBLIC,
    # 网络平台: a citizen files with no login — citizen fields only, channel web, rate limited
    # per IP and per phone (services/intake/api_public.py).
    "POST /v1/public/requests": PUBLIC,
    # Open311 discovery and reads need no key, as GeoReport v2 says; they publish public data only
    # (number, status, service, region, dates: services/intake/open311.py request_out). Filing and
    # tokens need a key.
    **{
        f"GET /open311/v2/{path}.{fmt}": PUBLIC
        for path in ("services", "services/{code}", "requests", "requests/{request_id}")
        for fmt in ("json", "xml")
    },
    # 法律知识库 (issue #19): the front desk searches and reads; supervisors and admins write, and see
    # the figures of use (services/intake/knowledge/api.py).
    "GET /v1/knowledge/search": allow(*FRONT_DESK),
    "GET /v1/knowledge/articles": allow(*FRONT_DESK),
    "GET /v1/knowledge/articles/{article_id}": allow(*FRONT_DESK),
    "POST /v1/knowledge/articles": allow(*KB_EDITORS),
    "PUT /v1/knowledge/articles/{article_id}": allow(*KB_EDITORS),
    "POST /v1/knowledge/articles/{article_id}/publish": allow(*KB_EDITORS),
    "POST /v1/knowledge/articles/{article_id}/unpublish": allow(*KB_EDITORS),
    "GET /v1/knowledge/articles/{article_id}/versions": allow(*KB_EDITORS),
    "GET /v1/knowledge/usage": allow(*KB_EDITORS),
    "POST /open311/v2/requests.json": OPEN311_WRITE,
    "GET /open311/v2/tokens/{token}.json": OPEN311,
}
