"""Dispatch's tables: the service network and its people, duty rosters, dispatch's copy
of each work order, routing decisions, offers/assignments, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class DispatchBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = DispatchBase.metadata


class ServicePoint(DispatchBase):
    __tablename__ = "service_points"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(16))  # city | county | township | village
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_points.id"))
    windows: Mapped[list] = mapped_column(JSONB, default=list)
    demo: Mapped[bool] = mapped_column(default=False)
    # [{weekday, start, end}] local time; informational for citizens (duty is per person).
    opening_hours: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")


class Staff(DispatchBase):
    """A new column routing reads must join the network_version trigger (migration 0004),
    or cached networks miss its changes (tests/integration/test_dispatch_network_cache.py)."""

    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(24))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    service_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_points.id"), index=True)
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    active_load: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(default=True)
    demo: Mapped[bool] = mapped_column(default=False)
    # Proficiency 1–5 per service type and per legal domain, e.g. {"consultation": 4, "labor": 5}.
    levels: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")
    signed_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NetworkVersion(DispatchBase):
    """One row; database triggers bump it with every change to people, points, rosters,
    leave or the calendar (not with routing's load bookkeeping). See network_cache.py."""

    __tablename__ = "network_version"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class RosterException(DispatchBase):
    """A dated change to the weekly roster: extra duty, or a day (or hours) off."""

    __tablename__ = "roster_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # extra | off
    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(Text, default="")


class Leave(DispatchBase):
    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    cancelled: Mapped[bool] = mapped_column(default=False)


class CalendarYear(DispatchBase):
    """The State Council's holiday schedule for one year, entered by an admin."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date), default=list)
    workdays: Mapped[list[date]] = mapped_column(ARRAY(Date), default=list)  # 调休 make-up days
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class Party(DispatchBase):
    """Parties of each order (from order events and operator entries), as blind indexes only:
    enough to find a lawyer who acted for the other side, without storing names twice."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    side: Mapped[str] = mapped_column(String(16))  # requester | counterparty
    name_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)  # libs.common.pii.phone_key


class Representation(DispatchBase):
    """Who acted on a matter besides dispatch's own assignments: the lawyer or mediator a
    legal-aid or mediation case names (from those services' case events)."""

    __tablename__ = "representations"

    work_order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # event type it was learnt from


class DutySlot(DispatchBase):
    """Weekly duty pattern (值班), in China local time. `weekly`: working days only (the
    holiday calendar decides); `on_call`: that weekday of every week, holidays included
    (a 7×24 rota). See duty.py."""

    __tablename__ = "duty_slots"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(8), default="weekly", server_default="weekly")


class OrderSnapshot(DispatchBase):
    """What dispatch knows of a work order: from workorder.created, then every change intake
    announces (services/dispatch/lifecycle.py). Status: new | offered | assigned | escalated |
    closed | merged."""

    __tablename__ = "orders"

    work_order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    service_type: Mapped[str] = mapped_column(String(32))
    requester_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="new")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(16), default="web", server_default="web")
    domain: Mapped[str | None] = mapped_column(String(32))
    special_groups: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    urgency: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    follow_up_of: Mapped[uuid.UUID | None]
    complexity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complexity_reasons: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")  # 0 = 四优先
    offers_made: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    handler_staff_id: Mapped[uuid.UUID | None]
    service_point_id: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Clocks (hotline rule, configurable in policy.yaml) and what has been raised about them.
    transfer_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clock_warnings: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    supervision_level: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    at_risk_raised: Mapped[bool] = mapped_column(default=False, server_default="false")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # (0007) A supervisor approved the reply extension: reply_due is then the 15-working-day limit
    # and the reply clock is supervised as "max".
    reply_extended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Revisions (CloudEvents `sequence`): the newest intake event applied — an older one, come by
    # the partition of a county the order has left, changes nothing — and the last dispatch event
    # announced about the order, so intake can order dispatch's events the same way.
    intake_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        Index("ix_orders_queue", "status", "priority", "transfer_due"),
        Index("ix_orders_open_due", "reply_due", postgresql_where=text("closed_at IS NULL")),
    )


class Supervision(DispatchBase):
    """One 督办 raised on an order: which clock, which rung of the ladder, who was told."""

    __tablename__ = "supervisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    clock: Mapped[str] = mapped_column(String(16))  # transfer | reply | max
    level: Mapped[int] = mapped_column(SmallInteger)
    notified: Mapped[str] = mapped_column(String(16))  # service_point | county | city
    due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReplyExtension(DispatchBase):
    """The hotline rule's "at most 15 working days with approval": the handler asks (with a reason),
    a supervisor of the order's jurisdiction approves or refuses (with a reason). One open request or
    approval per order at a time (a refused one may be asked again)."""

    __tablename__ = "reply_extensions"
    __table_args__ = (
        Index(
            "uq_reply_extensions_live",
            "work_order_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'approved')"),
        ),
        Index(
            "ix_reply_extensions_pending",
            "county_code",
            "requested_at",
            postgresql_where=text("status = 'requested'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    region_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="requested")  # requested | approved | refused
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_by_name: Mapped[str | None] = mapped_column(String(50))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reply_due_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reply_due_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # proposed, then approved
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Decision(DispatchBase):
    __tablename__ = "decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    rule: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    chosen_staff_id: Mapped[uuid.UUID | None]
    candidates: Mapped[list] = mapped_column(JSONB, default=list)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Insertion order: several decisions on one order can share a (frozen) timestamp.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), index=True)
    policy_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    complexity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complexity_reasons: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    band: Mapped[str] = mapped_column(String(16), default="", server_default="")
    step: Mapped[str | None] = mapped_column(String(32))


class Assignment(DispatchBase):
    __tablename__ = "assignments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    service_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_points.id"))
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
    status: Mapped[str] = mapped_column(String(16), default="offered")  # offered|accepted|rejected|expired
    reason: Mapped[str] = mapped_column(Text)
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    kind: Mapped[str] = mapped_column(String(16), default="offer", server_default="offer")
    reason_code: Mapped[str | None] = mapped_column(String(24))  # conflict|overload|out_of_scope|timeout|…
    response_note: Mapped[str | None] = mapped_column(Text)
    # When the person accepted: only then did they act on the matter (conflict of interest);
    # kept when the assignment is later returned, transferred or completed.
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_assignments_staff_status", "staff_id", "status", "offered_at"),
        # At most one open offer per order, whatever instance makes it.
        Index(
            "uq_assignments_one_open_offer",
            "work_order_id",
            unique=True,
            postgresql_where=text("status = 'offered'"),
        ),
        Index("ix_assignments_expiry", "expires_at", postgresql_where=text("status = 'offered'")),
        Index(
            "ix_assignments_accepted",
            "work_order_id",
            "staff_id",
            postgresql_where=text("accepted_at IS NOT NULL"),
        ),
    )


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
