"""Dispatch's access policy — the one place that says who may call what (deny by default), and
which orders' offers each role sees (object level, libs.common.auth.object_access).

Access follows the work: whoever holds an order (an open offer or the accepted assignment, in
any county — a transfer across counties included) sees its offers and may transfer it on; the
front desk and supervisors see their jurisdiction's; a case worker sees nothing of orders that
are not theirs."""

from libs.common.auth import allow, object_access
from services.dispatch.acting import OFFER_ROLES

STAFF = ("operator", "counter_staff", "lawyer", "mediator", "aid_officer", "supervisor", "admin")
# Whoever may take an offer — the same roles routing checks before offering (acting.py).
HANDLERS = OFFER_ROLES
MANAGERS = ("supervisor", "admin")

# ---- object level: which order ------------------------------------------------------------
ORDER_OFFERS = object_access(jurisdiction=("operator", "counter_staff", *MANAGERS), holder=STAFF)
# 转办 by the order's current holder, or a supervisor of its jurisdiction (also their pick from the queue).
TRANSFER = object_access(jurisdiction=MANAGERS, holder=HANDLERS)

POLICY = {
    "GET /v1/assignments": allow(*STAFF, objects=ORDER_OFFERS),
    "GET /v1/inbox": allow(*HANDLERS, *MANAGERS),
    "GET /v1/inbox/stream": allow(*HANDLERS, note="only the caller's own offers"),
    "POST /v1/assignments/{assignment_id}/accept": allow(*HANDLERS),
    "POST /v1/assignments/{assignment_id}/reject": allow(*HANDLERS),
    "POST /v1/assignments/{assignment_id}/return": allow(*HANDLERS),
    "POST /v1/work-orders/{work_order_id}/transfer": allow(*HANDLERS, *MANAGERS, objects=TRANSFER),
    "POST /v1/work-orders/{work_order_id}/parties": allow("operator", "counter_staff", *MANAGERS),
    "GET /v1/work-orders/{work_order_id}/decision": allow("operator", *MANAGERS),
    "GET /v1/work-orders/{work_order_id}/decisions": allow("operator", *MANAGERS),
    "POST /v1/work-orders/{work_order_id}/reply-extension": allow(
        *HANDLERS, *MANAGERS, note="the order's own handler (or a supervisor)"
    ),
    "GET /v1/reply-extensions": allow(*MANAGERS),
    "POST /v1/reply-extensions/{extension_id}/approve": allow(*MANAGERS, note="of the order's jurisdiction"),
    "POST /v1/reply-extensions/{extension_id}/refuse": allow(*MANAGERS, note="of the order's jurisdiction"),
    "GET /v1/supervision/overdue": allow(*MANAGERS),
    "GET /v1/supervision/queue": allow(*MANAGERS),
    "GET /v1/service-points": allow(*STAFF),
    "POST /v1/service-points": allow("admin"),
    "PATCH /v1/service-points/{point_id}": allow("admin"),
    "GET /v1/staff": allow(*STAFF),
    # Members of the point, or a supervisor of its jurisdiction (checked in api_points._may_see).
    "GET /v1/service-points/{point_id}/queue": allow(*STAFF),
    "POST /v1/staff": allow("admin"),
    "POST /v1/staff/announce": allow("admin", note="re-announces staff_changed for identity"),
    "GET /v1/staff/{staff_id}": allow(*STAFF),
    "PATCH /v1/staff/{staff_id}": allow("admin"),
    "PUT /v1/staff/{staff_id}/roster": allow(*MANAGERS),
    "POST /v1/staff/{staff_id}/roster-exceptions": allow(*MANAGERS),
    "POST /v1/staff/{staff_id}/sign-in": allow(*HANDLERS, *MANAGERS, "operator"),
    "POST /v1/staff/{staff_id}/sign-out": allow(*HANDLERS, *MANAGERS, "operator"),
    "POST /v1/staff/{staff_id}/leave": allow(*MANAGERS),
    "DELETE /v1/staff/{staff_id}/leave/{leave_id}": allow(*MANAGERS),
    "PUT /v1/calendar/{year}": allow("admin"),
    "GET /v1/calendar/{year}": allow(*STAFF),
    "GET /v1/policy": allow(*STAFF),
}
