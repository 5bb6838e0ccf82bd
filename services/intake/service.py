"""Intake use cases. Keyword-only arguments; never commits — the caller owns the transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import intake as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.events.topics import WORKORDER, topic
from libs.common.logging import correlation_id
from libs.common.outbox import enqueue
from libs.common.pii import mask_phone, mask_text
from libs.common.problems import Problem
from services.intake import domain
from services.intake.models import IdempotencyKey, TimelineEntry, WorkOrder, order_number_seq, outbox
from services.intake.schemas import WorkOrderCreate

SERVICE = "intake"


@dataclass
class IdempotentReplay:
    status_code: int
    body: dict


def request_hash(body: WorkOrderCreate) -> str:
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def claim_idempotency_key(
    session: AsyncSession, *, key: str, body_hash: str
) -> IdempotentReplay | None:
    """Stripe-style keys. The INSERT waits on a concurrent holder of the same key until it
    commits, so two racing requests make one order; the loser replays the stored answer."""
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(key=key, request_hash=body_hash)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IdempotencyKey.key)
    )
    if inserted.first() is not None:
        return None
    stored = await session.get(IdempotencyKey, key)
    assert stored is not None
    if stored.request_hash != body_hash:
        raise Problem(
            409,
            "该 Idempotency-Key 已用于另一份不同内容的请求，请换一个新的键重新提交",
            "this Idempotency-Key was already used with a different request body; use a new key",
        )
    return IdempotentReplay(stored.status_code or 201, stored.response or {})


async def store_idempotent_response(session: AsyncSession, *, key: str, status_code: int, body: dict) -> None:
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.key == key).values(status_code=status_code, response=body)
    )


async def create_work_order(session: AsyncSession, *, data: WorkOrderCreate, now: datetime) -> WorkOrder:
    region = domain.resolve_region(data.region_code)
    seq = await session.scalar(order_number_seq.next_value())
    order = WorkOrder(
        id=uuid.uuid4(),
        number=domain.format_number(now, int(seq)),
        channel=data.channel,
        status="received",
        service_type=data.service_type,
        region_code=region.code,
        county_code=region.county_code,
        requester_name=data.requester.name,
        requester_phone=data.requester.phone,
        description=data.description,
        special_groups=[],
        urgency="normal",
        channel_details={},
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()  # the order row first: timeline entries reference it
    session.add(
        TimelineEntry(
            work_order_id=order.id,
            at=now,
            kind="received",
            text=f"已受理（{_channel_zh(order.channel)}），工单号 {order.number}",
        )
    )
    await session.flush()
    payload = ev.WorkOrderCreatedV1(
        work_order_id=str(order.id),
        number=order.number,
        channel=order.channel,
        service_type=order.service_type,
        region_code=order.region_code,
        county_code=order.county_code,
        requester_name=order.requester_name,
        requester_phone_masked=mask_phone(order.requester_phone),
        description=mask_text(order.description),
        created_at=now,
    )
    event = make_event(
        ev.WORKORDER_CREATED,
        source=ev.SOURCE,
        subject=str(order.id),
        payload=payload,
        correlation_id=correlation_id.get(),
    )
    await enqueue(
        session, outbox, service=SERVICE, topic=topic(WORKORDER), key=order.county_code, event=event
    )
    return order


async def get_work_order(
    session: AsyncSession, *, order_id: uuid.UUID
) -> tuple[WorkOrder, list[TimelineEntry]]:
    order = await session.get(WorkOrder, order_id)
    if order is None:
        raise Problem(404, "未找到该工单", "work order not found")
    entries = (
        await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.work_order_id == order_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
    ).all()
    return order, list(entries)


async def apply_downstream_event(session: AsyncSession, *, event: Envelope) -> None:
    """Fold a dispatch / aid / mediation event into the order's status and timeline."""
    order_id = event.data.get("work_order_id")
    if not order_id:
        return
    order = await session.get(WorkOrder, uuid.UUID(order_id), with_for_update=True)
    if order is None:
        return
    kind, text = domain.timeline_text(event.type, event.data)
    session.add(
        TimelineEntry(
            work_order_id=order.id,
            at=event.time,
            kind=kind,
            text=text,
            source_event_id=event.id,
            data={"event_type": event.type},
        )
    )
    order.status = domain.next_status(order.status, event.type)
    order.updated_at = event.time


def _channel_zh(channel: str) -> str:
    return {"web": "网络平台", "hotline": "12348 热线", "counter": "窗口", "external": "外部系统转办"}.get(
        channel, channel
    )
