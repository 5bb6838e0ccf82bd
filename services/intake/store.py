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
_INSERT_TIMELINE = FastStatement(insert(table_of(TimelineEntry)))


def _prefixed(table: Any, prefix: str, skip: tuple[str, ...] = ()) -> dict[Any, Any]:
    return {c: bindparam(prefix + c.key, type_=c.type) for c in table.columns if c.key not in skip}


def _new_order_statement(with_task: bool) -> FastStatement:
    """The new order, its first timeline entry and (a dispatched order) its callback task in one
    statement of CTEs — one round trip instead of three (#21); the entries' foreign keys are
    checked at the statement's end, when the order is there."""
    order = insert(_W).values(_prefixed(_W, "o_")).returning(_W.c.id).cte("new_order")
    entry = insert(table_of(TimelineEntry)).values(_prefixed(table_of(TimelineEntry), "t_", ("id",)))
    stmt = select(order.c.id).add_cte(entry.cte("new_entry"))
    if with_task:
        stmt = stmt.add_cte(insert(table_of(Task)).values(_prefixed(table_of(Task), "k_")).cte("new_task"))
    return FastStatement(stmt)


_NEW_ORDER = {True: _new_order_statement(True), False: _new_order_statement(False)}


async def insert_new_order(
    session: AsyncSession, order: WorkOrder, entry: dict[str, Any], task: dict[str, Any] | None
) -> None:
    """INSERT the new order with Core (a third of an ORM flush's CPU on this hot path) with its
    first timeline entry (every column but its id) and, if given, its task (every column), then
    make the object persistent as if loaded (every column is set on it): later changes on the
    rarer paths are tracked as usual."""
    params = {f"o_{k}": getattr(order, k) for k in _ORDER_COLUMNS} | {f"t_{k}": v for k, v in entry.items()}
    if task is not None:
        params |= {f"k_{k}": v for k, v in task.items()}
    await _NEW_ORDER[task is not None].execute(session, params)
    make_transient_to_detached(order)
    session.add(order)


async def insert_timeline(session: AsyncSession, row: dict[str, Any]) -> None:
    """`row`: every column of timeline_entries but its id (create.timeline_row)."""
    await _INSERT_TIMELINE.execute(session, row)


_LOCKED_ORDER = (
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


_TIMELINE_COLUMNS = tuple(c.name for c in table_of(TimelineEntry).columns if c.name != "id")


def _lock_and_note() -> FastStatement:
    """The row lock and the event's timeline entry in one statement (one round trip per
    downstream event less, #21): the entry is written only if the order exists."""
    locked = _LOCKED_ORDER.cte("locked")
    timeline = table_of(TimelineEntry)
    entry = timeline.insert().from_select(
        list(_TIMELINE_COLUMNS),
        select(*(bindparam(f"t_{c}", type_=timeline.c[c].type) for c in _TIMELINE_COLUMNS)).select_from(
            locked
        ),
    )
    return FastStatement(
        select(locked.c.status, locked.c.updated_at, locked.c.dispatch_seq).add_cte(entry.cte("entry"))
    )


_LOCK_AND_NOTE = _lock_and_note()


async def lock_for_fold(session: AsyncSession, order_id: uuid.UUID, entry: dict[str, Any]) -> Any:
    """The order's (status, updated_at, dispatch_seq) under its row lock, its timeline entry
    (`entry`: every column of timeline_entries but its id) written with it; None if unknown."""
    return await _LOCK_AND_NOTE.fetchrow(session, {"id": order_id} | {f"t_{k}": v for k, v in entry.items()})


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
