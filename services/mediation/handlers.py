"""Kafka event → mediation service call: an accepted mediation order opens a case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import dispatch
from libs.common.events.envelope import Envelope
from libs.common.inbox import Handler
from services.mediation import service


def build_handlers(rt: Runtime) -> dict[str, Handler]:
    async def on_assigned(session: AsyncSession, event: Envelope) -> None:
        await service.open_case_from_assignment(session, event=event, now=rt.extras["clock"].now())

    return {dispatch.ASSIGNED: on_assigned}
