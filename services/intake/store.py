"""Intake's hot-path rows, written here and only here: a new order, its timeline entries and
callback task (create.py), and what folding a downstream event writes — the timeline entry,
the order's status and dispatch revision, who holds the order now (fold.py).

The same policy as every service (services/dispatch/store.py): a hot path writes through
its service's store module with `FastStatement`s — Core statements built once, sent on the
session's own connection, flushing pending ORM changes first and expiring what an UPDATE
wrote (libs/common/fastsql.py) — and the rarer paths work with ORM objects. The new order
is handed back as a persistent object whose every column is known (EMPTY_ROW in create.py),
so those paths can change it and the ORM writes only what they change.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from libs.common.fastsql import FastStatement
from libs.common.orm import table_of
from services.intake import domain
from services.intake.models import OrderHandler, Task, TimelineEntry, WorkOrder

_W = table_of(WorkOrder)
_H = table_of(OrderHandler)
_ORDER_COLUMNS = tuple(c.key for c in _W.columns)
# Built once; the values travel as parameters (create._candidates_statement says why).
_INSERT_ORDER = FastStatement(insert(_W))
_INSERT_TIMELINE = FastStatement(insert(table_of(TimelineEntry)))
_INSERT_TASK = FastStatement(insert(table_of(Task)))


async def insert_order(session: AsyncSession, order: WorkOrder) -> None:
    """INSERT the new order with Core (a third of an ORM flush's CPU on this hot path), then
    make the object persistent as if loaded (every column is set on it): later changes on
    the rarer paths are tracked as usual."""
    await _INSERT_ORDER.execute(session, {k: getattr(order, k) for k in _ORDER_COLUMNS})
    make_transient_to_detached(order)
    session.add(order)


async def insert_timeline(session: AsyncSession, row: dict[str, Any]) -> None:
    """`row`: every column of timeline_entries but its id (create.timeline_row)."""
    await _INSERT_TIMELINE.execute(session, row)


async def insert_task(session: AsyncSession, row: dict[str, Any]) -> None:
    await _INSERT_TASK.execute(session, row)


_LOCK_FOR_FOLD = FastStatement(
    select(_W.c.status, _W.c.updated_at, _W.c.dispatch_seq)
    .where(_W.c.id == bindparam("id"))
    .with_for_update()
)
_SET_STATUS = FastStatement(
    update(_W)
    .where(_W.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        dispatch_seq=bindparam("b_seq"),
        updated_at=bindparam("b_updated"),
        routed_at=func.coalesce(_W.c.routed_at, bindparam("b_routed", type_=_W.c.routed_at.type)),
    )
)


async def lock_for_fold(session: AsyncSession, order_id: uuid.UUID) -> Any:
    """The order's (status, updated_at, dispatch_seq) under its row lock; None if unknown."""
    return await _LOCK_FOR_FOLD.fetchrow(session, {"id": order_id})


async def set_folded_status(session: AsyncSession, params: dict[str, Any]) -> None:
    """`params`: b_id, b_status, b_seq, b_updated, b_routed (routed_at is kept once set)."""
    await _SET_STATUS.execute(session, params)


def _upsert(state: str) -> FastStatement:
    stmt = insert(_H).values({c.name: bindparam(c.name, type_=c.type) for c in _H.columns})
    if state == domain.HANDLER_OFFERED:
        return FastStatement(stmt.on_conflict_do_nothing(index_elements=["assignment_id"]))
    if state == domain.HANDLER_ACCEPTED:
        return FastStatement(
            stmt.on_conflict_do_update(
                index_elements=["assignment_id"],
                set_={"state": stmt.excluded.state},
                where=_H.c.state == domain.HANDLER_OFFERED,
            )
        )
    return FastStatement(
        stmt.on_conflict_do_update(
            index_elements=["assignment_id"],
            set_={
                "state": stmt.excluded.state,
                "until": stmt.excluded.until,
                "reason_code": stmt.excluded.reason_code,
            },
            where=_H.c.state != domain.HANDLER_ENDED,
        )
    )


_UPSERT_HANDLER = {
    s: _upsert(s) for s in (domain.HANDLER_OFFERED, domain.HANDLER_ACCEPTED, domain.HANDLER_ENDED)
}


async def upsert_handler(session: AsyncSession, state: str, params: dict[str, Any]) -> None:
    """Move the holder's row forward to `state` (never back: a late `offered` revives nothing)."""
    await _UPSERT_HANDLER[state].execute(session, params)
