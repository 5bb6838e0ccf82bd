"""Events produced by the legal-aid service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

SOURCE = "/lawline/aid"
CASE_OPENED = "cn.lawline.aid.case_opened.v1"


class AidCaseOpenedV1(BaseModel):
    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    handler_staff_id: str | None = None
    opened_at: datetime


# --- Case workflow (法律援助法). Every transition of a case is one of these types, all with the
# same payload (AidCaseTransitionV1), so a consumer can subscribe to CASE_EVENT_TYPES at once.
APPLICATION_RECEIVED = "cn.lawline.aid.application_received.v1"
MATERIALS_REQUESTED = "cn.lawline.aid.materials_requested.v1"  # 一次性告知
APPLICATION_ACCEPTED = "cn.lawline.aid.application_accepted.v1"  # file complete (or 容缺受理)
WITHDRAWN = "cn.lawline.aid.withdrawn.v1"
GRANTED = "cn.lawline.aid.granted.v1"
REFUSED = "cn.lawline.aid.refused.v1"
LAWYER_ASSIGNED = "cn.lawline.aid.lawyer_assigned.v1"
LAWYER_ACCEPTED = "cn.lawline.aid.lawyer_accepted.v1"
LAWYER_DECLINED = "cn.lawline.aid.lawyer_declined.v1"
PROGRESS_REPORTED = "cn.lawline.aid.progress_reported.v1"
CLOSED = "cn.lawline.aid.closed.v1"
SUBSIDY_RECORDED = "cn.lawline.aid.subsidy_recorded.v1"
RETURN_VISITED = "cn.lawline.aid.return_visited.v1"
ARCHIVED = "cn.lawline.aid.archived.v1"
TERMINATED = "cn.lawline.aid.terminated.v1"
OBJECTION_FILED = "cn.lawline.aid.objection_filed.v1"
OBJECTION_DECIDED = "cn.lawline.aid.objection_decided.v1"
NOTIFICATION_RECEIVED = "cn.lawline.aid.notification_received.v1"  # 通知辩护/代理
NOTIFICATION_CONFIRMED = "cn.lawline.aid.notification_confirmed.v1"  # sent back to the notifying body
DEADLINE_BREACHED = "cn.lawline.aid.deadline_breached.v1"  # supervision (督办)
# Staff corrected when the application / notice was received; the open clocks were recomputed.
RECEIPT_CORRECTED = "cn.lawline.aid.receipt_corrected.v1"

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


class AidCaseTransitionV1(BaseModel):
    """One step of a legal-aid case; `work_order_id` lets intake fold it into the order's timeline."""

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None = None  # refusal/termination reasons, decline cause … (no personal data)
    actor: str | None = None  # staff id or "system"
    details: dict[str, Any] = {}
    at: datetime


class AidNotificationConfirmedV1(BaseModel):
    """Art 36: the agency tells the court/procuratorate/police which lawyer it assigned."""

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


class AidDeadlineBreachedV1(BaseModel):
    """A statutory clock ran out (督办): who must act, on which case, since when."""

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    clock: str  # decision | assignment | objection | custody_forwarding
    article: str
    due: date
    breached_at: datetime
