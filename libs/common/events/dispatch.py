"""Events produced by the dispatch service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

SOURCE = "/lawline/dispatch"
OFFERED = "cn.lawline.dispatch.offered.v1"
ASSIGNED = "cn.lawline.dispatch.assigned.v1"
REJECTED = "cn.lawline.dispatch.rejected.v1"
ESCALATED = "cn.lawline.dispatch.escalated.v1"
OVERDUE = "cn.lawline.dispatch.overdue.v1"


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


class EscalatedV1(BaseModel):
    work_order_id: str
    county_code: str
    reason: str
    escalated_at: datetime
