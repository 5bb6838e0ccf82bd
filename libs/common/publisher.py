"""The one way a service announces an event: `Publisher(outbox, service).publish(session, payload,
subject=…, key=…)`. The payload model names its type, source and topic (libs.common.events.payload),
so a use case names only what it knows: the model, the subject and the record key (the county on
work-order and dispatch topics, the case id on aid and mediation topics).

It wraps `libs.common.outbox.enqueue_many` (same statement: outbox row, audit entry and NOTIFY in
the caller's transaction, never a commit) and `make_event` (same envelope: the correlation id of
the request or event being handled, the traceparent of the current span (libs.common.tracing; none
while tracing is off), the CloudEvents `sequence` when given), so
the record on the wire is byte for byte the one the per-service `emit` helpers wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.envelope import Envelope, make_event
from libs.common.events.payload import EventPayload
from libs.common.events.topics import topic
from libs.common.logging import correlation_id
from libs.common.outbox import enqueue_many

Prepared = tuple[str, str | None, Envelope]  # (topic, key, event), as outbox.enqueue_many takes them


def prepare(
    payload: EventPayload,
    *,
    subject: str | None,
    key: str | None,
    type: str | None = None,
    sequence: int | None = None,
) -> Prepared:
    """The outbox entry for `payload`; `type` only for a model of several types (aid's case
    transitions, intake's callback / return visit), where it must be one of them."""
    model = _model_of(payload)
    event = make_event(
        model.type_for(type),
        source=model.SOURCE,
        payload=payload,
        subject=subject,
        correlation_id=correlation_id.get(),
        sequence=sequence,
    )
    return topic(model.TOPIC), key, event


def _model_of(payload: EventPayload) -> type[EventPayload]:
    if not isinstance(payload, EventPayload):
        raise TypeError(f"{type(payload).__name__} is not an event payload (libs.common.events.payload)")
    return payload.__class__


@dataclass(frozen=True, slots=True)
class Publisher:
    """A service's publisher: its outbox table and its name (the audit entry's service)."""

    outbox: Table
    service: str

    async def publish(
        self,
        session: AsyncSession,
        payload: EventPayload,
        *,
        subject: str | None,
        key: str | None,
        type: str | None = None,
        sequence: int | None = None,
    ) -> None:
        await self.publish_prepared(
            session, [prepare(payload, subject=subject, key=key, type=type, sequence=sequence)]
        )

    async def publish_prepared(self, session: AsyncSession, prepared: list[Prepared]) -> None:
        """Several events of one use case in one statement (`prepare` each first)."""
        if prepared:
            await enqueue_many(session, self.outbox, service=self.service, events=prepared)
