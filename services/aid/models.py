"""The aid service's tables: cases and their clocks and log, uploaded documents, lawyers, holiday
years, outbox, inbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.calendar_store import CalendarYearCopy
from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class AidCaseBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = AidCaseBase.metadata
case_number_seq = Sequence("case_number_seq", metadata=metadata)
Json = dict[str, Any]


class Case(AidCaseBase):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # One case per work order: a redelivered assignment cannot open a second case.
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(32), default="received")
    handler_staff_id: Mapped[uuid.UUID | None]  # the legal-aid officer handling the file
    staff_name: Mapped[str | None] = mapped_column(String(50))
    applicant_name: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # --- the application (0002)
    kind: Mapped[str] = mapped_column(String(20), server_default="application")  # application | notification
    source: Mapped[str] = mapped_column(
        String(20), server_default="work_order"
    )  # work_order | window | notice
    received_on: Mapped[date | None] = mapped_column(Date)
    # --- the legal start (0003): when the application / notice was RECEIVED (法律援助法 Art 43, 36),
    # entered by staff with a reason when earlier than the entry; received_on is its local date.
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt: Mapped[Json | None] = mapped_column(JSONB)  # reason, source, who entered it, corrections
    # PIPL Art 28: the ID number only encrypted; exact lookups through the blind index.
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    applicant: Mapped[Json] = mapped_column(JSONB, server_default="{}")  # name, gender, birth, groups
    proxy: Mapped[Json | None] = mapped_column(JSONB)
    matter: Mapped[Json] = mapped_column(JSONB, server_default="{}")  # category, cause, stage, parties
    requested_form: Mapped[str | None] = mapped_column(String(40))
    means: Mapped[Json | None] = mapped_column(JSONB)
    exemption: Mapped[str | None] = mapped_column(String(40))
    attachments: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    special_groups: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    eligibility: Mapped[Json | None] = mapped_column(JSONB)
    missing_items: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    deferred_items: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    supplement_due: Mapped[date | None] = mapped_column(Date)
    provide_first: Mapped[bool] = mapped_column(Boolean, server_default="false")
    grave_penalty: Mapped[bool] = mapped_column(Boolean, server_default="false")
    decision: Mapped[Json | None] = mapped_column(JSONB)  # outcome, reasons, letter, decided_at
    notification: Mapped[Json | None] = mapped_column(JSONB)  # body, document, ground, confirmation
    lawyer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    lawyer_name: Mapped[str | None] = mapped_column(String(50))
    lawyer_firm: Mapped[str | None] = mapped_column(String(100))
    assignment: Mapped[Json | None] = mapped_column(JSONB)  # rule, reason, rejected, firm consent
    declined_by: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    closure: Mapped[Json | None] = mapped_column(JSONB)
    subsidy: Mapped[Json | None] = mapped_column(JSONB)
    return_visit: Mapped[Json | None] = mapped_column(JSONB)
    termination: Mapped[Json | None] = mapped_column(JSONB)
    objection: Mapped[Json | None] = mapped_column(JSONB)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_cases_opened_at_id", "opened_at", "id"), Index("ix_cases_status", "status"))


class CaseClock(AidCaseBase):
    """A statutory clock of one case; open = neither met nor cancelled. The sweeper breaches it."""

    __tablename__ = "case_clocks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))  # decision | assignment | supplement | objection
    article: Mapped[str] = mapped_column(String(60))
    started_on: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    warnings: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    # (0003) The period itself and what it counts from, so a corrected receipt or a newly entered
    # holiday year recomputes it: "receipt" = from the application / notice received (Art 43, 36).
    days: Mapped[int | None] = mapped_column(Integer)
    counts_from: Mapped[str | None] = mapped_column(String(12))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_case_clocks_open_due",
            "due",
            postgresql_where=text("met_at IS NULL AND cancelled_at IS NULL AND breached_at IS NULL"),
        ),
    )


class CaseLog(AidCaseBase):
    """全程留痕: every transition and progress report, who did it and why."""

    __tablename__ = "case_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Json] = mapped_column(JSONB, server_default="{}")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lawyer(AidCaseBase):
    """Legal-aid lawyer roster (ids = dispatch staff ids, so a lawyer's JWT staff_id matches)."""

    __tablename__ = "lawyers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    firm: Mapped[str | None] = mapped_column(String(100))
    practice_years: Mapped[int] = mapped_column(Integer)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class CaseUpload(AidCaseBase):
    """A document uploaded to a case (0005): metadata only — the bytes are in the store
    (services/aid/uploads/store.py), so listing a case's documents never reads them."""

    __tablename__ = "case_uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # a code of domain.ATTACHMENT_NAMES
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))  # as sniffed from the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(20))  # which DocumentStore holds the bytes
    chunks: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # The same bytes twice on one case are one document (the second upload is answered with it).
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_case_uploads_case_sha256"),)


class CaseUploadChunk(AidCaseBase):
    """The content of a document in the PostgreSQL store: AES-GCM encrypted chunks (ID-card
    images are personal data, PIPL Art 28), each bound to its document and position."""

    __tablename__ = "case_upload_chunks"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_uploads.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class CalendarYear(CalendarYearCopy, AidCaseBase):
    """Local copy of the admin-entered holiday schedule (from dispatch.calendar_year_updated)."""


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
