"""Webhook API bodies (pydantic at the edge)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.openapi_examples import examples
from services.intake.webhooks.domain import KINDS, Kind
from services.intake.webhooks.targets import TargetRefused, check_syntax

Format = Literal["lawline", "12345"]
EXAMPLE = {
    "url": "https://12345.example.gov.cn/lawline/feedback",
    "events": ["accepted", "assigned", "answered", "closed", "rated"],
    "format": "12345",
    "description": "长治市 12345 热线办结反馈",
}


_SUB_ID = "3c9b1f0e-5d2a-4e7b-8f61-2a4b6c8d0e1f"
_DELIVERY_ID = "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f"
SUBSCRIPTION_OUT = {
    "id": _SUB_ID,
    **EXAMPLE,
    "owner_name": "长治市12345热线",
    "enabled": True,
    "failing_since": None,
    "disabled_at": None,
    "disabled_reason": None,
    "previous_secret_valid_until": None,
    "created_at": "2026-11-24T01:30:00Z",
    "updated_at": "2026-11-24T01:30:00Z",
    "deliveries": {"delivered": 41, "pending": 1},
}
ATTEMPT_OUT = {
    "attempt": 1,
    "at": "2026-11-28T07:10:01Z",
    "status_code": 503,
    "latency_ms": 87,
    "error": "HTTP 503",
    "next_attempt_at": "2026-11-28T07:10:31Z",
}
DELIVERY_OUT = {
    "id": _DELIVERY_ID,
    "subscription_id": _SUB_ID,
    "event_id": "6b0f3c5e-2f1d-4c7a-9e8b-1a2b3c4d5e6f",
    "kind": "closed",
    "work_order_id": "0f6e3a9c-27b8-4d15-9c4e-8a1b2c3d4e5f",
    "status": "delivered",
    "attempts": 2,
    "next_attempt_at": None,
    "deadline_at": "2026-11-29T07:10:00Z",
    "last_status_code": 200,
    "last_error": None,
    "delivered_at": "2026-11-28T07:10:32Z",
    "created_at": "2026-11-28T07:10:00Z",
    "body": '{"event_id":"6b0f3c5e-2f1d-4c7a-9e8b-1a2b3c4d5e6f","ticket_no":"12345-2026-1124-00077"}',
    "attempt_log": [
        ATTEMPT_OUT,
        {
            **ATTEMPT_OUT,
            "attempt": 2,
            "at": "2026-11-28T07:10:32Z",
            "status_code": 200,
            "error": None,
            "next_attempt_at": None,
        },
    ],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _url(value: str) -> str:
    try:
        check_syntax(value)
    except TargetRefused as exc:
        raise exc.text.error() from exc
    return value


def _events(value: list[Kind]) -> list[Kind]:
    if not value:
        raise ValueError("至少选择一种事件 | choose at least one event")
    return [k for k in KINDS if k in value]  # de-duplicated, in the life's order


class SubscriptionIn(_Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=examples(EXAMPLE))

    url: str = Field(min_length=8, max_length=2000, description="接收推送的 http(s) 地址")
    events: list[Kind] = Field(default_factory=lambda: list(KINDS), description="订阅的事件")
    format: Format = Field("lawline", description="lawline：本系统事件；12345：12345 办结反馈格式")
    description: str = Field("", max_length=200)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[Kind]) -> list[Kind]:
        return _events(value)


class SubscriptionPatch(_Strict):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=examples({"enabled": True})
    )

    url: str | None = Field(None, min_length=8, max_length=2000)
    events: list[Kind] | None = None
    format: Format | None = None
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = Field(None, description="true：重新启用（清除失败记录）")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[Kind] | None) -> list[Kind] | None:
        return None if value is None else _events(value)


class ReplayIn(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=examples({"since": "2026-11-28T08:00:00+08:00"})
    )

    since: datetime = Field(description="重新推送此时间以后写入的全部推送")


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(SUBSCRIPTION_OUT))

    id: uuid.UUID
    url: str
    events: list[str]
    format: str
    description: str
    owner_name: str
    enabled: bool
    failing_since: datetime | None = Field(None, description="自此时起推送全部失败（告警）")
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    previous_secret_valid_until: datetime | None = None
    created_at: datetime
    updated_at: datetime
    deliveries: dict[str, int] = Field(default_factory=dict, description="按状态计数")


class SubscriptionCreated(SubscriptionOut):
    model_config = ConfigDict(
        json_schema_extra=examples({**SUBSCRIPTION_OUT, "deliveries": {}, "secret": "whsec_" + "x" * 43})
    )

    secret: str = Field(description="签名密钥，仅此一次显示，请妥善保存")


class SecretOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"secret": "whsec_" + "y" * 43, "previous_secret_valid_until": "2026-11-25T01:30:00Z"}
        )
    )

    secret: str = Field(description="新的签名密钥，仅此一次显示")
    previous_secret_valid_until: datetime = Field(description="旧密钥在此之前仍同时签名")


class AttemptOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ATTEMPT_OUT))

    attempt: int
    at: datetime
    status_code: int | None = None
    latency_ms: int
    error: str | None = None
    next_attempt_at: datetime | None = None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(DELIVERY_OUT))

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: str
    kind: str
    work_order_id: uuid.UUID
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = None
    deadline_at: datetime
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime
    body: str
    attempt_log: list[AttemptOut] = []


class ReplayOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"queued": 12}))

    queued: int
