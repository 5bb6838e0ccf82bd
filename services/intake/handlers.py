"""Kafka event → intake service call. Intake follows every downstream step of an order: the
known dispatch / aid / mediation events, and any newer event whose data names a work order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import aid, dispatch, mediation
from libs.common.events.envelope import Envelope
from libs.common.inbox import Handler
from services.intake import service

KNOWN = (dispatch.OFFERED, dispatch.ASSIGNED, dispatch.ESCALATED, aid.CASE_OPENED, mediation.CASE_OPENED)
# Reference data on the same topics that is not about one order.
IGNORED = (dispatch.CALENDAR_YEAR_UPDATED, dispatch.STAFF_AVAILABILITY)


class FoldAll(dict):
    """Handler table that folds any other event type too (a new aid/mediation step needs no code
    here); `apply_downstream_event` ignores events without a `work_order_id`."""

    def __init__(self, fold: Handler) -> None:
        super().__init__({t: fold for t in KNOWN})
        self._fold = fold

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        if key in IGNORED:
            return default
        return super().get(key) or self._fold


def build_handlers(rt: Runtime) -> dict[str, Handler]:
    async def fold(session: AsyncSession, event: Envelope) -> None:
        await service.apply_downstream_event(session, event=event)

    return FoldAll(fold)
