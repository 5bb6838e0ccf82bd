"""Dispatch's tables: the service network and its people, duty rosters, dispatch's copy
of each work order, routing decisions, offers/assignments, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, Time, func
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


class Staff(DispatchBase):
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


class DutySlot(DispatchBase):
    """Weekly duty pattern (值班), in China local time."""

    __tablename__ = "duty_slots"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)


class OrderSnapshot(DispatchBase):
    """What dispatch knows of a work order (from workorder.created)."""

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


class Decision(DispatchBase):
    __tablename__ = "decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    rule: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    chosen_staff_id: Mapped[uuid.UUID | None]
    candidates: Mapped[list] = mapped_column(JSONB, default=list)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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

    __table_args__ = (Index("ix_assignments_staff_status", "staff_id", "status", "offered_at"),)


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
