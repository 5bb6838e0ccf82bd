"""The webhook tables (migration 0010), on intake's own MetaData: a subscription per external
system and URL, a delivery per (subscription, order event) — the outbox of the push-back,
written in the transaction of the state change — and one row per HTTP attempt."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.models import IntakeBase


class Subscription(IntakeBase):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The principal that made it (`apikey:<key id>` or a token's sub): it hears the orders it filed
    # (work_orders.created_by), and only it manages the subscription.
    owner: Mapped[str] = mapped_column(String(100))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8), default="lawline")  # lawline | 12345
    events: Mapped[list] = mapped_column(JSONB, default=list)
    description: Mapped[str] = mapped_column(String(200), default="")
    # The signing secret, AES-GCM encrypted (libs.common.crypto): we must sign with it, so a hash
    # would not do. The previous one signs too until previous_until (rotation grace).
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set at the first failure after a success; the subscription is disabled when it is 24 h old.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_webhook_subscriptions_owner", "owner"),)


class Delivery(IntakeBase):
    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(64))  # the order event's CloudEvents id
    kind: Mapped[str] = mapped_column(String(16))  # accepted | assigned | answered | closed | rated
    work_order_id: Mapped[uuid.UUID] = mapped_column()
    # The exact bytes sent (UTF-8 JSON), fixed when written: every retry and replay sends the same.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Idempotent: an event redelivered to intake (inbox) or folded twice makes one delivery.
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
        # The sender's pick: due pending rows only.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
        ),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
        # The pick's "no earlier pending delivery of the same order" check.
        Index(
            "ix_webhook_deliveries_order_pending",
            "subscription_id",
            "work_order_id",
            "created_at",
            postgresql_where="status = 'pending'",
        ),
    )


class Attempt(IntakeBase):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),)


class OrderUnit(IntakeBase):
    """承办单位 of an externally filed order, from its latest dispatch.assigned: the 办结反馈 names
    it, and the closed event does not carry it."""

    __tablename__ = "webhook_order_units"

    work_order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
