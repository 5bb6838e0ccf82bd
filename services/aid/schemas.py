"""Request and response models of the aid service."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    work_order_id: uuid.UUID | None
    county_code: str
    region_code: str
    status: str
    handler_staff_id: uuid.UUID | None
    staff_name: str | None
    opened_at: datetime
