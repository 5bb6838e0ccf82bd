"""Events produced by the legal-aid service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict

from libs.common.events import topics
from libs.common.events.payload import EventPayload

SOURCE = "/lawline/aid"


# Who made a step (the events package docstring: `<role>_kind`).
ActorKind = Literal["staff", "api_key", "system"]


class AidEvent(EventPayload):
    """A payload aid produces, on the aid topic."""

    SOURCE = SOURCE
    TOPIC = topics.AID


CASE_OPENED = "cn.lawline.aid.case_opened.v1"

# Shared by the examples below: one case of the demo city's 沁县 (140430).
_CASE = {
    "case_id": "5c0b7e2a-91d4-4f3e-8a6b-2d7c1e9f0a34",
    "case_number": "FY140430202600017",
    "work_order_id": "0f6e3a9c-27b8-4d15-9c4e-8a1b2c3d4e5f",
    "county_code": "140430",
}
_OFFICER_ID = "3b9d2f70-6c1e-4a8b-b5d4-7e0f1a2c3d4e"


class AidCaseOpenedV1(AidEvent):
    """A legal-aid case was opened for an order assigned to the aid office (or a walk-in)."""

    TYPE = CASE_OPENED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_CASE, "handler_staff_id": _OFFICER_ID, "opened_at": "2026-03-02T02:10:00Z"}]
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    handler_staff_id: str | None = None
    opened_at: datetime


# --- Case workflow (法律援助法). Every transition of a case is one of these types, all with the
# same payload (AidCaseTransitionV2), so a consumer can subscribe to CASE_EVENT_TYPES at once.
# v2 (issue #17): v1's `actor` was a staff id, a username, `apikey:<id>` or "system" in one field;
# v2 names the actor by kind, staff id (UUID) and username. The v1 types (…_V1, deprecated) are no
# longer sent; consumers accept both (CASE_EVENT_TYPES_V1, V1_OF) while old records may remain.
APPLICATION_RECEIVED = "cn.lawline.aid.application_received.v2"
MATERIALS_REQUESTED = "cn.lawline.aid.materials_requested.v2"  # 一次性告知
APPLICATION_ACCEPTED = "cn.lawline.aid.application_accepted.v2"  # file complete (or 容缺受理)
WITHDRAWN = "cn.lawline.aid.withdrawn.v2"
GRANTED = "cn.lawline.aid.granted.v2"
REFUSED = "cn.lawline.aid.refused.v2"
LAWYER_ASSIGNED = "cn.lawline.aid.lawyer_assigned.v2"
LAWYER_ACCEPTED = "cn.lawline.aid.lawyer_accepted.v2"
LAWYER_DECLINED = "cn.lawline.aid.lawyer_declined.v2"
PROGRESS_REPORTED = "cn.lawline.aid.progress_reported.v2"
CLOSED = "cn.lawline.aid.closed.v2"
SUBSIDY_RECORDED = "cn.lawline.aid.subsidy_recorded.v2"
RETURN_VISITED = "cn.lawline.aid.return_visited.v2"
ARCHIVED = "cn.lawline.aid.archived.v2"
TERMINATED = "cn.lawline.aid.terminated.v2"
OBJECTION_FILED = "cn.lawline.aid.objection_filed.v2"
OBJECTION_DECIDED = "cn.lawline.aid.objection_decided.v2"
NOTIFICATION_RECEIVED = "cn.lawline.aid.notification_received.v2"  # 通知辩护/代理
NOTIFICATION_CONFIRMED = "cn.lawline.aid.notification_confirmed.v1"  # sent back to the notifying body
DEADLINE_BREACHED = "cn.lawline.aid.deadline_breached.v1"  # supervision (督办)
# Staff corrected when the application / notice was received; the open clocks were recomputed.
RECEIPT_CORRECTED = "cn.lawline.aid.receipt_corrected.v2"

CASE_EVENT_TYPES = (
    APPLICATION_RECEIVED,
    MATERIALS_REQUESTED,
    APPLICATION_ACCEPTED,
    WITHDRAWN,
    GRANTED,
    REFUSED,
    LAWYER_ASSIGNED,
    LAWYER_ACCEPTED,
    LAWYER_DECLINED,
    PROGRESS_REPORTED,
    CLOSED,
    SUBSIDY_RECORDED,
    RETURN_VISITED,
    ARCHIVED,
    TERMINATED,
    OBJECTION_FILED,
    OBJECTION_DECIDED,
    NOTIFICATION_RECEIVED,
    RECEIPT_CORRECTED,
)

# Deprecated: the v1 types of the same steps (payload AidCaseTransitionV1).
APPLICATION_RECEIVED_V1 = "cn.lawline.aid.application_received.v1"
MATERIALS_REQUESTED_V1 = "cn.lawline.aid.materials_requested.v1"
APPLICATION_ACCEPTED_V1 = "cn.lawline.aid.application_accepted.v1"
WITHDRAWN_V1 = "cn.lawline.aid.withdrawn.v1"
GRANTED_V1 = "cn.lawline.aid.granted.v1"
REFUSED_V1 = "cn.lawline.aid.refused.v1"
LAWYER_ASSIGNED_V1 = "cn.lawline.aid.lawyer_assigned.v1"
LAWYER_ACCEPTED_V1 = "cn.lawline.aid.lawyer_accepted.v1"
LAWYER_DECLINED_V1 = "cn.lawline.aid.lawyer_declined.v1"
PROGRESS_REPORTED_V1 = "cn.lawline.aid.progress_reported.v1"
CLOSED_V1 = "cn.lawline.aid.closed.v1"
SUBSIDY_RECORDED_V1 = "cn.lawline.aid.subsidy_recorded.v1"
RETURN_VISITED_V1 = "cn.lawline.aid.return_visited.v1"
ARCHIVED_V1 = "cn.lawline.aid.archived.v1"
TERMINATED_V1 = "cn.lawline.aid.terminated.v1"
OBJECTION_FILED_V1 = "cn.lawline.aid.objection_filed.v1"
OBJECTION_DECIDED_V1 = "cn.lawline.aid.objection_decided.v1"
NOTIFICATION_RECEIVED_V1 = "cn.lawline.aid.notification_received.v1"
RECEIPT_CORRECTED_V1 = "cn.lawline.aid.receipt_corrected.v1"

CASE_EVENT_TYPES_V1 = (
    APPLICATION_RECEIVED_V1,
    MATERIALS_REQUESTED_V1,
    APPLICATION_ACCEPTED_V1,
    WITHDRAWN_V1,
    GRANTED_V1,
    REFUSED_V1,
    LAWYER_ASSIGNED_V1,
    LAWYER_ACCEPTED_V1,
    LAWYER_DECLINED_V1,
    PROGRESS_REPORTED_V1,
    CLOSED_V1,
    SUBSIDY_RECORDED_V1,
    RETURN_VISITED_V1,
    ARCHIVED_V1,
    TERMINATED_V1,
    OBJECTION_FILED_V1,
    OBJECTION_DECIDED_V1,
    NOTIFICATION_RECEIVED_V1,
    RECEIPT_CORRECTED_V1,
)
# v2 type -> the v1 type of the same step, and back: consumers key their tables on either.
V1_OF = dict(zip(CASE_EVENT_TYPES, CASE_EVENT_TYPES_V1, strict=True))
V2_OF = {v1: v2 for v2, v1 in V1_OF.items()}


class AidCaseTransitionV1(AidEvent):
    """Deprecated (the …v1 case steps, sent until issue #17; use AidCaseTransitionV2): one step of
    a legal-aid case. Its `actor` mixes a staff id, a username, `apikey:<key id>` and "system"."""

    TYPES = CASE_EVENT_TYPES_V1

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE,
                    "action": "grant",
                    "from_state": "under_review",
                    "to_state": "granted",
                    "reason": None,
                    "actor": _OFFICER_ID,
                    "details": {"basis": ["低保家庭", "第四十二条"]},
                    "at": "2026-03-04T06:30:00Z",
                }
            ]
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None = None  # refusal/termination reasons, decline cause … (no personal data)
    actor: str | None = None  # staff id, else username or `apikey:<key id>`, or "system"
    details: dict[str, Any] = {}
    at: datetime


class AidCaseTransitionV2(AidEvent):
    """One step of a legal-aid case; `work_order_id` lets intake fold it into the order's timeline.
    The actor: `actor_kind` staff (a person: `actor_username`, and `actor_staff_id` when they have
    a staff record), api_key (an external system: `actor_key_id`) or system (a clock, a rule)."""

    TYPES = CASE_EVENT_TYPES

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE,
                    "action": "grant",
                    "from_state": "under_review",
                    "to_state": "granted",
                    "reason": None,
                    "actor_kind": "staff",
                    "actor_staff_id": _OFFICER_ID,
                    "actor_username": "aid_140430",
                    "actor_key_id": None,
                    "details": {"basis": ["低保家庭", "第四十二条"]},
                    "at": "2026-03-04T06:30:00Z",
                },
                {
                    **_CASE,
                    "action": "withdraw",
                    "from_state": "incomplete",
                    "to_state": "withdrawn",
                    "reason": "逾期未补充材料，视为撤回申请",
                    "actor_kind": "system",
                    "actor_staff_id": None,
                    "actor_username": None,
                    "actor_key_id": None,
                    "details": {},
                    "at": "2026-03-12T16:00:05Z",
                },
            ]
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None = None  # refusal/termination reasons, decline cause … (no personal data)
    actor_kind: ActorKind
    actor_staff_id: str | None = None  # UUID of the staff record; None: not staff, or no record
    actor_username: str | None = None  # login name (the token subject); None unless staff
    actor_key_id: str | None = None  # the API key's id (12 hex digits); None unless api_key
    details: dict[str, Any] = {}
    at: datetime


class AidNotificationConfirmedV1(AidEvent):
    """Art 36: the agency tells the court/procuratorate/police which lawyer it assigned."""

    TYPE = NOTIFICATION_CONFIRMED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE,
                    "notifying_body_kind": "court",
                    "notifying_body_name": "沁县人民法院",
                    "document_number": "（2026）晋0430刑初12号",
                    "lawyer_name": "王律师",
                    "lawyer_firm": "沁县法律援助中心",
                    "confirmed_at": "2026-03-05T03:00:00Z",
                }
            ]
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None = None
    county_code: str
    notifying_body_kind: str  # court | procuratorate | police
    notifying_body_name: str
    document_number: str | None = None
    lawyer_name: str
    lawyer_firm: str | None
    confirmed_at: datetime


class AidDeadlineBreachedV1(AidEvent):
    """A statutory clock ran out (督办): who must act, on which case, since when."""

    TYPE = DEADLINE_BREACHED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_CASE,
                    "clock": "decision",
                    "article": "法律援助法第四十三条",
                    "due": "2026-03-11",
                    "breached_at": "2026-03-11T16:00:05Z",
                }
            ]
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    clock: str  # decision | assignment | objection | custody_forwarding
    article: str
    due: date
    breached_at: datetime
