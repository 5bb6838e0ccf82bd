"""SMS tables in intake's database: the message outbox (one row per message, written in the
transaction of the order's event that calls for it) and the numbers that asked for no more.

The phone is kept as AES-GCM ciphertext plus a keyed hash (libs.common.crypto) — the hash is
what opt-outs and rate limits look numbers up by — and a masked copy for staff screens; the
text holds no personal data (templates.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.models import IntakeBase

# pending → sending → sent | failed; decided at send time instead: limited | opted_out.
PENDING, SENDING, SENT, FAILED, LIMITED, OPTED_OUT = (
    "pending",
    "sending",
    "sent",
    "failed",
    "limited",
    "opted_out",
)
DUE = (PENDING, SENDING)  # a `sending` row whose lease ran out is in doubt and tried again


class SmsMessage(IntakeBase):
    __tablename__ = "sms_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"))
    template: Mapped[str] = mapped_column(String(32))
    # The order's event that called for it (its CloudEvents id): the message is made once per event.
    event_id: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_bidx: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict] = mapped_column(JSONB)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("work_order_id", "template", "event_id", name="uq_sms_messages_event"),
        Index(
            "ix_sms_messages_due",
            "next_attempt_at",
            postgresql_where=sql_text("status IN ('pending', 'sending')"),
        ),
        Index("ix_sms_messages_phone", "phone_bidx", "claimed_at"),
        Index("ix_sms_messages_order", "work_order_id", "created_at"),
    )


class SmsOptOut(IntakeBase):
    __tablename__ = "sms_opt_outs"

    phone_bidx: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone_masked: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(16))  # staff | reply (the citizen's "TD")
    by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
