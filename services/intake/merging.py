"""What a merge (并单) does to the order that survives it: a re-filing that is more urgent, or
names special groups the first order did not, raises the survivor (domain.merged_classification)
and announces it as a classification change, so dispatch re-prioritises (and re-decides) it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import intake as ev
from services.intake import domain
from services.intake.calendar_store import load_calendar
from services.intake.deadlines import callback_due
from services.intake.models import Task, WorkOrder
from services.intake.service import add_timeline, classified_payload, emit
from services.intake.settings import get_intake_settings


def note_merged(session: AsyncSession, *, order: WorkOrder, target: WorkOrder, now: datetime) -> None:
    """The merged order's public line, whether staff merged it or intake found it a repeat (催办)."""
    add_timeline(
        session,
        order,
        at=now,
        kind="merged",
        text_=f"与工单 {target.number} 为同一事项，已并单处理",
        text_en=f"The same matter as order {target.number}: merged into it",
    )


async def emit_merged(
    session: AsyncSession, *, order: WorkOrder, target: WorkOrder, by: str, reason: str, now: datetime
) -> None:
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_MERGED,
        payload=ev.WorkOrderMergedV1(
            work_order_id=str(order.id),
            into_work_order_id=str(target.id),
            county_code=order.county_code,
            by=by,
            reason=reason,
            merged_at=now,
        ),
    )


async def raise_survivor(
    session: AsyncSession, *, survivor: WorkOrder, merged: WorkOrder, now: datetime, by: str
) -> bool:
    """True if the survivor changed. The caller holds both orders' row locks."""
    urgency, groups = domain.merged_classification(
        urgency=survivor.urgency,
        groups=list(survivor.special_groups or []),
        merged_urgency=merged.urgency,
        merged_groups=list(merged.special_groups or []),
    )
    if urgency == survivor.urgency and groups == sorted(survivor.special_groups or []):
        return False
    more_urgent = urgency != survivor.urgency
    survivor.urgency, survivor.special_groups, survivor.updated_at = urgency, groups, now
    survivor.classification = {**(survivor.classification or {}), "raised_by_merge": str(merged.id)}
    if more_urgent and survivor.status not in domain.TERMINAL:
        # The citizen is told sooner too: the callback clock of the new urgency, from receipt.
        due, _ = callback_due(
            survivor.created_at, urgency, get_intake_settings(), await load_calendar(session)
        )
        if survivor.due_at is None or due < survivor.due_at:
            survivor.due_at = due
            for task in await session.scalars(
                select(Task).where(
                    Task.work_order_id == survivor.id, Task.kind == "callback", Task.status == "open"
                )
            ):
                task.due_at = min(task.due_at, due)
    add_timeline(
        session,
        survivor,
        at=now,
        kind="raised_by_merge",
        text_=f"并入的工单 {merged.number} 更紧急或涉及特殊群体，本单已相应提升",
        text_en=f"Merged order {merged.number} is more urgent or concerns a special group: this order was raised to match",
        public=False,
        urgency=urgency,
        special_groups=groups,
    )
    await emit(
        session,
        order=survivor,
        event_type=ev.WORKORDER_CLASSIFIED,
        payload=classified_payload(survivor, by="merge", at=now, operator=by),
    )
    return True
