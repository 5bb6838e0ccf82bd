"""Events produced by the mediation service."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

SOURCE = "/lawline/mediation"
CASE_OPENED = "cn.lawline.mediation.case_opened.v1"


class MediationCaseOpenedV1(BaseModel):
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


class MediationCaseTransitionedV1(BaseModel):
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


class MediationRiskReportedV1(BaseModel):
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


class MediationDeadlineBreachedV1(BaseModel):
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


class MediationRiskAcknowledgedV1(BaseModel):
    """人民调解法 Art 25: the risk report reached the police — who confirmed it, and what was done."""

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
