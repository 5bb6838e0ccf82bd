"""Intake's tables: work orders, their citizen-visible timeline, callback / return-visit
tasks, duplicate links, classification overrides, idempotency keys, the copy of dispatch's
holiday years, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.calendar_store import CalendarYearCopy
from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class IntakeBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = IntakeBase.metadata
order_number_seq = Sequence("work_order_number_seq", metadata=metadata)


# The partial index's predicate; the sweep's queries use this same clause, so the planner always
# sees that the index applies.
AWAITING_ACK = text("dispatched AND routed_at IS NULL AND status NOT IN ('closed', 'merged')")


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
    # PIPL Art 28: the ID number is sensitive — AES-GCM ciphertext plus a keyed hash for exact lookup.
    requester_id_enc: Mapped[str | None] = mapped_column(Text)
    requester_id_bidx: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    # Other parties of the matter (对方当事人) as keyed hashes only — never the names or ID numbers:
    # dispatch matches them against earlier orders (conflict of interest, 律师执业行为规范).
    party_indexes: Mapped[list] = mapped_column(JSONB, default=list, server_default=text("'[]'"))
    special_groups: Mapped[list] = mapped_column(JSONB, default=list)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    channel_details: Mapped[dict] = mapped_column(JSONB, default=dict)
    # How service type / domain were decided: {"by": auto|client|operator, confidences, evidence}.
    classification: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_orders.id"))
    follow_up_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_orders.id"))
    merged_into: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_orders.id"))
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # Reconciliation with dispatch (issue #14, domain.AckWait): when the order was last announced
    # (created, unmerged), dispatch's acknowledgement (its first event about it), the re-announcements,
    # and when the sweep should look at it next (domain.next_check_at, kept here for the index).
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reemits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_reemit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reconcile_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The order's revision: every event intake announces about it carries the next one (the
    # CloudEvents `sequence`), so dispatch can order events that came by different partitions.
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The newest dispatch revision folded into `status`: an older dispatch event (from the
    # partition of the county the order left) still reaches the timeline, never the status.
    dispatch_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    external_source: Mapped[str | None] = mapped_column(String(32))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    answer_summary: Mapped[str | None] = mapped_column(Text)
    callback_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(Text)
    rating_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rated_via: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        # Keyset pagination walks (created_at, id); each selective filter gets its own leading column.
        Index("ix_work_orders_created", "created_at", "id"),
        # The supervisor's figures read only these columns of a date range (stats.py): index-only.
        Index(
            "ix_work_orders_stats",
            "created_at",
            postgresql_include=[
                "region_code",
                "county_code",
                "channel",
                "service_type",
                "status",
                "due_at",
                "closed_at",
                "rating_score",
            ],
        ),  # fmt: skip
        Index("ix_work_orders_county_status", "county_code", "status"),
        Index("ix_work_orders_phone", "requester_phone"),
        Index("ix_work_orders_id_bidx", "requester_id_bidx"),
        Index("ix_work_orders_status_created", "status", "created_at", "id"),
        Index("ix_work_orders_type_created", "service_type", "created_at", "id"),
        Index("ix_work_orders_domain_created", "domain", "created_at", "id"),
        Index("ix_work_orders_channel_created", "channel", "created_at", "id"),
        Index(
            "ix_work_orders_region_prefix",
            "region_code",
            "created_at",
            postgresql_ops={"region_code": "text_pattern_ops"},
        ),
        Index("ix_work_orders_number_prefix", "number", postgresql_ops={"number": "text_pattern_ops"}),
        # Chinese names are 2–3 characters: too short for trigrams, so name search is a prefix
        # range on this index (surname first), with the trigram index for longer fragments.
        Index(
            "ix_work_orders_name_prefix",
            "requester_name",
            postgresql_ops={"requester_name": "text_pattern_ops"},
        ),
        Index(
            "ix_work_orders_name_trgm",
            "requester_name",
            postgresql_using="gin",
            postgresql_ops={"requester_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_work_orders_special_groups",
            "special_groups",
            postgresql_using="gin",
            postgresql_ops={"special_groups": "jsonb_path_ops"},
        ),
        Index(
            "ix_work_orders_open_due",
            "due_at",
            postgresql_where=text("status NOT IN ('closed', 'merged')"),
        ),
        # The reconciliation sweep and its figures: only announced, open, unacknowledged orders —
        # a handful in flight, however many orders the table holds (domain.awaits_ack).
        Index("ix_work_orders_awaiting_ack", "reconcile_at", postgresql_where=AWAITING_ACK),
        Index("ix_work_orders_reemitted", "last_reemit_at", postgresql_where=text("reemits > 0")),
        Index("ix_work_orders_parent", "parent_id", postgresql_where=text("parent_id IS NOT NULL")),
        Index("ix_work_orders_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
        # (source, reference) is the external system's own idempotency key.
        Index(
            "uq_work_orders_external_ref",
            "external_source",
            "external_ref",
            unique=True,
            postgresql_where=text("external_ref IS NOT NULL"),
        ),
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


class Task(IntakeBase):
    """A callback (回拨: tell the citizen the result) or a return visit (回访: after an unsatisfied
    rating), with a deadline and every attempt's outcome (全程留痕)."""

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # callback | return_visit
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    region_code: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[list] = mapped_column(JSONB, default=list)
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_tasks_order", "work_order_id"),
        Index("ix_tasks_open_due", "due_at", postgresql_where=text("status = 'open'")),
    )


class OrderLink(IntakeBase):
    """Duplicate links: an urge (催办) or a staff merge; `undone_at` when unmerged."""

    __tablename__ = "order_links"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    linked_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # urge | merge
    similarity: Mapped[float | None] = mapped_column()
    by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_order_links_order", "work_order_id"),
        Index("ix_order_links_linked", "linked_order_id"),
    )


class ClassificationOverride(IntakeBase):
    """An operator corrected the classifier: kept to improve the rules (which terms were missing)."""

    __tablename__ = "classification_overrides"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    before: Mapped[dict] = mapped_column(JSONB)
    after: Mapped[dict] = mapped_column(JSONB)
    text: Mapped[str] = mapped_column(Text)  # masked description: what the rules saw
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderHandler(IntakeBase):
    """Who dispatch has offered or given each order to (from its offered / assigned / rejected
    events): access follows the work — a handler sees the order, its callback task and, once
    accepted, the contact details, whatever county they belong to. One row per offer; `state`
    only moves forward (offered → accepted → ended), so events arriving out of order still end
    where the last one left it."""

    __tablename__ = "order_handlers"

    assignment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    staff_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # offered | accepted | ended
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason_code: Mapped[str | None] = mapped_column(String(24))  # why it ended (dispatch's code)

    __table_args__ = (
        Index("ix_order_handlers_order", "work_order_id"),
        # "Which orders does this person hold now": the list and every visibility check.
        Index(
            "ix_order_handlers_staff_open",
            "staff_id",
            "work_order_id",
            postgresql_where=text("until IS NULL"),
        ),
    )


class IdempotencyKey(IntakeBase):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class CalendarYear(CalendarYearCopy, IntakeBase):
    """Our copy of the admin-entered holiday schedule (dispatch.calendar_year_updated): callback
    deadlines count with it (libs.common.calendar_store)."""


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
