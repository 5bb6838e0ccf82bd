"""Object-level access to orders and tasks: jurisdiction, or holding the work (access.py says
which grant each role has; libs.common.auth.object_visible is the rule). Whoever is offered or
given an order is learnt from dispatch's events (fold.record_handler → order_handlers).

Outside what the caller may see, an order or a task answers 404, exactly like one that does
not exist."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import (
    HANDLER,
    HOLDER,
    JURISDICTION,
    ObjectAccess,
    Principal,
    in_jurisdiction,
    object_visible,
)
from libs.common.problems import Problem
from services.intake import domain
from services.intake.models import OrderHandler, Task, WorkOrder

# The most orders a person holds at once is their capacity (about 10); this only bounds a list.
MAX_HELD = 1000


async def holding(session: AsyncSession, *, order_id: uuid.UUID, staff_id: str | None) -> tuple[bool, bool]:
    """(holds: an open offer or an accepted assignment is theirs, handles: an accepted one)."""
    if not staff_id:
        return False, False
    states = set(
        (
            await session.scalars(
                select(OrderHandler.state).where(
                    OrderHandler.work_order_id == order_id,
                    OrderHandler.staff_id == staff_id,
                    OrderHandler.until.is_(None),
                )
            )
        ).all()
    )
    return bool(states), domain.HANDLER_ACCEPTED in states


async def may_see(
    session: AsyncSession, *, region_code: str, order_id: uuid.UUID, who: Principal, access: ObjectAccess
) -> bool:
    grants = access.grants(who.roles)
    if JURISDICTION in grants and in_jurisdiction(who, region_code):
        return True
    if not grants & {HOLDER, HANDLER}:
        return False
    holds, handles = await holding(session, order_id=order_id, staff_id=who.staff_id)
    return object_visible(grants, in_jurisdiction=False, holds=holds, handles=handles)


async def ensure_order(
    session: AsyncSession, *, order: WorkOrder, who: Principal, access: ObjectAccess
) -> None:
    if not await may_see(session, region_code=order.region_code, order_id=order.id, who=who, access=access):
        raise Problem(404, "未找到该工单", "work order not found")


async def ensure_task(session: AsyncSession, *, task: Task, who: Principal, access: ObjectAccess) -> None:
    """A callback task goes with its order to the handler; a return visit stays with the front desk."""
    grants = access.grants(who.roles)
    if JURISDICTION in grants and in_jurisdiction(who, task.region_code):
        return
    if task.kind == "callback" and HANDLER in grants:
        _, handles = await holding(session, order_id=task.work_order_id, staff_id=who.staff_id)
        if handles:
            return
    raise Problem(404, "未找到该任务", "task not found")


async def held_orders(
    session: AsyncSession, *, who: Principal, accepted_only: bool = False, outside_region: bool = False
) -> list[uuid.UUID]:
    """The orders the caller holds now. `outside_region`: only those their jurisdiction does not
    already show them (for a list that shows the jurisdiction anyway: usually none, so the list
    keeps its plain, index-friendly region filter)."""
    if not who.staff_id:
        return []
    q = select(OrderHandler.work_order_id).where(
        OrderHandler.staff_id == who.staff_id, OrderHandler.until.is_(None)
    )
    if accepted_only:
        q = q.where(OrderHandler.state == domain.HANDLER_ACCEPTED)
    if outside_region and who.region:
        q = q.join(WorkOrder, WorkOrder.id == OrderHandler.work_order_id).where(
            ~WorkOrder.region_code.startswith(who.region, autoescape=True)
        )
    return list(dict.fromkeys((await session.scalars(q.limit(MAX_HELD))).all()))


def scope_condition(
    jurisdiction: ColumnElement[bool] | None, held: list[uuid.UUID], held_column
) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Rows of the jurisdiction (None: not granted) or of the held orders."""
    parts = [c for c in (jurisdiction, held_column.in_(held) if held else None) if c is not None]
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)
