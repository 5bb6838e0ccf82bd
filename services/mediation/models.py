"""The mediation service's tables: committees, mediators, cases and their parts, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Sequence, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.calendar_store import CalendarYearCopy
from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class MediationCaseBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = MediationCaseBase.metadata
case_number_seq = Sequence("case_number_seq", metadata=metadata)


class Committee(MediationCaseBase):
    """人民调解委员会 (Art 8): village, residents', township/street, enterprise, county joint."""

    __tablename__ = "committees"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Mediator(MediationCaseBase):
    """A copy of dispatch's staff who mediate, kept current from staff_availability events."""

    __tablename__ = "mediators"

    staff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(30))
    skills: Mapped[list] = mapped_column(JSONB, default=list)
    service_point_id: Mapped[uuid.UUID | None]
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    signed_in: Mapped[bool] = mapped_column(Boolean, default=False)
    on_leave_until: Mapped[date | None] = mapped_column(Date)
    slots: Mapped[list] = mapped_column(JSONB, default=list)  # [[weekday, "HH:MM", "HH:MM"], ...]
    # Event time of the last update applied: an older, redelivered event never overwrites a newer one.
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Case(MediationCaseBase):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_opened_at_id", "opened_at", "id"),  # keyset pagination of the list
        # The deadline sweeper only reads open cases.
        Index(
            "ix_cases_open_due",
            "due_date",
            postgresql_where=text("status IN ('registered', 'accepted', 'mediating', 'agreement_pending')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # One case per work order: a redelivered assignment cannot open a second case.
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(32), default="registered", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))  # refused | failed | agreed_written | agreed_oral
    close_reason: Mapped[str | None] = mapped_column(Text)
    routes_told: Mapped[list | None] = mapped_column(JSONB)  # Art 26
    mediator_staff_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    staff_name: Mapped[str | None] = mapped_column(String(50))
    mediator_chosen_by: Mapped[str | None] = mapped_column(String(20))  # committee | parties (Art 19)
    applicant_name: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    claims: Mapped[str | None] = mapped_column(Text)
    dispute_type: Mapped[str] = mapped_column(String(30), default="other", index=True)
    source: Mapped[str] = mapped_column(String(20), default="application", index=True)
    court_procedure: Mapped[str | None] = mapped_column(String(30))
    referral_body: Mapped[str | None] = mapped_column(String(100))
    committee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("committees.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    deadline_basis: Mapped[str | None] = mapped_column(String(100))
    deadline_warnings: Mapped[list] = mapped_column(JSONB, default=list)
    extensions: Mapped[list] = mapped_column(JSONB, default=list)
    breach_reported_for: Mapped[date | None] = mapped_column(Date)
    risk_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    # (0003) The legal start: when the application / referral was RECEIVED — the mediation period
    # counts from it (民法典 Art 201: the next day) — entered by staff with a reason when earlier
    # than the registration, audited, correctable.
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt: Mapped[dict | None] = mapped_column(JSONB)
    confirmation: Mapped[dict | None] = mapped_column(JSONB)  # Art 33 reminder
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    concluded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Party(MediationCaseBase):
    __tablename__ = "case_parties"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(12))  # applicant | respondent
    kind: Mapped[str] = mapped_column(String(12))  # person | organisation
    name: Mapped[str] = mapped_column(String(100))
    # PIPL Art 28: the ID number is sensitive — ciphertext plus a keyed hash for exact lookups.
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    org_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    legal_representative: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[str] = mapped_column(String(10), default="pending")  # pending | given | refused
    consent_method: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    sign_method: Mapped[str | None] = mapped_column(String(12))  # signature | seal | thumbprint
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Recusal(MediationCaseBase):
    __tablename__ = "recusals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[uuid.UUID]
    party_id: Mapped[uuid.UUID | None]
    relation: Mapped[str] = mapped_column(String(100))
    raised_by: Mapped[str] = mapped_column(String(20))  # mediator | party | committee
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MediationSession(MediationCaseBase):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[str] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # parties' choice (Art 23)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled | held
    attendance: Mapped[dict] = mapped_column(JSONB, default=dict)  # party id -> present
    invited: Mapped[list] = mapped_column(JSONB, default=list)  # relatives, neighbours … (Art 20)
    notes: Mapped[str | None] = mapped_column(Text)  # 调解记录 (Art 27)
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Agreement(MediationCaseBase):
    """调解协议书 (Art 29) or a recorded oral agreement (Art 28)."""

    __tablename__ = "agreements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    form: Mapped[str] = mapped_column(String(10))  # written | oral
    facts: Mapped[str | None] = mapped_column(Text)
    disputed_points: Mapped[str | None] = mapped_column(Text)
    responsibilities: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    performance_manner: Mapped[str | None] = mapped_column(Text)
    performance_deadline: Mapped[date | None] = mapped_column(Date)
    drafted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mediator_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    committee_sealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FollowUp(MediationCaseBase):
    """Performance supervision (Art 31) and the return visit (回访)."""

    __tablename__ = "follow_ups"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # performance | return_visit
    performance: Mapped[str | None] = mapped_column(String(10))  # full | partial | none
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalendarYear(CalendarYearCopy, MediationCaseBase):
    """Our copy of the admin-entered holiday schedule (dispatch.calendar_year_updated), so every
    replica — and this one after a restart — counts days with it."""


class PoliceLiaison(MediationCaseBase):
    """Art 25: a dispute that may turn violent or criminal is reported to the police. One row per
    risk report, in the same transaction as the report: the police-liaison queue a person works
    (who told the police, when, what was done)."""

    __tablename__ = "police_liaisons"
    __table_args__ = (
        Index(
            "ix_police_liaisons_open", "county_code", "reported_at", postgresql_where=text("status = 'open'")
        ),
        Index("ix_police_liaisons_reported", "reported_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_number: Mapped[str] = mapped_column(String(32))
    county_code: Mapped[str] = mapped_column(String(6))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    risk_kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)  # masked: no ID or phone numbers
    reported_by: Mapped[str | None] = mapped_column(String(64))
    reported_by_name: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(50))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    police_unit: Mapped[str | None] = mapped_column(String(100))  # e.g. 城关派出所
    action_taken: Mapped[str | None] = mapped_column(Text)  # what was done


class WebhookDelivery(MediationCaseBase):
    """One POST to the configured police-liaison webhook, retried until it succeeds. The id is sent
    as the Idempotency-Key, so a receiver that got a retry of what it already took can tell."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("delivered_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    liaison_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("police_liaisons.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
