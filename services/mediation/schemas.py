"""Request and response models of the mediation service."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.common.bilingual import Text
from libs.common.clock import CHINA_TZ
from libs.common.pii import mask_phone
from services.mediation import domain
from services.mediation import examples as ex

Source = Literal["application", "own_initiative", "police", "court", "petition", "government"]
CourtProcedure = Literal["pre_filing", "post_filing_ordinary", "post_filing_summary"]
DisputeType = Literal[tuple(domain.DISPUTE_TYPES)]  # type: ignore[valid-type]
SignMethod = Literal["signature", "seal", "thumbprint"]
ConsentMethod = Literal["written", "oral", "signed_form"]
RiskKind = Literal["violence", "criminal", "self_harm", "mass_incident"]
RaisedBy = Literal["mediator", "party", "committee"]
FollowUpKind = Literal["performance", "return_visit"]
Performance = Literal["full", "partial", "none"]
# What the service writes on its own rows (workflow.py, outcome.py; models.py's comments):
SESSION_STATUSES = ("scheduled", "held")  # schedule_session, record_session
AGREEMENT_FORMS = ("written", "oral")  # draft_agreement, oral_agreement


def one_of(values: Any) -> Any:
    """A closed list stated in the schema as `enum` where the model does not check it: the values
    the service writes into an answer (statuses, outcomes), so a client can switch on them."""
    return Field(json_schema_extra={"enum": sorted(values)})


Status = Annotated[str, one_of(domain.STATUSES)]
Action = Annotated[str, one_of(set(domain.TRANSITIONS) - domain.SYSTEM_ACTIONS)]
Outcome = Annotated[str, one_of({"refused", "failed", "agreed_written", "agreed_oral"})]
CommitteeKind = Annotated[str, one_of(domain.COMMITTEE_KINDS)]

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_ORG_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def china_time(v: datetime | None) -> datetime | None:
    """A time without an offset is read as China time (counters write local times)."""
    return v.replace(tzinfo=CHINA_TZ) if v is not None and v.tzinfo is None else v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _strict(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.examples(example))


class PartyIn(Strict):
    model_config = _strict(ex.APPLICANT)

    side: Literal["applicant", "respondent"]
    kind: Literal["person", "organisation"] = "person"
    name: str = Field(min_length=2, max_length=100)
    id_number: str | None = Field(default=None, description="18 位居民身份证号（自然人）")
    org_code: str | None = Field(default=None, description="统一社会信用代码（组织）")
    legal_representative: str | None = Field(default=None, max_length=50)
    phone: str | None = None
    address: str | None = Field(default=None, max_length=200)

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v and not domain.valid_resident_id(v):
            raise Text("身份证号码无效（请核对 18 位号码及校验位）", "invalid resident ID number").error()
        return v.upper() if v else v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.replace(" ", "")
        if not _PHONE.match(v):
            raise Text("电话号码格式不正确（11 位手机号或带区号的固定电话）", "invalid phone number").error()
        return v

    @field_validator("org_code")
    @classmethod
    def _org(cls, v: str | None) -> str | None:
        if v and not _ORG_CODE.match(v.upper()):
            raise Text(
                "统一社会信用代码应为 18 位", "unified social credit code must be 18 characters"
            ).error()
        return v.upper() if v else v


class CaseIn(Strict):
    model_config = _strict(ex.CASE_IN)

    work_order_id: uuid.UUID | None = None
    source: Source = "application"
    court_procedure: CourtProcedure | None = None
    referral_body: str | None = Field(default=None, max_length=100, description="移送/委派单位名称")
    committee_id: uuid.UUID
    dispute_type: DisputeType  # type: ignore[valid-type]
    summary: str = Field(min_length=5, max_length=4000)
    claims: str = Field(min_length=2, max_length=2000, description="当事人的请求")
    parties: list[PartyIn] = Field(min_length=1, max_length=30)
    # When the application / referral was really received: the period counts from it (a paper
    # application received on Friday and registered on Monday counts from Friday). Empty = now;
    # earlier than the day of registration needs the reason.
    received_at: datetime | None = Field(default=None, description="收到调解申请或移送的时间（默认为登记时）")
    receipt_reason: str | None = Field(default=None, max_length=500, description="收到时间早于登记当日的原因")

    _rtz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))

    @model_validator(mode="after")
    def _court(self) -> CaseIn:
        if self.source == "court" and not self.court_procedure:
            raise Text(
                "法院委派/委托调解须注明立案前委派或立案后委托（普通/简易程序）", "court_procedure required"
            ).error()
        if self.source != "court" and self.court_procedure:
            raise Text("只有法院移送的案件才有诉调程序", "court_procedure only for court referrals").error()
        return self


class PartyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PARTY_OUT))

    id: uuid.UUID
    seq: int
    side: Annotated[str, one_of({"applicant", "respondent"})]
    kind: Annotated[str, one_of({"person", "organisation"})]
    name: str
    id_number_masked: str | None = None
    org_code: str | None = None
    legal_representative: str | None = None
    phone_masked: str | None = None
    address: str | None = None
    consent: Annotated[str, one_of({"pending", "given", "refused"})]
    consent_method: Annotated[str, one_of(get_args(ConsentMethod))] | None = None
    consent_at: datetime | None = None
    refusal_reason: str | None = None
    sign_method: Annotated[str, one_of(domain.SIGN_METHODS)] | None = None
    signed_at: datetime | None = None

    @classmethod
    def of(cls, p) -> PartyOut:  # type: ignore[no-untyped-def]
        data = {k: getattr(p, k) for k in cls.model_fields if hasattr(p, k)}
        return cls(**data, phone_masked=mask_phone(p.phone))


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.CASE_OUT))

    id: uuid.UUID
    number: str
    work_order_id: uuid.UUID | None = None
    county_code: str
    region_code: str
    status: Status
    outcome: Outcome | None = None
    mediator_staff_id: uuid.UUID | None = None
    staff_name: str | None = None
    mediator_chosen_by: Annotated[str, one_of({"committee", "parties"})] | None = None
    dispute_type: Annotated[str, one_of(domain.DISPUTE_TYPES)] = "other"
    source: Annotated[str, one_of(domain.SOURCES)] = "application"
    court_procedure: Annotated[str, one_of(domain.COURT_PROCEDURES)] | None = None
    committee_id: uuid.UUID | None = None
    due_date: date | None = None
    risk_flag: bool = False
    opened_at: datetime
    concluded_at: datetime | None = None


class SessionOut(BaseModel):
    """A mediation session (调解会) as the case detail shows it: every column but case_id."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SESSION_OUT))

    id: uuid.UUID
    scheduled_at: datetime
    location: str
    public: bool = False
    status: Annotated[str, one_of(SESSION_STATUSES)]
    attendance: dict[str, Any] = Field(default_factory=dict, description="当事人 id → 是否到场")
    invited: list[Any] = []
    notes: str | None = None
    held_at: datetime | None = None


class AgreementOut(BaseModel):
    """调解协议书 (written, Art 29) or a recorded oral agreement (Art 28)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.AGREEMENT_OUT))

    id: uuid.UUID
    form: Annotated[str, one_of(AGREEMENT_FORMS)]
    facts: str | None = None
    disputed_points: str | None = None
    responsibilities: str | None = None
    terms: str
    performance_manner: str | None = None
    performance_deadline: date | None = None
    drafted_at: datetime
    mediator_signed_at: datetime | None = None
    committee_sealed_at: datetime | None = None
    effective_at: datetime | None = None


class FollowUpOut(BaseModel):
    """Performance supervision (Art 31) or the return visit (回访)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FOLLOW_UP_OUT))

    id: uuid.UUID
    kind: Annotated[str, one_of(get_args(FollowUpKind))]
    performance: Annotated[str, one_of(get_args(Performance))] | None = None
    satisfied: bool | None = None
    note: str | None = None
    staff_id: uuid.UUID | None = None
    at: datetime


class RecusalOut(BaseModel):
    """A mediator's recorded conflict of interest (回避)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RECUSAL_OUT))

    id: uuid.UUID
    staff_id: uuid.UUID
    party_id: uuid.UUID | None = None
    relation: str
    raised_by: Annotated[str, one_of(get_args(RaisedBy))]
    at: datetime


class CaseDetail(CaseOut):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.CASE_DETAIL))

    summary: str
    claims: str | None = None
    referral_body: str | None = None
    close_reason: str | None = None
    routes_told: list | None = None
    deadline_basis: str | None = None
    deadline_warnings: list
    extensions: list
    received_at: datetime | None = None
    receipt: dict | None = None
    confirmation: dict | None = None
    allowed_actions: list[Action] = []
    parties: list[PartyOut] = []
    sessions: list[SessionOut] = []
    agreement: AgreementOut | None = None
    follow_ups: list[FollowUpOut] = []
    recusals: list[RecusalOut] = []


class RegistrationUpdateIn(Strict):
    model_config = _strict(ex.REGISTRATION_UPDATE)

    dispute_type: DisputeType | None = None  # type: ignore[valid-type]
    summary: str | None = Field(default=None, min_length=5, max_length=4000)
    claims: str | None = Field(default=None, min_length=2, max_length=2000)


class PartyAddIn(Strict):
    model_config = _strict(ex.PARTY_ADD)

    parties: list[PartyIn] = Field(min_length=1, max_length=30)


class ConsentIn(Strict):
    model_config = _strict(ex.CONSENT)

    party_id: uuid.UUID
    decision: Literal["given", "refused"]
    method: ConsentMethod = "written"
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> ConsentIn:
        if self.decision == "refused" and not self.reason:
            raise Text("拒绝调解须记录理由", "a refusal needs a reason").error()
        return self


class MediatorIn(Strict):
    model_config = _strict(ex.MEDIATOR)

    staff_id: uuid.UUID | None = Field(default=None, description="空 = 由调解委员会指定")
    chosen_by: Literal["committee", "parties"] = "committee"


class RecusalIn(Strict):
    model_config = _strict(ex.RECUSAL)

    staff_id: uuid.UUID
    party_id: uuid.UUID | None = None
    relation: str = Field(min_length=2, max_length=100, description="如：系申请人之兄")
    raised_by: RaisedBy = "mediator"


class SessionIn(Strict):
    model_config = _strict(ex.SESSION)

    scheduled_at: datetime
    location: str = Field(min_length=2, max_length=200)
    public: bool = False
    invited: list[str] = Field(default_factory=list, max_length=20)


class RiskIn(Strict):
    model_config = _strict(ex.RISK)

    risk_kind: RiskKind
    description: str = Field(min_length=5, max_length=2000)


class SessionRecordIn(Strict):
    model_config = _strict(ex.SESSION_RECORD)

    present_party_ids: list[uuid.UUID]
    notes: str = Field(min_length=2, max_length=8000)
    risk: RiskIn | None = Field(default=None, description="会上发现纠纷可能激化时填写（第二十五条）")


class AgreementIn(Strict):
    model_config = _strict(ex.AGREEMENT)

    facts: str = Field(min_length=2, max_length=8000)
    disputed_points: str = Field(min_length=2, max_length=4000)
    responsibilities: str = Field(min_length=2, max_length=4000)
    terms: str = Field(min_length=2, max_length=8000)
    performance_manner: str = Field(min_length=2, max_length=2000)
    performance_deadline: date


class OralAgreementIn(Strict):
    model_config = _strict(ex.ORAL_AGREEMENT)

    terms: str = Field(min_length=2, max_length=4000)
    performance_manner: str | None = Field(default=None, max_length=2000)
    performance_deadline: date | None = None


class SignIn(Strict):
    model_config = _strict(ex.SIGN)

    signer: Literal["party", "mediator", "committee_seal"]
    party_id: uuid.UUID | None = None
    method: SignMethod = "signature"

    @model_validator(mode="after")
    def _party(self) -> SignIn:
        if self.signer == "party" and not self.party_id:
            raise Text("当事人签署须指明 party_id", "party_id required for a party's signature").error()
        return self


class FailIn(Strict):
    model_config = _strict(ex.FAIL)

    reason: str = Field(min_length=2, max_length=1000)


class ExtensionIn(Strict):
    model_config = _strict(ex.EXTENSION)

    days: int = Field(ge=1, le=30)
    consenting_party_ids: list[uuid.UUID]
    reason: str = Field(min_length=2, max_length=500)


class ReceiptIn(Strict):
    """A later correction of when the application / referral was received."""

    model_config = _strict(ex.RECEIPT)

    received_at: datetime
    reason: str = Field(min_length=1, max_length=500)

    _tz = field_validator("received_at")(classmethod(lambda cls, v: china_time(v)))


class LiaisonAckIn(Strict):
    """Art 25: who told the police, and what was done."""

    model_config = _strict(ex.LIAISON_ACK)

    police_unit: str = Field(min_length=2, max_length=100, description="已通报的公安机关，如：城关派出所")
    action_taken: str = Field(min_length=4, max_length=2000, description="处置情况：如何通报、警方如何处置")


class LiaisonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.LIAISON_OUT))

    id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    county_code: str
    region_code: str
    risk_kind: Annotated[str, one_of(get_args(RiskKind))]
    description: str
    reported_by: str | None = None
    reported_by_name: str | None = None
    reported_at: datetime
    status: Annotated[str, one_of({"open", "acknowledged"})]
    acknowledged_by: str | None = None
    acknowledged_by_name: str | None = None
    acknowledged_at: datetime | None = None
    police_unit: str | None = None
    action_taken: str | None = None
    webhook: Annotated[str, one_of({"not_configured", "pending", "retrying", "delivered"})] = "not_configured"
    webhook_attempts: int = 0
    allowed_actions: list[Annotated[str, one_of({"acknowledge"})]] = []


class ConfirmationApplicationIn(Strict):
    model_config = _strict(ex.CONFIRMATION)

    applied_on: date
    court: str = Field(min_length=4, max_length=100, description="受理司法确认申请的人民法院")
    applying_party_ids: list[uuid.UUID] = Field(min_length=1)


class FollowUpIn(Strict):
    model_config = _strict(ex.FOLLOW_UP)

    kind: FollowUpKind
    performance: Performance | None = None
    satisfied: bool | None = None
    note: str | None = Field(default=None, max_length=2000)


class MediatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.MEDIATOR_OUT))

    staff_id: uuid.UUID
    name: str
    role: str
    county_code: str | None = None
    region_code: str
    active: bool
    signed_in: bool
    on_leave_until: date | None = None
    slots: list
    available: bool = True
    unavailable_reason: str | None = None


class CommitteeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=ex.examples(ex.COMMITTEE_OUT))

    id: uuid.UUID
    code: str
    name: str
    kind: CommitteeKind
    region_code: str
    county_code: str
