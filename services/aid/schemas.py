"""Request and response models of the aid service."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.clock import CHINA_TZ
from services.aid import domain

ProxyKind = Literal["legal_representative", "near_relative", "custody"]
# Art 22: the forms legal aid takes.
AidForm = Literal[
    "consultation",
    "document_drafting",
    "criminal_defence",
    "criminal_agency",
    "civil_litigation_agency",
    "administrative_litigation_agency",
    "state_compensation_agency",
    "non_litigation_agency",
    "arbitration_agency",
    "duty_lawyer",
]
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def china_time(v: datetime | None) -> datetime | None:
    """A time without an offset is read as China time (counters write local times)."""
    return v.replace(tzinfo=CHINA_TZ) if v is not None and v.tzinfo is None else v


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, max_length=18)
    birth_date: date | None = None
    gender: Literal["male", "female", "unknown"] = "unknown"
    phone: str | None = None
    address: str | None = Field(default=None, max_length=200)

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if not domain.id_number_valid(v):
            raise ValueError(
                "身份证号码格式或校验位不正确 | Invalid resident ID number (format or check digit)"
            )
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.replace(" ", "").replace("-", "")
        if not _PHONE.match(v):
            raise ValueError(
                "手机号应为以 1 开头的 11 位数字 | Mobile number must be 11 digits starting with 1"
            )
        return v


class ProxyIn(BaseModel):
    """Who applies for the applicant: legal representative, near relative, or from custody (Art 39)."""

    model_config = ConfigDict(extra="forbid")

    kind: ProxyKind
    name: str = Field(min_length=1, max_length=100)
    relation: str | None = Field(default=None, max_length=50)
    custody_facility: str | None = Field(default=None, max_length=100)
    custody_received_at: datetime | None = None  # when the facility received the application

    _tz = field_validator("custody_received_at")(classmethod(lambda cls, v: china_time(v)))


class MatterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=60)  # a key of the configured matter list
    cause: str = Field(min_length=1, max_length=200)  # 案由
    stage: str | None = Field(default=None, max_length=60)  # 诉讼/仲裁/侦查/审查起诉/审判 …
    opposing_parties: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=4000)
    grave_penalty: bool = False  # may face life imprisonment or death (Art 26)
    limitation_due: date | None = None  # a limitation period or deadline (Art 44 (1))
    urgent_preservation: bool = False  # property/evidence preservation, advance execution (Art 44 (2))


class MeansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_size: int = Field(ge=1, le=30)
    monthly_income: Decimal = Field(ge=0, le=10_000_000)
    assets: Decimal = Field(default=Decimal(0), ge=0)
    verification: Literal["data_sharing", "honesty_commitment"] | None = None
    verified: bool = False


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=40)
    name: str = Field(default="", max_length=200)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in domain.ATTACHMENT_NAMES:
            raise ValueError(
                f"材料类型无效，可选：{', '.join(domain.ATTACHMENT_NAMES)} | unknown attachment kind"
            )
        return v


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applicant: ApplicantIn
    proxy: ProxyIn | None = None
    matter: MatterIn
    requested_form: AidForm
    means: MeansIn | None = None
    exemption: str | None = None  # a key of domain.EXEMPTIONS (Art 42)
    special_groups: list[str] = Field(default_factory=list, max_length=10)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)
    accept_with_missing: bool = False  # 容缺受理
    preferred_lawyer_id: uuid.UUID | None = None  # 点援制
    # When the application was really received (Art 43 counts from it): a paper application
    # received on Friday and entered on Monday counts from Friday. Empty = received now. Before the
    # day of entry it needs the reason; on a case already open it corrects the receipt.
    received_at: datetime | None = Field(default=None, description="收到申请的时间（默认为录入时）")
    receipt_reason: str | None = Field(default=None, max_length=500, description="收到时间早于录入当日的原因")

    _rtz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))

    @field_validator("exemption")
    @classmethod
    def _exemption(cls, v: str | None) -> str | None:
        if v is not None and v not in domain.EXEMPTIONS:
            raise ValueError(
                f"免核查类别无效，可选：{', '.join(domain.EXEMPTIONS)} | unknown Art 42 category"
            )
        return v


class WindowApplicationIn(ApplicationIn):
    region_code: str = Field(min_length=6, max_length=12)


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attachments: list[AttachmentIn] = Field(min_length=1, max_length=50)
    means: MeansIn | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["grant", "refuse"]
    reasons: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lawyer_id: uuid.UUID | None = None  # the applicant's choice (点援制); empty = rotation


class LawyerAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    firm_consent_by: str = Field(min_length=1, max_length=50)  # who at the firm agreed
    firm_consent_at: datetime | None = None

    _tz = field_validator("firm_consent_at")(classmethod(lambda cls, v: china_time(v)))


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000)


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=2, max_length=4000)


class CloseIn(BaseModel):
    """Art 50: closing needs the case documents and the lawyer's report."""

    model_config = ConfigDict(extra="forbid")

    documents: list[str] = Field(min_length=1, max_length=50)
    report: str = Field(min_length=10, max_length=8000)
    outcome: str = Field(min_length=2, max_length=200)


class SubsidyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, le=100_000)
    standard: str = Field(default="", max_length=200)


class ReturnVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    note: str = Field(default="", max_length=2000)


class TerminateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cause: str
    reason: str = Field(min_length=4, max_length=2000)

    @field_validator("cause")
    @classmethod
    def _cause(cls, v: str) -> str:
        if v not in domain.TERMINATION_CAUSES:
            raise ValueError(
                f"终止原因须为第四十八条情形之一：{', '.join(domain.TERMINATION_CAUSES)} | not an Art 48 cause"
            )
        return v


class ObjectionDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accept", "reject"]
    reason: str = Field(min_length=4, max_length=2000)


class NotificationIn(BaseModel):
    """通知辩护/代理 from a court, procuratorate or police (Art 25, 28, 36)."""

    model_config = ConfigDict(extra="forbid")

    body_kind: Literal["court", "procuratorate", "police"]
    body_name: str = Field(min_length=2, max_length=100)
    document_number: str | None = Field(default=None, max_length=60)
    notified_at: datetime
    region_code: str = Field(min_length=6, max_length=12)
    ground: str
    defendant: ApplicantIn
    cause: str = Field(min_length=1, max_length=200)
    stage: str = Field(default="审判", max_length=60)
    # Art 36 counts from the notice's receipt: by default the notice's own time (an electronic
    # notice arrives when it is sent); a paper notice that arrived later gives its receipt here.
    received_at: datetime | None = Field(default=None, description="收到通知的时间（默认为通知时间）")
    receipt_reason: str | None = Field(default=None, max_length=500, description="收到时间早于录入当日的原因")

    _tz = field_validator("notified_at", "received_at")(classmethod(lambda cls, v: china_time(v)))

    @field_validator("ground")
    @classmethod
    def _ground(cls, v: str) -> str:
        if v not in domain.NOTIFICATION_GROUNDS:
            raise ValueError(
                f"通知理由须为第二十五条/第二十八条情形：{', '.join(domain.NOTIFICATION_GROUNDS)} | unknown ground"
            )
        return v


class ReceiptIn(BaseModel):
    """A later correction of when the application / notice was received."""

    model_config = ConfigDict(extra="forbid")

    received_at: datetime
    reason: str = Field(min_length=1, max_length=500)

    _tz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))


class ClockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    article: str
    started_on: date
    due: date
    warnings: list[str]
    days: int | None = None
    counts_from: str | None = None  # receipt = from the application / notice received
    met_at: datetime | None
    cancelled_at: datetime | None
    breached_at: datetime | None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    work_order_id: uuid.UUID | None
    county_code: str
    region_code: str
    status: str
    kind: str
    source: str
    handler_staff_id: uuid.UUID | None
    staff_name: str | None
    applicant_name: str
    id_number_masked: str | None
    phone_masked: str | None
    applicant: dict[str, Any]
    proxy: dict[str, Any] | None
    matter: dict[str, Any]
    requested_form: str | None
    means: dict[str, Any] | None
    exemption: str | None
    special_groups: list[Any]
    attachments: list[Any]
    eligibility: dict[str, Any] | None
    missing_items: list[Any]
    deferred_items: list[Any]
    supplement_due: date | None
    provide_first: bool
    grave_penalty: bool
    decision: dict[str, Any] | None
    notification: dict[str, Any] | None
    lawyer_id: uuid.UUID | None
    lawyer_name: str | None
    lawyer_firm: str | None
    assignment: dict[str, Any] | None
    closure: dict[str, Any] | None
    subsidy: dict[str, Any] | None
    return_visit: dict[str, Any] | None
    termination: dict[str, Any] | None
    objection: dict[str, Any] | None
    received_on: date | None
    received_at: datetime | None = None
    receipt: dict[str, Any] | None = None
    opened_at: datetime
    archived_at: datetime | None
    allowed_actions: list[str] = []
    clocks: list[ClockOut] = []


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_state: str | None
    to_state: str
    actor: str | None
    reason: str | None
    details: dict[str, Any]
    at: datetime
