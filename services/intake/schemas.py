"""Intake's request and response models (the API edge)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.intake import domain

Channel = Literal["web", "hotline", "counter", "external"]
ServiceType = Literal[
    "consultation",
    "legal_aid",
    "mediation",
    "notarization",
    "judicial_appraisal",
    "lawyer_referral",
    "complaint",
    "administrative_reconsideration",
    "community_correction",
    "resettlement",
    "legal_publicity",
    "suggestion",
]


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, description="求助人姓名", examples=["王秀英"])
    phone: str = Field(description="手机或带区号的座机", examples=["13834567890"])

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("姓名不能为空 | name must not be blank")
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        return domain.normalise_phone(v)


class WorkOrderCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "hotline",
                    "requester": {"name": "王秀英", "phone": "13834567890"},
                    "region_code": "140430",
                    "service_type": "legal_aid",
                    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
                }
            ]
        },
    )

    channel: Channel
    requester: Requester
    region_code: str = Field(min_length=6, max_length=12, description="县、乡镇或村的行政区划代码")
    service_type: ServiceType
    description: str = Field(min_length=2, max_length=5000)

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        domain.resolve_region(v.strip())
        return v.strip()

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        v = v.strip()
        if len(v) < 2:
            raise ValueError(
                "请简要描述您的问题（至少 2 个字） | please describe the problem (at least 2 characters)"
            )
        return v


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    text: str


class WorkOrderOut(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    channel: str
    service_type: str
    region_code: str
    county_code: str
    requester_name: str
    requester_phone_masked: str
    description: str
    created_at: datetime
    timeline: list[TimelineEntryOut] = []


class WorkOrderCreated(BaseModel):
    id: uuid.UUID
    number: str
    status: str
