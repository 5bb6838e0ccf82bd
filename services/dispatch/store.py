"""Dispatch's hot-path rows, written here and only here: the order's copy with its parties,
the decision, the offer, the order's routing state (status, counters, revision), the chosen
person's load, and the NOTIFY of their inbox.

Policy (one for every service): a hot path writes through its service's store module with
`FastStatement`s — Core statements compiled once, sent on the session's own connection —
and reads what the ORM has loaded as ORM objects. FastStatement keeps the session truthful
(flush before, expire after: libs/common/fastsql.py); this module goes one step further for
the objects it hands out, so that nothing is read back: a row it inserts becomes a
persistent object whose every column is known (SQLAlchemy's public `set_committed_value`
and `make_transient_to_detached`, as a load would make it), and a row it updates shows the
new values on its object as saved, so routing never sets them on the object itself (cold
paths — a return, a reopening — may; FastStatement flushes those changes first).

A column added to these tables without a value here fails loudly ("no value for …").
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ARRAY, String, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from libs.common.fastsql import FastStatement
from libs.common.orm import table_of
from services.dispatch.models import Assignment, Decision, OrderSnapshot, Party, Staff

ORDERS, PARTIES = table_of(OrderSnapshot), table_of(Party)
DECISIONS, ASSIGNMENTS = table_of(Decision), table_of(Assignment)
STAFF = table_of(Staff)
# The order's columns routing writes (update_order) rather than setting them on the object.
ROUTING_STATE = frozenset(
    {"status", "offers_made", "event_seq", "escalated_at", "complexity", "complexity_reasons", "weight"}
)

T = TypeVar("T")


def _bound(table: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.name: bindparam(c.name, type_=c.type) for c in table.columns if c.name not in skip}


@cache
def _new_order_statement() -> FastStatement:
    """The order (unless a replay already made it) and, only then, its parties."""
    order = (
        pg_insert(ORDERS)
        .values(_bound(ORDERS))
        .on_conflict_do_nothing()
        .returning(ORDERS.c.work_order_id)
        .cte("new_order")
    )
    given = (
        func.unnest(
            bindparam("party_sides", type_=ARRAY(String)),
            bindparam("party_names", type_=ARRAY(String)),
            bindparam("party_ids", type_=ARRAY(String)),
            bindparam("party_phones", type_=ARRAY(String)),
        )
        .table_valued("side", "name_index", "id_index", "phone_index")
        .render_derived()
    )
    parties = PARTIES.insert().from_select(
        ["work_order_id", "side", "name_index", "id_index", "phone_index"],
        select(
            order.c.work_order_id, given.c.side, given.c.name_index, given.c.id_index, given.c.phone_index
        ).select_from(order.join(given, true())),
    )
    return FastStatement(select(order.c.work_order_id).add_cte(parties.cte("new_parties")))


async def insert_new_order(
    session: AsyncSession, *, values: dict[str, Any], parties: list[dict[str, Any]]
) -> OrderSnapshot | None:
    """Insert dispatch's copy of an order with its parties (blind indexes) in one round
    trip; None if the order exists already. `values`: every column of `orders`."""
    params = dict(
        values,
        party_sides=[p["side"] for p in parties],
        party_names=[p["name_index"] for p in parties],
        party_ids=[p["id_index"] for p in parties],
        party_phones=[p["phone_index"] for p in parties],
    )
    if await _new_order_statement().fetchrow(session, params) is None:
        return None
    return _as_loaded(session, OrderSnapshot(), values)


@cache
def _decision_statement() -> FastStatement:
    return FastStatement(DECISIONS.insert().values(_bound(DECISIONS, skip=("seq",))))  # seq: the database's


async def insert_decision(session: AsyncSession, values: dict[str, Any]) -> None:
    await _decision_statement().execute(session, values)


@cache
def _offer_statement() -> FastStatement:
    """The offer and the NOTIFY that pushes it to the person's inbox: one statement (#21)."""
    offer = ASSIGNMENTS.insert().values(_bound(ASSIGNMENTS)).cte("new_offer")
    return FastStatement(
        select(
            func.pg_notify(
                bindparam("notify_channel", type_=String()), bindparam("notify_payload", type_=String())
            )
        ).add_cte(offer)
    )


async def insert_offer(session: AsyncSession, offer: Assignment, *, channel: str, note: str) -> Assignment:
    """`offer`: a new Assignment; columns it leaves unset are inserted as NULL. With it, NOTIFY
    `channel` with `note` in the caller's transaction: delivered at its commit, never for a
    rollback."""
    values = {c.name: getattr(offer, c.key) for c in ASSIGNMENTS.columns}
    await _offer_statement().execute(session, values | {"notify_channel": channel, "notify_payload": note})
    return _as_loaded(session, offer, values)


async def update_order(session: AsyncSession, order: OrderSnapshot, **values: Any) -> None:
    """One UPDATE of the order's routing state (ROUTING_STATE columns) by its key; the object
    then shows the values as saved, so no flush writes them again."""
    unknown = set(values) - ROUTING_STATE
    if unknown:
        raise ValueError(f"update_order: {sorted(unknown)} are not routing state")
    await _order_update(tuple(sorted(values))).execute(
        session, {**values, "key_work_order_id": order.work_order_id}, in_step=(order,)
    )
    for key, value in values.items():
        set_committed_value(order, key, value)


@cache
def _order_update(columns: tuple[str, ...]) -> FastStatement:
    return FastStatement(
        ORDERS.update()
        .where(ORDERS.c.work_order_id == bindparam("key_work_order_id", type_=ORDERS.c.work_order_id.type))
        .values({name: bindparam(name, type_=ORDERS.c[name].type) for name in columns})
    )


# The capacity is taken only if it is there: parallel orders on any instance never overfill.
def _take_capacity(*, skip_locked: bool) -> FastStatement:
    """`skip_locked`: a person whose row another routing holds (until its commit) is not
    waited for. Parallel lanes see the same loads and pick the same longest-idle person:
    waiting made them queue behind each other's commits (measured at 80 orders/s: 1.6 ms
    per UPDATE, most of it lock waits, p99 over a second); the next best takes the order."""
    target: Any = bindparam("staff")
    if skip_locked:
        target = (
            select(STAFF.c.id).where(STAFF.c.id == bindparam("staff")).with_for_update(skip_locked=True)
        ).scalar_subquery()
    return FastStatement(
        update(STAFF)
        .where(STAFF.c.id == target, STAFF.c.active_load + bindparam("weight") <= STAFF.c.capacity)
        .values(active_load=STAFF.c.active_load + bindparam("weight"), last_assigned_at=bindparam("now"))
        .returning(STAFF.c.id, STAFF.c.code)
    )


_TAKE = {True: _take_capacity(skip_locked=False), False: _take_capacity(skip_locked=True)}


async def take_capacity(
    session: AsyncSession, *, staff_id: uuid.UUID, weight: int, now: datetime, wait: bool
) -> Any:
    """Add `weight` to the person's load if it still fits: their (id, code) row, or None.
    `wait`: wait for a row another routing holds instead of passing it over."""
    return await _TAKE[wait].fetchrow(session, {"staff": staff_id, "weight": weight, "now": now})


def _as_loaded(session: AsyncSession, obj: T, values: dict[str, Any]) -> T:
    """The object of a row just inserted here, persistent in the session as if loaded: every
    column committed on it (none left to load lazily — in async, an error), no history and
    no attribute events (set one by one through the ORM, ~35 columns cost a tenth of
    routing's CPU per order)."""
    for key, value in values.items():
        set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
