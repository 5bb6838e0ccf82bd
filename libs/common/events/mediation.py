"""Events produced by the mediation service."""

from __future__ import annotations

from datetime import datetime

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
