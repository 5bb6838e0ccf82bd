"""Intake's request and response models (the API edge). Every field error says what to fix,
in Chinese and English (validators raise Text("中文", "English").error())."""

from __future__ import annotations

import typing
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from libs.common.bilingual import Text
from libs.common.openapi_examples import examples
from services.intake import domain
from services.intake import examples as ex
from services.intake import validation as v
from services.intake.examples import EXAMPLE_ORDER

Channel = Literal["web", "hotline", "counter", "external"]
Urgency = Literal["normal", "urgent", "critical"]
ExternalSource = Literal["12345", "court", "police", "procuratorate", "petition", "government", "other"]
CallbackOutcome = Literal["reached", "no_answer", "busy", "wrong_number", "refused"]

# Closed lists whose values live in validation.py: the schema names them, the validators keep
# refusing anything else with their own bilingual message.
ServiceType = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.SERVICE_TYPES)})]
LegalDomain = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.DOMAINS)})]
SpecialGroup = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.SPECIAL_GROUPS)})]

# Tasks of the closed loop (loop.py, create.py write them): the list's filters and TaskOut.
TaskKind = Literal["callback", "return_visit"]  # 回拨 before 办结, 回访 after an unsatisfied rating
TaskStatus = Literal["open", "done"]
RatingVia = Literal["operator", "web"]  # api_loop: taken on a call, or the citizen's own page

# Response closed lists: the schema names the values the service writes, without validating the
# answer against them (a row the list does not know must not turn a read into a 500).
OrderStatus = Annotated[str, WithJsonSchema({"type": "string", "enum": list(domain.STATUSES)})]
OrderChannel = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.CHANNELS)})]
UrgencyValue = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.URGENCY_RANK)})]
TaskKindValue = Annotated[str, WithJsonSchema({"type": "string", "enum": list(typing.get_args(TaskKind))})]
TaskStatusValue = Annotated[
    str, WithJsonSchema({"type": "string", "enum": list(typing.get_args(TaskStatus))})
]
OutcomeValue = Annotated[
    str, WithJsonSchema({"type": "string", "enum": list(typing.get_args(CallbackOutcome))})
]
RatingViaValue = Annotated[str, WithJsonSchema({"type": "string", "enum": list(typing.get_args(RatingVia))})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Requester(_Strict):
    name: str = Field(min_length=1, max_length=50, description="求助人姓名", examples=["王秀英"])
    phone: str = Field(description="手机或带区号的座机", examples=["13834567890"])
    id_number: str | None = Field(
        None, description="18 位居民身份证号（加密保存，列表中脱敏）", examples=[ex.ID_NUMBER]
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise Text("姓名不能为空", "name must not be blank").error()
        return value.strip()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return v.normalise_phone(value)

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return v.normalise_id_number(value) if value else None


class Party(_Strict):
    """对方当事人: kept only as keyed hashes, for the conflict-of-interest check (never shown)."""

    name: str = Field(min_length=1, max_length=100, examples=["沁县某建筑公司"])
    id_number: str | None = Field(None, description="身份证号（可选；只以不可逆索引传给派单）")
    phone: str | None = Field(None, description="电话（可选；只以不可逆索引传给派单，区分同名的人）")

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return v.normalise_id_number(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return v.normalise_phone(value) if value else None


class HotlineDetails(_Strict):
    """12348 hotline: the call this order came from."""

    call_id: str = Field(min_length=1, max_length=64)
    caller_number: str | None = Field(None, description="来电号码（可与求助人电话不同）")
    operator_id: str = Field(min_length=1, max_length=64)
    call_started_at: datetime
    call_ended_at: datetime | None = None
    answered_on_call: bool = Field(False, description="当场解答的咨询：记录答复并立即办结，不派单")
    answer_summary: str | None = Field(None, max_length=2000, description="当场解答的要点")
    knowledge_article_id: uuid.UUID | None = Field(
        None, description="当场解答所依据的知识库条目（法律知识库，GET /v1/knowledge/search）"
    )

    @field_validator("caller_number")
    @classmethod
    def _caller(cls, value: str | None) -> str | None:
        return v.normalise_phone(value) if value else None


class CounterDetails(_Strict):
    """A walk-in registered at a counter (窗口)."""

    service_point_id: str = Field(min_length=1, max_length=64)
    staff_id: str = Field(min_length=1, max_length=64)


class WebDetails(_Strict):
    portal: Literal["portal", "wechat", "12348_cn", "app"] = "portal"


class ExternalDetails(_Strict):
    """Transferred from another system (12345, court, police …): (source, reference) is idempotent."""

    source: ExternalSource
    reference: str = Field(min_length=1, max_length=100, examples=["12345-2026-1124-00077"])
    transferred_at: datetime | None = None


class WorkOrderCreate(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=examples(
            EXAMPLE_ORDER,
            {
                "channel": "external",
                "requester": {"name": "李建国", "phone": "0355-2021234"},
                "region_code": "140403",
                "description": "邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
                "external": {"source": "12345", "reference": "12345-2026-1124-00077"},
            },
        ),
    )

    channel: Channel
    requester: Requester
    region_code: str = Field(min_length=6, max_length=12, description="县、乡镇或村的行政区划代码")
    service_type: ServiceType | None = Field(None, description="服务类型；缺省时由描述自动分类")
    domain: LegalDomain | None = Field(None, description="法律领域；缺省时由描述自动分类")
    description: str = Field(min_length=2, max_length=5000)
    special_groups: list[SpecialGroup] = Field(
        default_factory=list, max_length=8, description="特殊群体（四优先）"
    )
    urgency: Urgency | None = Field(None, description="缺省时按描述中的紧急信号判断")
    parent_id: uuid.UUID | None = Field(None, description="一通电话拆成多张工单时的主工单")
    urge_of: uuid.UUID | None = Field(
        None,
        description="并入此单：受理人确认本次来电与该在办工单为同一事项——记为催办（不另行派单），不论类型",
    )
    parties: list[Party] = Field(
        default_factory=list, max_length=20, description="对方当事人（利益冲突审查用，只保存不可逆索引）"
    )
    hotline: HotlineDetails | None = None
    counter: CounterDetails | None = None
    web: WebDetails | None = None
    external: ExternalDetails | None = None

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        v.resolve_region(value)
        return value

    @field_validator("service_type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        return v.service_type(value) if value else None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return v.domain(value) if value else None

    @field_validator("special_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return v.special_groups(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        if len(value.strip()) < 2:
            raise Text(
                "请简要描述您的问题（至少 2 个字）", "please describe the problem (at least 2 characters)"
            ).error()
        return value.strip()


class Notice(BaseModel):
    code: str
    message: str
    message_en: str
    work_order_id: uuid.UUID | None = None
    number: str | None = None


class WorkOrderCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.CREATED))

    id: uuid.UUID
    number: str
    status: OrderStatus
    service_type: ServiceType | None = None
    domain: LegalDomain | None = None
    urgency: UrgencyValue | None = None
    duplicate_of: uuid.UUID | None = None
    follow_up_of: uuid.UUID | None = None
    warnings: list[Notice] = []


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    text: str
    text_en: str | None = None  # the same line in English; null on lines written before it existed


class TaskOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.TASK))

    id: uuid.UUID
    work_order_id: uuid.UUID
    kind: TaskKindValue
    status: TaskStatusValue
    due_at: datetime
    overdue: bool
    attempts: list[dict]
    outcome: OutcomeValue | None
    completed_at: datetime | None


class RatingOut(BaseModel):
    score: int
    comment: str | None
    rated_at: datetime
    via: RatingViaValue


class WorkOrderOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ORDER))

    id: uuid.UUID
    number: str
    status: OrderStatus
    channel: OrderChannel
    service_type: ServiceType
    domain: LegalDomain | None = None
    region_code: str
    county_code: str
    requester_name: str
    requester_phone_masked: str
    requester_id_masked: str | None = None
    description: str
    special_groups: list[SpecialGroup] = []
    urgency: UrgencyValue = "normal"
    classification: dict = {}
    channel_details: dict = {}
    parent_id: uuid.UUID | None = None
    children: list[str] = []
    follow_up_of: uuid.UUID | None = None
    merged_into: uuid.UUID | None = None
    urge_count: int = 0
    due_at: datetime | None = None
    closed_at: datetime | None = None
    answer_summary: str | None = None
    rating: RatingOut | None = None
    created_at: datetime
    tasks: list[TaskOut] = []
    timeline: list[TimelineEntryOut] = []


class WorkOrderListItem(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.LIST_ITEM))

    id: uuid.UUID
    number: str
    status: OrderStatus
    channel: OrderChannel
    service_type: ServiceType
    domain: LegalDomain | None
    region_code: str
    county_code: str = ""
    requester_name: str
    requester_phone_masked: str
    special_groups: list[SpecialGroup]
    urgency: UrgencyValue
    urge_count: int
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    closed_at: datetime | None = None
    close_reason: str | None = None
    rating_score: int | None = None


class WorkOrderPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"items": [ex.LIST_ITEM], "next_cursor": "eyJjIjoiMjAyNi0xMS0yNCJ9"})
    )

    items: list[WorkOrderListItem]
    next_cursor: str | None = Field(None, description="不透明游标；传给 cursor 取下一页")


class ClassificationIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"service_type": "mediation", "domain": "neighbor", "reason": "来电人要求调解"}]
        },
    )
    service_type: ServiceType | None = None
    domain: LegalDomain | None = None
    special_groups: list[SpecialGroup] | None = None
    urgency: Urgency | None = None
    reason: str = Field(min_length=2, max_length=500)

    _type = field_validator("service_type")(lambda cls, x: v.service_type(x) if x else None)
    _domain = field_validator("domain")(lambda cls, x: v.domain(x) if x else None)
    _groups = field_validator("special_groups")(lambda cls, x: v.special_groups(x) if x is not None else None)


class MergeIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"into": "9a4e2c71-0b8d-4f5e-a6c3-7d1f2e3b4a58", "reason": "同一求助人同一事项"}]
        },
    )
    into: uuid.UUID = Field(description="保留的工单")
    reason: str = Field(min_length=2, max_length=500)


class ReasonIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples({"reason": "并单有误，实为两件事"}))
    reason: str = Field(min_length=2, max_length=500)


class CloseIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=examples({"result_summary": "已协助申请劳动仲裁，援助律师已代理。"}),
    )
    result_summary: str = Field(min_length=2, max_length=2000, description="办理结果（答复要点）")


class AttemptIn(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=examples({"outcome": "reached", "note": "已告知办理结果，群众表示认可"}),
    )
    outcome: CallbackOutcome
    note: str = Field("", max_length=1000)


class RatingIn(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=examples({"score": 5, "comment": "工作人员很耐心"})
    )
    score: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    comment: str | None = Field(None, max_length=500)


class ClassifyIn(_Strict):
    """Text to classify for the operator's live suggestion; nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=examples({"description": "老板拖欠我三个月工资，想申请法律援助"}),
    )
    description: str = Field(min_length=1, max_length=5000)


class CallerLookupIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples({"phone": "13834567890"}))
    phone: str | None = None
    id_number: str | None = None
    history: bool = Field(False, description="也返回已办结、已并单的工单（来电人的全部历史，最近 50 张）")

    _phone = field_validator("phone")(lambda cls, x: v.normalise_phone(x) if x else None)
    _id = field_validator("id_number")(lambda cls, x: v.normalise_id_number(x) if x else None)


class TrackEntry(BaseModel):
    at: datetime
    kind: str
    text: str
    text_en: str | None = None  # the same line in English; null on lines written before it existed


class TrackOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.TRACK))

    number: str
    status: OrderStatus
    status_label: str
    service_type_label: str
    created_at: datetime
    closed_at: datetime | None
    can_rate: bool
    timeline: list[TrackEntry]


class WorkOrderPatch(_Strict):
    """Corrections by staff while the order is open (a misheard phone number, a better description)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=examples({"requester_phone": "0355-2021234", "reason": "来电人更正联系电话"}),
    )
    requester_name: str | None = Field(None, min_length=1, max_length=50)
    requester_phone: str | None = None
    requester_id_number: str | None = None
    region_code: str | None = Field(None, min_length=6, max_length=12)
    description: str | None = Field(None, min_length=2, max_length=5000)
    reason: str = Field(min_length=2, max_length=500)

    _phone = field_validator("requester_phone")(lambda cls, x: v.normalise_phone(x) if x else None)
    _id = field_validator("requester_id_number")(lambda cls, x: v.normalise_id_number(x) if x else None)
    _region = field_validator("region_code")(lambda cls, x: v.resolve_region(x).code if x else None)


class CountyTransferIn(_Strict):
    """跨县（区）转办: the order moves to another county's service network, with a reason."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=examples({"region_code": "140429", "reason": "求助人实际居住在武乡县"}),
    )
    region_code: str = Field(min_length=6, max_length=12, description="接收县（区）、乡镇或村的行政区划代码")
    reason: str = Field(min_length=2, max_length=500, description="转办理由")

    _region = field_validator("region_code")(lambda cls, x: v.resolve_region(x).code)
