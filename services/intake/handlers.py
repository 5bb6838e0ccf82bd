"""Kafka event → intake service call. Intake follows every downstream step of an order: every
dispatch / aid / mediation event (and any newer one) whose data names a work order is folded into
the order's status and timeline (`timeline.step_for` decides the text and who may see it). The
admin-entered holiday years (dispatch.calendar_year_updated) go into intake's copy, which callback
deadlines count with (libs.common.calendar_store)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import dispatch
from libs.common.events.envelope import Envelope
from libs.common.events.payload import EventPayload
from libs.common.handlers import Handlers
from services.intake import fold as folding
from services.intake.calendar_store import store_year
from services.intake.webhooks import record as webhooks

# Reference data on the same topics that is not about one order.
IGNORED = frozenset({dispatch.STAFF_AVAILABILITY, dispatch.STAFF_CHANGED})


def build_handlers(rt: Runtime) -> Handlers:
    """Every event type of the consumed topics folds (a new aid or mediation step needs no code
    here; events without a work_order_id are skipped) — except reference data, which must not
    even reach the inbox: dispatch announces 1,086 staff availabilities at every start. The
    calendar has a handler of its own."""

    async def fold(session: AsyncSession, event: Envelope, payload: EventPayload | None) -> None:
        # `payload` is the type's model, parsed (None for a type this build does not know yet).
        await folding.apply_downstream_event(session, event=event, payload=payload)
        await webhooks.on_event(session, event)  # push-back to the system that sent it (assigned)

    async def on_calendar(
        session: AsyncSession, event: Envelope, year: dispatch.CalendarYearUpdatedV1
    ) -> None:
        # New callback deadlines count with it; those already set stay as the citizen was told.
        await store_year(session, year)

    return Handlers(fallback=fold, ignored=IGNORED).on(dispatch.CalendarYearUpdatedV1, on_calendar)
