"""The aid service's tables: cases, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Sequence, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class AidCaseBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = AidCaseBase.metadata
case_number_seq = Sequence("case_number_seq", metadata=metadata)


class Case(AidCaseBase):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # One case per work order: a redelivered assignment cannot open a second case.
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(32), default="opened")
    handler_staff_id: Mapped[uuid.UUID | None]
    staff_name: Mapped[str | None] = mapped_column(String(50))
    applicant_name: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
