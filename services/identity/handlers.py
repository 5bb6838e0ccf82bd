"""Kafka event → identity: dispatch's staff records keep every staff member's login in step
(staff_link.py). Identity consumes nothing else; it is the source of the identity topic."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import dispatch
from libs.common.events.envelope import Envelope
from libs.common.handlers import Handlers
from services.identity.staff_link import apply_staff_changed


def build_handlers(rt: Runtime) -> Handlers:
    async def on_staff_changed(
        session: AsyncSession, event: Envelope, staff: dispatch.StaffChangedV1
    ) -> None:
        await apply_staff_changed(session, staff=staff)

    return Handlers().on(dispatch.StaffChangedV1, on_staff_changed)
