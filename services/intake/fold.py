"""Folding downstream events into the order: every dispatch / aid / mediation (or future) event
that names a work order adds its timeline entry, moves the status per the transition table
(domain.TRANSITIONS: both ways — a 退单 moves 已接单 back to 重新分派中), records who holds the
order now (order_handlers: access follows the work) and acknowledges the order for the
reconciliation with dispatch (reconcile.py).

Safe against redelivery (the inbox) and against order across topics and partitions: dispatch's
events carry the order's dispatch revision (CloudEvents `sequence`); an older one than already
folded reaches the timeline, not the status; a holder's state only moves forward."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import aid as aid_events
from libs.common.events import dispatch as dispatch_events
from libs.common.events.envelope import Envelope
from libs.common.events.payload import EventPayload
from libs.common.events.registry import model_for
from libs.common.handlers import PayloadInvalid, parse
from services.intake import domain, store, timeline
from services.intake.models import OrderHandler


def typed(event: Envelope) -> EventPayload | None:
    """The event's payload parsed with its model; None for a type this build does not know yet,
    or — for a direct caller — data that is not that model's (the fold then goes by the envelope,
    as for an unknown type). The consumer never gets here with such data: its Handlers parse
    first and dead-letter what does not parse."""
    model = model_for(event.type)
    try:
        return parse(model, event) if model else None
    except PayloadInvalid:
        return None


def _order_id(event: Envelope, payload: EventPayload | None) -> uuid.UUID | None:
    # Every payload of the consumed topics that is about an order names it as `work_order_id`
    # (None where a case has no order); a type this build does not know is read by that name too.
    if payload is not None:
        raw = getattr(payload, "work_order_id", None)
    else:
        raw = event.data.get("work_order_id") if isinstance(event.data, dict) else None
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


async def apply_downstream_event(
    session: AsyncSession, *, event: Envelope, payload: EventPayload | None = None
) -> None:
    """`payload`: the parsed data when the caller has it (the inbox handler), else parsed here."""
    payload = payload if payload is not None else typed(event)
    order_id = _order_id(event, payload)
    if order_id is None:
        return
    # The store's statements, built once: this runs for every downstream event of every order.
    step = timeline.step_for(event.type, event.data)
    entry = {
        "work_order_id": order_id,
        "at": event.time,
        "kind": step.kind,
        "text": step.text,
        "public": step.public,
        "source_event_id": event.id,
        "data": {"event_type": event.type, "text_en": step.text_en},
    }
    row = await store.lock_for_fold(session, order_id, entry)
    if row is None:
        return
    await record_handler(session, order_id=order_id, event=event, payload=payload)
    from_dispatch = domain.acknowledges(event.type)
    seq = event.sequence if from_dispatch else None
    stale = seq is not None and seq <= row["dispatch_seq"]
    signal = domain.signal_of(event.type, event.data)
    current = True
    if signal == "case_opened":
        staff_id = payload.handler_staff_id if isinstance(payload, aid_events.AidCaseOpenedV1) else None
        current = await handler_still_has_it(session, order_id=order_id, staff_id=staff_id)
    await store.set_folded_status(
        session,
        {
            "b_id": order_id,
            "b_status": domain.transition(row["status"], signal, stale=stale, handler_current=current),
            "b_seq": max(row["dispatch_seq"], seq or 0),
            "b_updated": max(row["updated_at"], event.time) if row["updated_at"] else event.time,
            # Dispatch's first word about the order acknowledges it (reconcile.py); later ones keep it.
            "b_routed": event.time if from_dispatch else None,
        },
    )


async def record_handler(
    session: AsyncSession, *, order_id: uuid.UUID, event: Envelope, payload: EventPayload | None
) -> None:
    """offered → a holder; assigned → the handler; rejected (any ending) → no longer. Each
    statement only moves a row forward, so a late `offered` never revives an ended offer."""
    state = domain.handler_state(event.type)
    reason_code: str | None = None
    when: datetime | None
    if isinstance(payload, dispatch_events.OfferedV1):
        when = payload.offered_at
    elif isinstance(payload, dispatch_events.AssignedV1):
        when = payload.accepted_at
    elif isinstance(payload, dispatch_events.RejectedV1):
        when, reason_code = payload.rejected_at, payload.reason_code
    else:
        return
    if state is None or not payload.assignment_id or not payload.staff_id:
        return
    when = when or event.time
    params = {
        "assignment_id": uuid.UUID(payload.assignment_id),
        "work_order_id": order_id,
        "staff_id": payload.staff_id,
        "state": state,
        "since": when,
        "until": when if state == domain.HANDLER_ENDED else None,
        "reason_code": reason_code if state == domain.HANDLER_ENDED else None,
    }
    await store.upsert_handler(session, state, params)


async def handler_still_has_it(session: AsyncSession, *, order_id: uuid.UUID, staff_id: str | None) -> bool:
    """A case opened for this person: still theirs unless every offer of the order to them has
    ended (returned, transferred, withdrawn). Nothing heard about them yet counts as theirs —
    the case's topic may simply have overtaken dispatch's."""
    if not staff_id:
        return True
    row = (
        await session.execute(
            select(func.count(), func.count().filter(OrderHandler.until.is_(None))).where(
                OrderHandler.work_order_id == order_id, OrderHandler.staff_id == str(staff_id)
            )
        )
    ).one()
    return row[0] == 0 or row[1] > 0
