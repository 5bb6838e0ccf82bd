"""Kafka event → dispatch service call."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import aid, intake, mediation
from libs.common.events.envelope import Envelope
from libs.common.inbox import Handler
from services.dispatch import lifecycle, offers, parties, reconcile, service


def build_handlers(rt: Runtime) -> dict[str, Handler]:
    async def on_created(session: AsyncSession, event: Envelope) -> None:
        await service.route_new_order(session, event=event, now=rt.clock.now())

    async def on_routing_requested(session: AsyncSession, event: Envelope) -> None:
        # Like created, but an order dispatch has already is confirmed, not routed again.
        await reconcile.answer_routing_request(session, event=event, now=rt.clock.now())

    async def on_closed(session: AsyncSession, event: Envelope) -> None:
        await offers.close_order(session, event=event, now=rt.clock.now())

    # The order's life after the first routing (lifecycle.py): each re-decides where needed.
    def follow(use_case):  # type: ignore[no-untyped-def]
        async def handle(session: AsyncSession, event: Envelope) -> None:
            await use_case(session, event=event, now=rt.clock.now())

        return handle

    async def on_case(session: AsyncSession, event: Envelope) -> None:
        await parties.record_case(session, event=event)

    return {
        intake.WORKORDER_CREATED: on_created,
        intake.WORKORDER_ROUTING_REQUESTED: on_routing_requested,
        intake.WORKORDER_CLOSED: on_closed,
        intake.WORKORDER_CLASSIFIED: follow(lifecycle.on_classified),
        intake.WORKORDER_UPDATED: follow(lifecycle.on_updated),
        intake.WORKORDER_TRANSFERRED: follow(lifecycle.on_transferred),
        intake.WORKORDER_MERGED: follow(lifecycle.on_merged),
        intake.WORKORDER_UNMERGED: follow(lifecycle.on_unmerged),
        aid.CASE_OPENED: on_case,
        mediation.CASE_OPENED: on_case,
    }
