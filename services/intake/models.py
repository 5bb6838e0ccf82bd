"""Intake's tables: work orders, their citizen-visible timeline, idempotency keys,
and this service's outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, Sequence, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class IntakeBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = IntakeBase.metadata
order_number_seq = Sequence("work_order_number_seq", metadata=metadata)


class WorkOrder(IntakeBase):
    __tablename__ = "work_orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="received")
    service_type: Mapped[str] = mapped_column(String(32))
    domain: Mapped[str | None] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(12))
    county_code: Mapped[str] = mapped_column(String(6))
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_phone: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    special_groups: Mapped[list] = mapped_column(JSONB, default=list)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    channel_details: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_work_orders_created", "created_at", "id"),
        Index("ix_work_orders_county_status", "county_code", "status"),
        Index("ix_work_orders_phone", "requester_phone"),
    )


class TimelineEntry(IntakeBase):
    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(default=True)
    source_event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class IdempotencyKey(IntakeBase):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
