"""Events produced by the mediation service."""

from __future__ import annotations

from datetime import date, datetime

from libs.common.events import topics
from libs.common.events.examples import examples
from libs.common.events.payload import EventPayload

SOURCE = "/lawline/mediation"


class MediationEvent(EventPayload):
    """A payload mediation produces, on the mediation topic."""

    SOURCE = SOURCE
    TOPIC = topics.MEDIATION


CASE_OPENED = "cn.lawline.mediation.case_opened.v1"

# Shared by the examples: one neighbours' dispute of 沁县 (140430).
_CASE = {
    "case_id": "8f7e6d5c-4b3a-4c2d-9e1f-0a9b8c7d6e5f",
    "case_number": "TJ140430202600042",
    "work_order_id": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
    "county_code": "140430",
}
_MEDIATOR_ID = "6c5b4a39-2817-4f6e-8d5c-4b3a29180f7e"


class MediationCaseOpenedV1(MediationEvent):
    TYPE = CASE_OPENED

    model_config = examples({**_CASE, "mediator_staff_id": _MEDIATOR_ID, "opened_at": "2026-03-03T01:00:00Z"})

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    mediator_staff_id: str | None = None
    opened_at: datetime


# Every state change of a case (status changes and in-place steps alike) — intake's timeline follows
# this one type; `citizen_text` is safe to show the citizen (no personal data of anyone).
CASE_TRANSITIONED = "cn.lawline.mediation.case_transitioned.v1"
# Urgent: a dispute that may turn violent or criminal, for the police liaison (人民调解法 Art 25).
RISK_REPORTED = "cn.lawline.mediation.risk_reported.v1"
# A person worked the police-liaison queue: the police were told (who, which unit, what was done).
RISK_ACKNOWLEDGED = "cn.lawline.mediation.risk_acknowledged.v1"
# Supervision (督办): a case passed its mediation deadline without an outcome.
DEADLINE_BREACHED = "cn.lawline.mediation.deadline_breached.v1"


class MediationCaseTransitionedV1(MediationEvent):
    TYPE = CASE_TRANSITIONED

    model_config = examples(
        {
            **_CASE,
            "action": "schedule_session",
            "from_status": "accepted",
            "to_status": "accepted",
            "outcome": None,
            "reason": None,
            "citizen_text": "已安排调解，时间 2026-03-06 09:30，地点 沁县定昌镇人民调解委员会",
            "data": {"session_at": "2026-03-06T01:30:00Z"},
            "at": "2026-03-03T02:00:00Z",
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    action: str
    from_status: str
    to_status: str
    outcome: str | None = None
    reason: str | None = None
    citizen_text: str
    data: dict = {}
    at: datetime


class MediationRiskReportedV1(MediationEvent):
    TYPE = RISK_REPORTED

    model_config = examples(
        {
            **_CASE,
            "region_code": "140430100",
            "urgency": "urgent",
            "risk_kind": "violence",
            "description": "双方因宅基地边界多次争吵，一方扬言动手",
            "reported_by_staff_id": _MEDIATOR_ID,
            "at": "2026-03-04T03:00:00Z",
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    region_code: str
    urgency: str = "urgent"
    risk_kind: str  # violence | criminal | self_harm | mass_incident
    description: str  # masked: no ID or phone numbers
    reported_by_staff_id: str | None = None
    at: datetime


class MediationDeadlineBreachedV1(MediationEvent):
    TYPE = DEADLINE_BREACHED

    model_config = examples(
        {
            **_CASE,
            "committee_id": "d1e2f3a4-b5c6-4d7e-8f90-1a2b3c4d5e6f",
            "mediator_staff_id": _MEDIATOR_ID,
            "status": "accepted",
            "due_date": "2026-04-02",
            "basis": "人民调解法第二十八条（30 日）",
            "days_over": 2,
            "at": "2026-04-04T16:00:05Z",
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    committee_id: str | None
    mediator_staff_id: str | None
    status: str
    due_date: date
    basis: str
    days_over: int
    at: datetime


class MediationRiskAcknowledgedV1(MediationEvent):
    """人民调解法 Art 25: the risk report reached the police — who confirmed it, and what was done."""

    TYPE = RISK_ACKNOWLEDGED

    model_config = examples(
        {
            **_CASE,
            "liaison_id": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b",
            "risk_kind": "violence",
            "police_unit": "沁县公安局定昌派出所",
            "action_taken": "民警已上门劝导双方，约定调解期间不得接触",
            "acknowledged_by_staff_id": "4e3d2c1b-0a9f-4e8d-8c7b-6a5f4e3d2c1b",
            "reported_at": "2026-03-04T03:00:00Z",
            "at": "2026-03-04T03:40:00Z",
        }
    )

    case_id: str
    case_number: str
    work_order_id: str | None
    county_code: str
    liaison_id: str
    risk_kind: str
    police_unit: str
    action_taken: str  # masked: no ID or phone numbers
    acknowledged_by_staff_id: str | None = None
    reported_at: datetime
    at: datetime
