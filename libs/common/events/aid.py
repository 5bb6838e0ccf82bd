"""Events produced by the legal-aid service."""

from __future__ import annotations

from datetime import datetime

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
