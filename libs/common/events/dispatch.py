"""Events produced by the dispatch service."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel

SOURCE = "/lawline/dispatch"
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
REPLY_EXTENSION_REQUESTED = "cn.lawline.dispatch.reply_extension_requested.v1"
REPLY_EXTENSION_DECIDED = "cn.lawline.dispatch.reply_extension_decided.v1"


class OfferedV1(BaseModel):
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


class AssignedV1(BaseModel):
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


class RejectedV1(BaseModel):
    assignment_id: str
    work_order_id: str
    county_code: str
    staff_id: str
    reason: str
    rejected_at: datetime
    # conflict | overload | out_of_scope | timeout | returned (退单) | transferred
    reason_code: str | None = None


class EscalatedV1(BaseModel):
    work_order_id: str
    county_code: str
    reason: str
    escalated_at: datetime
    to: str | None = None  # supervisor_queue | parent tier
    offers_made: int | None = None


class OverdueV1(BaseModel):
    """督办: a clock of an order is at risk or breached; `level` is the rung of the ladder."""

    work_order_id: str
    county_code: str
    clock: str  # transfer | reply | max
    level: int  # 0 = at risk (warning), 1.. = breach rungs
    notified: str  # service_point | county | city
    due: datetime
    raised_at: datetime
    handler_staff_id: str | None = None
    service_point_id: str | None = None


class CalendarYearUpdatedV1(BaseModel):
    """An admin entered or changed one year's official holiday schedule (incl. 调休 workdays)."""

    year: int
    holidays: list[date]
    workdays: list[date]  # make-up working days on weekends
    updated_at: datetime


class DutySlotV1(BaseModel):
    weekday: int  # 0 = Monday, China local time
    start: time
    end: time


class StaffAvailabilityV1(BaseModel):
    """A staff member's current availability: roster, sign-in state and leave."""

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


class StaffChangedV1(BaseModel):
    """A staff member was added, or their name, role, home service point or active flag changed.
    Identity creates, updates or disables the person's login from it (username = `code`).
    Keyed by county like every dispatch event; a move to another county sends the next change
    on another partition, so `changed_at` orders one person's changes."""

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


class RoutingConfirmedV1(BaseModel):
    """Dispatch already has the order intake asked about: where it stands — no second routing.
    Intake's acknowledgement even when the original `offered` / `escalated` was lost."""

    work_order_id: str
    county_code: str
    status: str  # dispatch's own: new | offered | assigned | escalated | closed
    service_point_name: str | None = None  # the open offer's, else the handler's service point
    offers_made: int = 0
    attempt: int | None = None  # the intake re-announcement it answers
    at: datetime


class ReplyExtensionRequestedV1(BaseModel):
    """The handler asks to extend the reply period to the maximum (e.g. 5 → 15 working days)."""

    extension_id: str
    work_order_id: str
    county_code: str
    reason: str
    requested_by: str
    reply_due: datetime  # in force now
    proposed_due: datetime  # if approved
    requested_at: datetime


class ReplyExtensionDecidedV1(BaseModel):
    """A supervisor of the order's jurisdiction approved or refused the extension, with a reason."""

    extension_id: str
    work_order_id: str
    county_code: str
    approved: bool
    reason: str
    decided_by: str
    reply_due: datetime  # in force after the decision
    decided_at: datetime
