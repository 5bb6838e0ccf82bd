"""Request and response models of the aid service."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, overload

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.bilingual import Text
from libs.common.clock import CHINA_TZ
from libs.common.special_groups import check_known as check_special_groups
from services.aid import domain
from services.aid import examples as ex
from services.aid.settings import get_rules
from services.aid.uploads.schemas import ChecklistItemOut

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


def one_of(values: Any, **kw: Any) -> Any:
    """The closed list a validator (or the service) enforces, stated in the schema as `enum`.

    Used where the check stays in code: its message names the article or lists the labels."""
    return Field(json_schema_extra={"enum": sorted(values)}, **kw)


def _matter_keys() -> set[str]:
    """Every matter key the configured rules accept in some province (the service checks the
    applicant's own province: GET /v1/rules lists that province's matters)."""
    r = get_rules()
    keys = {*r.scope_art31, *r.no_means_test_art32, *r.criminal_applications}
    for extra in r.provincial_extensions.values():
        keys |= set(extra)
    return keys


Exemption = Annotated[str, one_of(domain.EXEMPTIONS)]
SpecialGroup = Annotated[str, one_of(domain.SPECIAL_GROUPS)]
State = Annotated[str, one_of(domain.STATES)]
Action = Annotated[str, one_of(domain.TRANSITIONS)]
ClockName = Annotated[str, one_of(domain.CLOCKS.keys() | {"supplement"})]


@overload
def china_time(v: datetime) -> datetime: ...
@overload
def china_time(v: None) -> None: ...
def china_time(v: datetime | None) -> datetime | None:
    """A time without an offset is read as China time (counters write local times)."""
    return v.replace(tzinfo=CHINA_TZ) if v is not None and v.tzinfo is None else v


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.APPLICANT))

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
            raise Text(
                "身份证号码格式或校验位不正确", "Invalid resident ID number (format or check digit)"
            ).error()
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.replace(" ", "").replace("-", "")
        if not _PHONE.match(v):
            raise Text(
                "手机号应为以 1 开头的 11 位数字", "Mobile number must be 11 digits starting with 1"
            ).error()
        return v


class ProxyIn(BaseModel):
    """Who applies for the applicant: legal representative, near relative, or from custody (Art 39)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.PROXY))

    kind: ProxyKind
    name: str = Field(min_length=1, max_length=100)
    relation: str | None = Field(default=None, max_length=50)
    custody_facility: str | None = Field(default=None, max_length=100)
    custody_received_at: datetime | None = None  # when the facility received the application

    _tz = field_validator("custody_received_at")(classmethod(lambda cls, v: china_time(v)))


class MatterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.MATTER))

    category: str = one_of(
        _matter_keys(),
        min_length=1,
        max_length=60,
        description="援助事项（按申请人所在省份，见 GET /v1/rules）| matter key of the configured list",
    )
    cause: str = Field(min_length=1, max_length=200)  # 案由
    stage: str | None = Field(default=None, max_length=60)  # 诉讼/仲裁/侦查/审查起诉/审判 …
    opposing_parties: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=4000)
    grave_penalty: bool = False  # may face life imprisonment or death (Art 26)
    limitation_due: date | None = None  # a limitation period or deadline (Art 44 (1))
    urgent_preservation: bool = False  # property/evidence preservation, advance execution (Art 44 (2))


class MeansIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.MEANS))

    household_size: int = Field(ge=1, le=30)
    monthly_income: Decimal = Field(ge=0, le=10_000_000)
    assets: Decimal = Field(default=Decimal(0), ge=0)
    verification: Literal["data_sharing", "honesty_commitment"] | None = None
    verified: bool = False


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ATTACHMENT))

    kind: str = one_of(domain.ATTACHMENT_NAMES, min_length=1, max_length=40)
    name: str = Field(default="", max_length=200)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in domain.ATTACHMENT_NAMES:
            raise Text(
                f"材料类型无效，可选：{', '.join(domain.ATTACHMENT_NAMES)}", "unknown attachment kind"
            ).error()
        return v


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.APPLICATION))

    applicant: ApplicantIn
    proxy: ProxyIn | None = None
    matter: MatterIn
    requested_form: AidForm
    means: MeansIn | None = None
    exemption: Exemption | None = None  # Art 42
    special_groups: list[SpecialGroup] = Field(
        default_factory=list, max_length=10, description="特殊群体（四优先）"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)
    accept_with_missing: bool = False  # 容缺受理
    preferred_lawyer_id: uuid.UUID | None = None  # 点援制
    # When the application was really received (Art 43 counts from it): a paper application
    # received on Friday and entered on Monday counts from Friday. Empty = received now. Before the
    # day of entry it needs the reason; on a case already open it corrects the receipt.
    received_at: datetime | None = Field(default=None, description="收到申请的时间（默认为录入时）")
    receipt_reason: str | None = Field(default=None, max_length=500, description="收到时间早于录入当日的原因")

    _rtz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))

    @field_validator("special_groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        check_special_groups(v)
        return v

    @field_validator("exemption")
    @classmethod
    def _exemption(cls, v: str | None) -> str | None:
        if v is not None and v not in domain.EXEMPTIONS:
            raise Text(
                f"免核查类别无效，可选：{', '.join(domain.EXEMPTIONS)}", "unknown Art 42 category"
            ).error()
        return v


class WindowApplicationIn(ApplicationIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.WINDOW_APPLICATION))

    region_code: str = Field(min_length=6, max_length=12)


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.SUPPLEMENT))

    attachments: list[AttachmentIn] = Field(min_length=1, max_length=50)
    means: MeansIn | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.DECISION))

    decision: Literal["grant", "refuse"]
    reasons: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.ASSIGN))

    lawyer_id: uuid.UUID | None = None  # the applicant's choice (点援制); empty = rotation


class LawyerAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.LAWYER_ACCEPT))

    firm_consent_by: str = Field(min_length=1, max_length=50)  # who at the firm agreed
    firm_consent_at: datetime | None = None

    _tz = field_validator("firm_consent_at")(classmethod(lambda cls, v: china_time(v)))


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.REASON))

    reason: str = Field(min_length=4, max_length=2000)


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.PROGRESS))

    note: str = Field(min_length=2, max_length=4000)


class CloseIn(BaseModel):
    """Art 50: closing needs the case documents and the lawyer's report."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.CLOSE))

    documents: list[str] = Field(min_length=1, max_length=50)
    report: str = Field(min_length=10, max_length=8000)
    outcome: str = Field(min_length=2, max_length=200)


class SubsidyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.SUBSIDY))

    amount: Decimal = Field(gt=0, le=100_000)
    standard: str = Field(default="", max_length=200)


class ReturnVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.RETURN_VISIT))

    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    note: str = Field(default="", max_length=2000)


class TerminateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.TERMINATE))

    cause: str = one_of(domain.TERMINATION_CAUSES, description="第四十八条情形 | Art 48 cause")
    reason: str = Field(min_length=4, max_length=2000)

    @field_validator("cause")
    @classmethod
    def _cause(cls, v: str) -> str:
        if v not in domain.TERMINATION_CAUSES:
            raise Text(
                f"终止原因须为第四十八条情形之一：{', '.join(domain.TERMINATION_CAUSES)}",
                "not an Art 48 cause",
            ).error()
        return v


class ObjectionDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.OBJECTION_DECISION))

    outcome: Literal["accept", "reject"]
    reason: str = Field(min_length=4, max_length=2000)


class NotificationIn(BaseModel):
    """通知辩护/代理 from a court, procuratorate or police (Art 25, 28, 36)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.NOTIFICATION))

    body_kind: Literal["court", "procuratorate", "police"]
    body_name: str = Field(min_length=2, max_length=100)
    document_number: str | None = Field(default=None, max_length=60)
    notified_at: datetime
    region_code: str = Field(min_length=6, max_length=12)
    ground: str = one_of(
        domain.NOTIFICATION_GROUNDS, description="第二十五条/第二十八条情形 | Art 25/28 ground"
    )
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
            raise Text(
                f"通知理由须为第二十五条/第二十八条情形：{', '.join(domain.NOTIFICATION_GROUNDS)}",
                "unknown ground",
            ).error()
        return v


class ReceiptIn(BaseModel):
    """A later correction of when the application / notice was received."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.examples(ex.RECEIPT))

    received_at: datetime
    reason: str = Field(min_length=1, max_length=500)

    _tz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))


class ClockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.CLOCK))

    name: ClockName
    article: str
    started_on: date
    due: date
    warnings: list[str]
    days: int | None = None
    counts_from: Annotated[str, one_of({domain.RECEIPT})] | None = None  # from the receipt (Art 43, 36)
    met_at: datetime | None = None
    cancelled_at: datetime | None = None
    breached_at: datetime | None = None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.CASE))

    id: uuid.UUID
    number: str
    work_order_id: uuid.UUID | None = None
    county_code: str
    region_code: str
    status: State
    kind: Annotated[str, one_of({"application", "notification"})]
    source: Annotated[str, one_of({"work_order", "window", "notice"})]
    handler_staff_id: uuid.UUID | None = None
    staff_name: str | None = None
    applicant_name: str
    id_number_masked: str | None = None
    phone_masked: str | None = None
    applicant: dict[str, Any]
    proxy: dict[str, Any] | None = None
    matter: dict[str, Any]
    requested_form: Annotated[str, one_of(get_args(AidForm))] | None = None
    means: dict[str, Any] | None = None
    exemption: Exemption | None = None
    special_groups: list[SpecialGroup]
    attachments: list[Any]
    eligibility: dict[str, Any] | None = None
    missing_items: list[Any]
    deferred_items: list[Any]
    supplement_due: date | None = None
    provide_first: bool
    grave_penalty: bool
    decision: dict[str, Any] | None = None
    notification: dict[str, Any] | None = None
    lawyer_id: uuid.UUID | None = None
    lawyer_name: str | None = None
    lawyer_firm: str | None = None
    assignment: dict[str, Any] | None = None
    closure: dict[str, Any] | None = None
    subsidy: dict[str, Any] | None = None
    return_visit: dict[str, Any] | None = None
    termination: dict[str, Any] | None = None
    objection: dict[str, Any] | None = None
    received_on: date | None = None
    received_at: datetime | None = None
    receipt: dict[str, Any] | None = None
    opened_at: datetime
    archived_at: datetime | None = None
    allowed_actions: list[Action] = []
    clocks: list[ClockOut] = []
    # The 一次性告知 list ticked off by what is on file (services/aid/uploads); detail only.
    checklist: list[ChecklistItemOut] = []


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.LOG))

    action: str
    from_state: State | None = None
    to_state: State
    actor: str | None = None
    reason: str | None = None
    details: dict[str, Any]
    at: datetime
