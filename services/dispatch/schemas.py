"""Dispatch's request and response models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class AssignmentOut(BaseModel):
    id: uuid.UUID
    work_order_id: uuid.UUID
    staff_id: uuid.UUID
    staff_name: str
    service_point_id: uuid.UUID
    service_point_name: str
    status: str
    reason: str
    offered_at: datetime
    responded_at: datetime | None = None


class CandidateOut(BaseModel):
    staff_id: str
    name: str
    on_duty: bool
    next_duty: datetime | None
    passed_over: str | None


class DecisionOut(BaseModel):
    id: uuid.UUID
    work_order_id: uuid.UUID
    rule: str
    reason: str
    chosen_staff_id: uuid.UUID | None
    decided_at: datetime
    candidates: list[CandidateOut]


class ServicePointOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    tier: str
    region_code: str
    county_code: str | None
    parent_id: uuid.UUID | None
    windows: list[str]


class StaffOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    role: str
    skills: list[str]
    service_point_id: uuid.UUID
    county_code: str | None
    capacity: int
    active_load: int
