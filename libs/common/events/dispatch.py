"""Events produced by the dispatch service."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel

from libs.common.events import topics
from libs.common.events.examples import examples
from libs.common.events.payload import EventPayload

SOURCE = "/lawline/dispatch"


class DispatchEvent(EventPayload):
    """A payload dispatch produces, on the dispatch topic."""

    SOURCE = SOURCE
    TOPIC = topics.DISPATCH


OFFERED = "cn.lawline.dispatch.offered.v1"
ASSIGNED = "cn.lawline.dispatch.assigned.v1"
REJECTED = "cn.lawline.dispatch.rejected.v1"
ESCALATED = "cn.lawline.dispatch.escalated.v1"
OVERDUE = "cn.lawline.dispatch.overdue.v1"
# Reference data other services keep a copy of (key: "calendar" / the staff's county code).
CALENDAR_YEAR_UPDATED = "cn.lawline.dispatch.calendar_year_updated.v1"
STAFF_AVAILABILITY = "cn.lawline.dispatch.staff_availability.v1"
# A staff record itself (who, what role, which service point, active): identity keeps each
# person's login in step with it. Not sent for sign-in, rosters or leave (that is availability).
STAFF_CHANGED = "cn.lawline.dispatch.staff_changed.v1"
# The answer to `workorder.routing_requested` for an order dispatch already has (issue #14).
ROUTING_CONFIRMED = "cn.lawline.dispatch.routing_confirmed.v1"
# The hotline's "at most 15 working days with approval": asked by the handler, decided by a supervisor.
# v2 (#17): who asked and who decided as `<role>_staff_id` (UUID or null) + `<role>_username`,
# where v1's `requested_by` / `decided_by` held a staff id or, for a login without a staff record,
# a username. v1 is no longer sent; a consumer accepts both (REPLY_EXTENSION_*_TYPES).
REPLY_EXTENSION_REQUESTED = "cn.lawline.dispatch.reply_extension_requested.v2"
REPLY_EXTENSION_DECIDED = "cn.lawline.dispatch.reply_extension_decided.v2"
REPLY_EXTENSION_REQUESTED_V1 = "cn.lawline.dispatch.reply_extension_requested.v1"  # deprecated
REPLY_EXTENSION_DECIDED_V1 = "cn.lawline.dispatch.reply_extension_decided.v1"  # deprecated
REPLY_EXTENSION_REQUESTED_TYPES = (REPLY_EXTENSION_REQUESTED, REPLY_EXTENSION_REQUESTED_V1)
REPLY_EXTENSION_DECIDED_TYPES = (REPLY_EXTENSION_DECIDED, REPLY_EXTENSION_DECIDED_V1)

# Shared by the examples: one order of 沁县 (140430) offered to a staff member of its legal-aid centre.
_ORDER = {"work_order_id": "0f6e3a9c-27b8-4d15-9c4e-8a1b2c3d4e5f", "county_code": "140430"}
_ASSIGNMENT_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
_STAFF_ID = "3b9d2f70-6c1e-4a8b-b5d4-7e0f1a2c3d4e"
_POINT = {
    "service_point_id": "c4d5e6f7-0a1b-4c2d-9e3f-405162738495",
    "service_point_name": "沁县法律援助中心",
}


class OfferedV1(DispatchEvent):
    TYPE = OFFERED

    model_config = examples(
        {
            "assignment_id": _ASSIGNMENT_ID,
            **_ORDER,
            "service_type": "legal_aid",
            "staff_id": _STAFF_ID,
            "staff_name": "李某",
            **_POINT,
            "reason": "沁县法律援助中心值班人员，技能 labor，当前负荷最低",
            "offered_at": "2026-03-02T01:37:00Z",
            "expires_at": "2026-03-02T02:07:00Z",
        }
    )

    assignment_id: str
    work_order_id: str
    county_code: str
    service_type: str
    staff_id: str
    staff_name: str
    service_point_id: str
    service_point_name: str
    reason: str
    offered_at: datetime
    expires_at: datetime | None = None


class AssignedV1(DispatchEvent):
    TYPE = ASSIGNED

    model_config = examples(
        {
            "assignment_id": _ASSIGNMENT_ID,
            **_ORDER,
            "region_code": "140430003",
            "service_type": "legal_aid",
            "staff_id": _STAFF_ID,
            "staff_name": "李某",
            **_POINT,
            "requester_name": "王某",
            "description": "工地拖欠三个月工资，想申请法律援助。",
            "accepted_at": "2026-03-02T01:45:00Z",
        }
    )

    assignment_id: str
    work_order_id: str
    county_code: str
    region_code: str
    service_type: str
    staff_id: str
    staff_name: str
    service_point_id: str
    service_point_name: str
    requester_name: str
    description: str
    accepted_at: datetime


class RejectedV1(DispatchEvent):
    TYPE = REJECTED

    model_config = examples(
        {
            "assignment_id": _ASSIGNMENT_ID,
            **_ORDER,
            "staff_id": _STAFF_ID,
            "reason": "与对方当事人存在利害关系",
            "rejected_at": "2026-03-02T01:40:00Z",
            "reason_code": "conflict",
        }
    )

    assignment_id: str
    work_order_id: str
    county_code: str
    staff_id: str
    reason: str
    rejected_at: datetime
    # conflict | overload | out_of_scope | timeout | returned (退单) | transferred
    reason_code: str | None = None


class EscalatedV1(DispatchEvent):
    TYPE = ESCALATED

    model_config = examples(
        {
            **_ORDER,
            "reason": "县内无可接单人员",
            "escalated_at": "2026-03-02T02:30:00Z",
            "to": "supervisor_queue",
            "offers_made": 3,
        }
    )

    work_order_id: str
    county_code: str
    reason: str
    escalated_at: datetime
    to: str | None = None  # supervisor_queue | parent tier
    offers_made: int | None = None


class OverdueV1(DispatchEvent):
    """督办: a clock of an order is at risk or breached; `level` is the rung of the ladder."""

    TYPE = OVERDUE

    model_config = examples(
        {
            **_ORDER,
            "clock": "reply",
            "level": 1,
            "notified": "county",
            "due": "2026-03-09T15:59:59Z",
            "raised_at": "2026-03-09T16:00:05Z",
            "handler_staff_id": _STAFF_ID,
            "service_point_id": _POINT["service_point_id"],
        }
    )

    work_order_id: str
    county_code: str
    clock: str  # transfer | reply | max
    level: int  # 0 = at risk (warning), 1.. = breach rungs
    notified: str  # service_point | county | city
    due: datetime
    raised_at: datetime
    handler_staff_id: str | None = None
    service_point_id: str | None = None


class CalendarYearUpdatedV1(DispatchEvent):
    """An admin entered or changed one year's official holiday schedule (incl. 调休 workdays)."""

    TYPE = CALENDAR_YEAR_UPDATED

    model_config = examples(
        {
            "year": 2026,
            "holidays": ["2026-01-01", "2026-02-16", "2026-02-17"],
            "workdays": ["2026-02-14"],
            "updated_at": "2025-12-01T02:00:00Z",
        }
    )

    year: int
    holidays: list[date]
    workdays: list[date]  # make-up working days on weekends
    updated_at: datetime


class DutySlotV1(BaseModel):
    weekday: int  # 0 = Monday, China local time
    start: time
    end: time


class StaffAvailabilityV1(DispatchEvent):
    """A staff member's current availability: roster, sign-in state and leave."""

    TYPE = STAFF_AVAILABILITY

    model_config = examples(
        {
            "staff_id": _STAFF_ID,
            "name": "李某",
            "role": "counter_staff",
            "skills": ["legal_aid", "labor"],
            "service_point_id": _POINT["service_point_id"],
            "county_code": "140430",
            "region_code": "140430100",
            "active": True,
            "signed_in": True,
            "on_leave_until": None,
            "slots": [{"weekday": 0, "start": "08:30:00", "end": "12:00:00"}],
            "at": "2026-03-02T00:30:00Z",
        }
    )

    staff_id: str
    name: str
    role: str
    skills: list[str]
    service_point_id: str
    county_code: str | None
    region_code: str
    active: bool
    signed_in: bool = False
    on_leave_until: date | None = None
    slots: list[DutySlotV1] = []
    at: datetime


class StaffChangedV1(DispatchEvent):
    """A staff member was added, or their name, role, home service point or active flag changed.
    Identity creates, updates or disables the person's login from it (username = `code`).
    Keyed by county like every dispatch event; a move to another county sends the next change
    on another partition, so `changed_at` orders one person's changes."""

    TYPE = STAFF_CHANGED

    model_config = examples(
        {
            "staff_id": _STAFF_ID,
            "code": "counter_140430",
            "name": "李某",
            "role": "counter_staff",
            **_POINT,
            "tier": "county",
            "county_code": "140430",
            "region_code": "140430100",
            "active": True,
            "changed_at": "2026-03-01T08:00:00Z",
        }
    )

    staff_id: str
    code: str
    name: str
    role: str
    service_point_id: str
    service_point_name: str
    tier: str  # city | county | township | village
    county_code: str | None  # None: the city centre
    region_code: str  # of the service point
    active: bool
    changed_at: datetime


class RoutingConfirmedV1(DispatchEvent):
    """Dispatch already has the order intake asked about: where it stands — no second routing.
    Intake's acknowledgement even when the original `offered` / `escalated` was lost."""

    TYPE = ROUTING_CONFIRMED

    model_config = examples(
        {
            **_ORDER,
            "status": "offered",
            "service_point_name": _POINT["service_point_name"],
            "offers_made": 1,
            "attempt": 1,
            "at": "2026-03-02T01:46:01Z",
        }
    )

    work_order_id: str
    county_code: str
    status: str  # dispatch's own: new | offered | assigned | escalated | closed
    service_point_name: str | None = None  # the open offer's, else the handler's service point
    offers_made: int = 0
    attempt: int | None = None  # the intake re-announcement it answers
    at: datetime


class ReplyExtensionRequestedV1(DispatchEvent):
    """Deprecated (sent until issue #17; use ReplyExtensionRequestedV2): the handler asks to
    extend the reply period to the maximum (e.g. 5 → 15 working days)."""

    TYPE = REPLY_EXTENSION_REQUESTED_V1

    model_config = examples(
        {
            "extension_id": "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a",
            **_ORDER,
            "reason": "需调取用工单位考勤记录",
            "requested_by": _STAFF_ID,
            "reply_due": "2026-03-09T15:59:59Z",
            "proposed_due": "2026-03-23T15:59:59Z",
            "requested_at": "2026-03-06T02:00:00Z",
        }
    )

    extension_id: str
    work_order_id: str
    county_code: str
    reason: str
    requested_by: str  # the staff id (UUID), else the username of a caller with no staff record
    reply_due: datetime  # in force now
    proposed_due: datetime  # if approved
    requested_at: datetime


class ReplyExtensionDecidedV1(DispatchEvent):
    """Deprecated (sent until issue #17; use ReplyExtensionDecidedV2): a supervisor of the
    order's jurisdiction approved or refused the extension, with a reason."""

    TYPE = REPLY_EXTENSION_DECIDED_V1

    model_config = examples(
        {
            "extension_id": "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a",
            **_ORDER,
            "approved": True,
            "reason": "材料调取需要时间，同意延期",
            "decided_by": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
            "reply_due": "2026-03-23T15:59:59Z",
            "decided_at": "2026-03-06T06:00:00Z",
        }
    )

    extension_id: str
    work_order_id: str
    county_code: str
    approved: bool
    reason: str
    decided_by: str  # the staff id (UUID), else the username of a caller with no staff record
    reply_due: datetime  # in force after the decision
    decided_at: datetime


class ReplyExtensionRequestedV2(DispatchEvent):
    """The handler asks to extend the reply period to the maximum (e.g. 5 → 15 working days)."""

    TYPE = REPLY_EXTENSION_REQUESTED

    model_config = examples(
        {
            "extension_id": "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a",
            **_ORDER,
            "reason": "需调取用工单位考勤记录",
            "handler_staff_id": _STAFF_ID,
            "handler_username": "counter_140430",
            "reply_due": "2026-03-09T15:59:59Z",
            "proposed_due": "2026-03-23T15:59:59Z",
            "requested_at": "2026-03-06T02:00:00Z",
        }
    )

    extension_id: str
    work_order_id: str
    county_code: str
    reason: str
    handler_staff_id: str | None  # the asking person's staff id (UUID); null: a login with no staff record
    handler_username: str  # their login name
    reply_due: datetime  # in force now
    proposed_due: datetime  # if approved
    requested_at: datetime


class ReplyExtensionDecidedV2(DispatchEvent):
    """A supervisor of the order's jurisdiction approved or refused the extension, with a reason."""

    TYPE = REPLY_EXTENSION_DECIDED

    model_config = examples(
        {
            "extension_id": "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a",
            **_ORDER,
            "approved": True,
            "reason": "材料调取需要时间，同意延期",
            "supervisor_staff_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
            "supervisor_username": "supervisor_140430",
            "reply_due": "2026-03-23T15:59:59Z",
            "decided_at": "2026-03-06T06:00:00Z",
        }
    )

    extension_id: str
    work_order_id: str
    county_code: str
    approved: bool
    reason: str
    supervisor_staff_id: str | None  # the deciding supervisor's staff id (UUID), else null
    supervisor_username: str  # their login name
    reply_due: datetime  # in force after the decision
    decided_at: datetime
