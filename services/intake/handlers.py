"""Kafka event → intake service call. Intake follows every downstream step of an order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import aid, dispatch, mediation
from libs.common.events.envelope import Envelope
from libs.common.inbox import Handler
from services.intake import service


def build_handlers(rt: Runtime) -> dict[str, Handler]:
    async def fold(session: AsyncSession, event: Envelope) -> None:
        await service.apply_downstream_event(session, event=event)

    return {
        t: fold
        for t in (
            dispatch.OFFERED,
            dispatch.ASSIGNED,
            dispatch.ESCALATED,
            aid.CASE_OPENED,
            mediation.CASE_OPENED,
        )
    }
