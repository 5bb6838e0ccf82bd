"""The push-back's outbox: a delivery row per subscription that wants the event, written in the
transaction of the state change itself — intake's own events where they are enqueued
(services/intake/service.enqueue_prepared), dispatch's assignment where it is folded
(services/intake/handlers.py). A crash before the commit loses both the change and the delivery;
after it, the sender finds the delivery however long it was down. An event seen twice (the inbox
redelivers, a fold is replayed) makes one delivery: unique (subscription, event id).

Cost for the many events no external system hears: a set lookup, no query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth import Principal, permits
from libs.common.events import intake as intake_events
from libs.common.events.envelope import Envelope
from libs.common.publisher import Prepared
from services.intake.models import WorkOrder
from services.intake.webhooks import access, domain, formats
from services.intake.webhooks.models import Delivery, OrderUnit, Subscription
from services.intake.webhooks.settings import get_webhook_settings


def _now() -> datetime:
    # Deliveries run on the wall clock, not the service's (tests freeze that one): retries and
    # the 24 h window are about real time on the network.
    return datetime.now(UTC)


async def on_prepared(
    session: AsyncSession, prepared: list[Prepared], *, filer: Principal | None = None
) -> None:
    """Intake's own events, in the transaction that enqueues them. `filer`: given on the create
    path, where every event is about the request `filer` is filing now (the new order, its urge,
    its answer on the call) and so is heard only by the filer's own subscriptions. Only external
    systems may subscribe (access.MANAGE): for an operator's call — nearly every order — there is
    nothing to look up (one query per order saved, #21)."""
    if filer is not None and not permits(access.MANAGE, filer):
        return
    for _topic, _key, event in prepared:
        if event.type in domain.INTERESTING:
            await on_event(session, event)


def _uuid(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


_COLUMNS = (
    WorkOrder.id,
    WorkOrder.number,
    WorkOrder.status,
    WorkOrder.service_type,
    WorkOrder.channel,
    WorkOrder.external_source,
    WorkOrder.external_ref,
    WorkOrder.updated_at,
    WorkOrder.closed_at,
    WorkOrder.created_by,
    WorkOrder.merged_into,
    OrderUnit.unit,
    # In the same round trip: does whoever filed it subscribe at all (most orders: no one does)?
    exists().where(Subscription.owner == WorkOrder.created_by).correlate(WorkOrder).label("subscribed"),
)
_Row = Any  # a row of _COLUMNS (or of a subscription), read by attribute


async def on_event(session: AsyncSession, event: Envelope) -> None:
    """One order event (intake's, or a downstream one being folded). It goes to the subscriptions
    of whoever filed the order — and of whoever filed a request merged into it (并单: a 12345
    ticket that repeated an open order hears that order's progress under its own ticket number).
    A 催办 (urge) is the merged request's `accepted`."""
    target = _target(event)
    if target is None:
        return
    kind, order_id, urge, data = target
    base = select(*_COLUMNS).outerjoin(OrderUnit, OrderUnit.work_order_id == WorkOrder.id)
    if urge:  # only the new request is told it was taken in (the open order goes on as it was)
        where = WorkOrder.id == _uuid(data.get("duplicate_order_id"))
    else:
        where = or_(WorkOrder.id == order_id, WorkOrder.merged_into == order_id)
    rows = [r for r in (await session.execute(base.where(where))).all() if r.created_by]
    owners = {r.created_by for r in rows if r.subscribed}
    point = data.get("service_point_name") if kind == "assigned" else None
    keep_unit = _keeps_unit(point, rows)
    if not owners and not keep_unit:
        return  # the common case: one query, nothing written
    now = _now()
    if keep_unit:
        await _remember_unit(session, order_id, str(point), now)
    if not owners:
        return
    main = next((r for r in rows if r.id == order_id), None)
    if urge:
        main = (await session.execute(base.where(WorkOrder.id == order_id))).one_or_none()
    if main is None:
        return
    subs = (
        await session.execute(
            select(Subscription.id, Subscription.owner, Subscription.format, Subscription.events).where(
                Subscription.owner.in_(owners)
            )
        )
    ).all()
    unit = str(point) if point else main.unit
    values = _deliveries(event, kind, data, rows, main, unit, subs, now)
    if values:
        await session.execute(
            insert(Delivery).values(values).on_conflict_do_nothing(constraint="uq_webhook_deliveries_event")
        )


def _target(event: Envelope) -> tuple[domain.Kind, uuid.UUID, bool, dict[str, Any]] | None:
    """What the event tells (kind), of which order, whether it is an urge — or None: not heard."""
    if event.type not in domain.INTERESTING:
        return None
    data = event.data if isinstance(event.data, dict) else {}
    urge = event.type == intake_events.WORKORDER_URGED
    kind = "accepted" if urge else domain.kind_of(event.type, data)
    order_id = _uuid(data.get("work_order_id") or event.subject)
    if kind is None or order_id is None:
        return None
    return kind, order_id, urge, data


def _keeps_unit(point: object, rows: Sequence[_Row]) -> bool:
    # The handler unit is kept for externally filed orders even before anyone subscribes.
    return bool(point) and any(r.channel == "external" or r.created_by.startswith("apikey:") for r in rows)


def _deliveries(
    event: Envelope,
    kind: domain.Kind,
    data: dict[str, Any],
    rows: Sequence[_Row],
    main: _Row,
    unit: str | None,
    subs: Sequence[_Row],
    now: datetime,
) -> list[dict[str, Any]]:
    """The delivery rows, one per (request, subscription of its filer that wants this kind)."""
    deadline = now + timedelta(seconds=get_webhook_settings().give_up_seconds)
    values = []
    for r in rows:
        facts = _facts(r, main, unit)
        # One event may reach one subscription for several of its requests: one id each.
        event_id = event.id if r.id == main.id else f"{event.id}/{r.number}"
        for s in subs:
            if s.owner != r.created_by or kind not in (s.events or []):
                continue
            body = formats.render(s.format, kind, event_id=event_id, at=event.time, data=data, facts=facts)
            values.append(
                {
                    "id": uuid.uuid4(),
                    "subscription_id": s.id,
                    "event_id": event_id,
                    "kind": kind,
                    "work_order_id": r.id,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "deadline_at": deadline,
                    "created_at": now,
                }
            )
    return values


def _facts(r: _Row, main: _Row, unit: str | None) -> formats.OrderFacts:
    # A merged request speaks of the order it joined: its status, handler unit, result.
    return formats.OrderFacts(
        work_order_id=str(r.id),
        number=r.number,
        status=main.status,
        service_type=main.service_type,
        external_source=r.external_source,
        external_ref=r.external_ref,
        updated_at=main.updated_at,
        closed_at=main.closed_at,
        unit=unit,
        merged_into=main.number if r.id != main.id else None,
    )


async def _remember_unit(session: AsyncSession, order_id: uuid.UUID, unit: str, now: datetime) -> None:
    stmt = insert(OrderUnit).values(work_order_id=order_id, unit=unit[:200], at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["work_order_id"], set_={"unit": stmt.excluded.unit, "at": now}
        )
    )


async def handler_unit(sessionmaker: async_sessionmaker[AsyncSession], order_id: uuid.UUID) -> str | None:
    """承办单位 of an externally filed order, once assigned (Open311's agency_responsible)."""
    async with sessionmaker() as session:
        return await session.scalar(select(OrderUnit.unit).where(OrderUnit.work_order_id == order_id))
