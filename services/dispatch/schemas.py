"""Dispatch's request and response models."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from libs.common.bilingual import Text
from libs.common.openapi_examples import examples
from libs.common.patching import PatchModel
from services.dispatch import examples as ex
from services.dispatch.domain import BAND_ZH


def one_of(*values: str) -> WithJsonSchema:
    """A response's closed list as `enum`: documents the values the service writes without
    validating the answer against them (a value the list missed must not turn a read into a 500)."""
    return WithJsonSchema({"type": "string", "enum": sorted(values)})


# The values dispatch writes (no constant holds them elsewhere): an assignment's status and kind
# (service.py offers and accepts; offers.py and lifecycle.py end it), the order's status
# (service.py, offers.py, lifecycle.py), the clocks (clocks.py, supervision.py), extensions.py.
ASSIGNMENT_STATUSES = ("offered", "accepted", "rejected", "expired", "returned", "transferred", "withdrawn")
ASSIGNMENT_KINDS = ("offer", "follow_up", "transfer")
ORDER_STATUSES = ("new", "offered", "escalated", "assigned", "closed", "merged")
CLOCKS = ("transfer", "reply", "max")
CLOCK_STATES = ("at_risk", "overdue")  # supervision lists no order that is "ok"
EXTENSION_STATUSES = ("requested", "approved", "refused")
EXTENSION_ACTIONS = ("approve", "refuse")
CALENDAR_SOURCES = ("table", "library", "fallback")
TIER = Literal["city", "county", "township", "village"]

StaffRole = Literal[
    "operator",
    "counter_staff",
    "lawyer",
    "legal_worker",
    "mediator",
    "aid_officer",
    "notary",
    "volunteer",
]


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields: no mass assignment of status, load or assignee."""

    model_config = ConfigDict(extra="forbid")


class AssignmentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ASSIGNMENT))

    id: uuid.UUID
    work_order_id: uuid.UUID
    staff_id: uuid.UUID
    staff_name: str
    # The person's login name (every staff member logs in with their staff code): who has it.
    staff_code: str | None = None
    service_point_id: uuid.UUID
    service_point_name: str
    status: Annotated[str, one_of(*ASSIGNMENT_STATUSES)]
    reason: str
    offered_at: datetime
    responded_at: datetime | None = None
    expires_at: datetime | None = None
    kind: Annotated[str, one_of(*ASSIGNMENT_KINDS)] = "offer"
    reason_code: str | None = None
    order_number: str | None = None
    service_type: str | None = None
    priority: bool = False  # 四优先


class CandidateOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CANDIDATE))

    staff_id: str
    name: str
    service_point: str | None = None
    on_duty: bool
    next_duty: datetime | None
    score: list | None = None  # (off duty, next duty, no dialect, weighted load, −proficiency, idle since)
    passed_over: str | None
    target: int | None = None
    step: str | None = None
    warning: str | None = None  # e.g. a party matching only by name (conflicts.py): check it


class DecisionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.DECISION))

    id: uuid.UUID
    work_order_id: uuid.UUID
    rule: str
    policy_version: str
    reason: str
    complexity: int
    complexity_band: Annotated[str, one_of(*BAND_ZH)]
    complexity_reasons: list[str]
    chosen_staff_id: uuid.UUID | None
    decided_at: datetime
    candidates: list[CandidateOut]


class ServicePointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.POINT))

    id: uuid.UUID
    code: str
    name: str
    tier: Annotated[str, one_of(*get_args(TIER))]
    region_code: str
    county_code: str | None
    parent_id: uuid.UUID | None
    windows: list[str]
    opening_hours: list[dict] = []
    active: bool = True


class StaffOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.STAFF))

    id: uuid.UUID
    code: str
    name: str
    role: Annotated[str, one_of(*get_args(StaffRole))]
    skills: list[str]
    service_point_id: uuid.UUID
    county_code: str | None
    capacity: int
    active_load: int
    levels: dict[str, int] = {}
    languages: list[str] = []
    active: bool = True
    signed_in_at: datetime | None = None
    signed_out_at: datetime | None = None


class OrderClockOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ORDER_CLOCK))

    work_order_id: uuid.UUID
    number: str
    county_code: str
    service_point_id: uuid.UUID | None
    handler_staff_id: uuid.UUID | None
    status: Annotated[str, one_of(*ORDER_STATUSES)]
    priority: bool
    clock: Annotated[str, one_of(*CLOCKS)]
    due: datetime | None
    state: Annotated[str, one_of(*CLOCK_STATES)]
    supervision_level: int
    warnings: list[str] = []


class SupervisionGroupOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.SUPERVISION_GROUP))

    county_code: str
    service_point_id: uuid.UUID | None
    overdue: int
    at_risk: int
    orders: list[OrderClockOut]


class QueueItemOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.QUEUE_ITEM))

    work_order_id: uuid.UUID
    number: str
    county_code: str
    service_type: str
    special_groups: list[str]
    urgency: str
    priority: bool
    transfer_due: datetime | None
    escalated_at: datetime | None
    offers_made: int


# ---- offers ------------------------------------------------------------------------


class RejectIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason_code": "overload", "note": "本周已有 12 件在办，无法按时办理"}]
        }
    )

    reason_code: Literal["conflict", "overload", "out_of_scope"]
    note: str = Field("", max_length=500)


class ReturnIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples({"reason": "求助人要求由户籍地沁县办理"}))

    reason: str = Field(min_length=2, max_length=500)


class TransferIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"to_staff_id": ex.OTHER_STAFF_ID, "reason": "需熟悉劳动仲裁的律师接手"}]
        }
    )

    to_staff_id: uuid.UUID
    reason: str = Field(min_length=2, max_length=500)


class PartyIn(BaseModel):
    side: Literal["requester", "counterparty"] = "counterparty"
    name: str | None = Field(None, max_length=100)
    id_number: str | None = Field(None, max_length=18)
    # Kept as a blind index only; with the ID number it tells two namesakes apart.
    phone: str | None = Field(None, max_length=20, description="电话（可选；只保存不可逆索引）")

    @model_validator(mode="after")
    def _one(self) -> PartyIn:
        if not (self.name or self.id_number or self.phone):
            raise Text("请填写当事人姓名、身份证号或电话", "give a name, an ID number or a phone").error()
        return self


class PartiesIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "parties": [
                        {"side": "counterparty", "name": "武乡县某建筑公司"},
                        {"side": "counterparty", "name": "张国强", "phone": "13934561234"},
                    ]
                }
            ]
        }
    )

    parties: list[PartyIn] = Field(min_length=1, max_length=20)


# ---- network admin -----------------------------------------------------------------


class HoursIn(BaseModel):
    weekday: int = Field(ge=0, le=6)
    start: time
    end: time = Field(description="结束时间；到午夜写 24:00 | end; 24:00 for midnight")

    @field_validator("end", mode="before")
    @classmethod
    def _midnight(cls, v: object) -> object:
        return time.max if isinstance(v, str) and v.strip() in ("24:00", "24:00:00") else v

    @model_validator(mode="after")
    def _order(self) -> HoursIn:
        if self.end <= self.start:
            raise Text("结束时间须晚于开始时间", "end must be after start").error()
        return self


class ServicePointIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.POINT_IN))

    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=2, max_length=100)
    tier: TIER
    region_code: str = Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    parent_id: uuid.UUID | None = None
    windows: list[str] = Field(default_factory=list, max_length=20)
    opening_hours: list[HoursIn] = Field(default_factory=list, max_length=21)


class ServicePointPatch(PatchModel, RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.POINT_PATCH))

    NULLABLE = frozenset({"parent_id"})  # null: the point reports to no parent any more

    name: str | None = Field(None, min_length=2, max_length=100)
    parent_id: uuid.UUID | None = None
    windows: list[str] | None = Field(None, max_length=20)
    opening_hours: list[HoursIn] | None = Field(None, max_length=21)
    active: bool | None = None


Level = Annotated[int, Field(ge=1, le=5)]


class StaffIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.STAFF_IN))

    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=2, max_length=50)
    role: StaffRole
    skills: list[str] = Field(min_length=1, max_length=20)
    levels: dict[str, Level] = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=lambda: ["普通话"], max_length=10)
    service_point_id: uuid.UUID
    capacity: int = Field(10, ge=1, le=200)


class StaffPatch(PatchModel, RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.STAFF_PATCH))

    name: str | None = Field(None, min_length=2, max_length=50)
    role: StaffRole | None = None  # the person's login roles follow (identity, staff_changed)
    skills: list[str] | None = Field(None, min_length=1, max_length=20)
    levels: dict[str, Level] | None = None
    languages: list[str] | None = Field(None, max_length=10)
    service_point_id: uuid.UUID | None = None
    capacity: int | None = Field(None, ge=1, le=200)
    active: bool | None = None


class RosterSlotIn(HoursIn):
    # weekly: working days only (the holiday calendar decides); on_call: a 7×24 rota slot,
    # that weekday of every week, weekends and holidays included (services/dispatch/duty.py).
    kind: Literal["weekly", "on_call"] = "weekly"


class RosterIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ROSTER))

    slots: list[RosterSlotIn] = Field(max_length=28)


class RosterExceptionIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ROSTER_EXCEPTION))

    day: date
    kind: Literal["extra", "off"]
    start: time | None = None
    end: time | None = None
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _times(self) -> RosterExceptionIn:
        if self.kind == "extra" and not (self.start and self.end):
            raise Text("加班值班须填写开始和结束时间", "extra duty needs start and end").error()
        if self.start and self.end and self.end <= self.start:
            raise Text("结束时间须晚于开始时间", "end must be after start").error()
        return self


class LeaveIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.LEAVE))

    start_date: date
    end_date: date
    reason: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _range(self) -> LeaveIn:
        if self.end_date < self.start_date:
            raise Text("结束日期不能早于开始日期", "end_date before start_date").error()
        return self


class CalendarYearIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CALENDAR_IN))

    holidays: list[date] = Field(max_length=60)
    workdays: list[date] = Field(default_factory=list, max_length=20)  # 调休 make-up working days


class CalendarYearOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CALENDAR))

    year: int
    source: Annotated[str, one_of(*CALENDAR_SOURCES)]
    holidays: list[date]
    workdays: list[date]
    warnings: list[str]


class ReplyExtensionIn(RequestModel):
    """Why the reply needs longer than the ordinary period (e.g. 需调取档案、多部门会商)."""

    model_config = ConfigDict(json_schema_extra=examples({"reason": "需调取劳动仲裁档案，并与人社局会商"}))

    reason: str = Field(min_length=4, max_length=1000)


class ExtensionDecisionIn(RequestModel):
    model_config = ConfigDict(json_schema_extra=examples({"reason": "确需调取档案，同意延期"}))

    reason: str = Field(min_length=2, max_length=1000)


class ReplyExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=examples(ex.EXTENSION))

    id: uuid.UUID
    work_order_id: uuid.UUID
    order_number: str | None = None
    county_code: str
    status: Annotated[str, one_of(*EXTENSION_STATUSES)]
    reason: str
    requested_by: str
    requested_by_name: str | None
    requested_at: datetime
    reply_due_before: datetime
    reply_due_after: datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    allowed_actions: list[Annotated[str, one_of(*EXTENSION_ACTIONS)]] = []
