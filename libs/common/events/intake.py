"""Events produced by the intake service. A published version is never edited: add …V2."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

SOURCE = "/lawline/intake"
WORKORDER_CREATED = "cn.lawline.workorder.created.v1"
WORKORDER_CLOSED = "cn.lawline.workorder.closed.v1"


class WorkOrderCreatedV1(BaseModel):
    work_order_id: str
    number: str
    channel: str
    service_type: str
    domain: str | None = None
    region_code: str
    county_code: str
    requester_name: str
    requester_phone_masked: str | None = None  # never the full number in an event
    description: str
    special_groups: list[str] = []
    urgency: str = "normal"
    created_at: datetime
    follow_up_of: str | None = None


class WorkOrderClosedV1(BaseModel):
    work_order_id: str
    number: str
    county_code: str
    reason: str
    closed_at: datetime
