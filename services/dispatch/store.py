"""Routing's inserts as single prepared Core statements, not unit-of-work flushes.

Every order routed writes the same rows: dispatch's copy of the order and its parties, a
decision, an offer. Through the ORM each costs a flush (or an INSERT … RETURNING entity)
and its statement is rebuilt from the values every time; here each is one statement built
once with a bind parameter per column. Objects the callers keep working with (the order,
the offer) are then attached to the session as if loaded — every column is bound, so
every attribute is known, and later changes flush as ordinary UPDATEs. A column added to
these tables without a value here fails loudly ("a value is required for bind parameter").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ARRAY, String, bindparam, func, inspect, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from libs.common.fastsql import FastStatement
from services.dispatch.models import Assignment, Decision, OrderSnapshot, Party

ORDERS, PARTIES = OrderSnapshot.__table__, Party.__table__
DECISIONS, ASSIGNMENTS = Decision.__table__, Assignment.__table__


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
    return _attach(session, OrderSnapshot(), values)


@cache
def _decision_statement() -> FastStatement:
    return FastStatement(DECISIONS.insert().values(_bound(DECISIONS, skip=("seq",))))  # seq: the database's


async def insert_decision(session: AsyncSession, values: dict[str, Any]) -> None:
    with session.no_autoflush:  # a row of its own: pending changes elsewhere can wait
        await _decision_statement().execute(session, values)


@cache
def _offer_statement() -> FastStatement:
    return FastStatement(ASSIGNMENTS.insert().values(_bound(ASSIGNMENTS)))


async def insert_offer(session: AsyncSession, offer: Assignment) -> Assignment:
    """`offer`: a new Assignment; columns it leaves unset are inserted as NULL."""
    values = {c.name: getattr(offer, c.key) for c in ASSIGNMENTS.columns}
    with session.no_autoflush:  # a row of its own: pending changes elsewhere can wait
        await _offer_statement().execute(session, values)
    return _attach(session, offer, values)


async def save_changes(session: AsyncSession, obj: Any) -> None:
    """Write an object's changed columns with one prepared Core UPDATE (by primary key) and
    mark them saved — a unit-of-work flush for one row, without the unit of work."""
    state = inspect(obj)
    mapper = state.mapper
    # Only attributes set since the last load or commit can have changed: they are the keys
    # of committed_state (asking every column for its history cost more than the UPDATE).
    changed = {
        key: state.dict[key]
        for key in list(state.committed_state)
        if key in mapper.columns and state.attrs[key].history.has_changes()
    }
    if not changed:
        return
    keys = {f"key_{c.key}": getattr(obj, c.key) for c in mapper.primary_key}
    with session.no_autoflush:  # or the unit of work writes the same changes first
        await _update_statement(mapper.local_table, tuple(sorted(changed))).execute(
            session, {**changed, **keys}
        )
    for key, value in changed.items():
        set_committed_value(obj, key, value)


@cache
def _update_statement(table: Any, columns: tuple[str, ...]) -> FastStatement:
    where = [c == bindparam(f"key_{c.name}", type_=c.type) for c in table.primary_key.columns]
    return FastStatement(
        table.update()
        .where(*where)
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    )


def _attach(session: AsyncSession, obj: Any, values: dict[str, Any] | None = None) -> Any:
    """Make a just-inserted object persistent in the session without reading it back: every
    column is set on it first, so none is left to be loaded (lazily — in async, an error).
    The values go straight into the instance's dict, as a load puts them: set one by one,
    each of ~35 columns fired an attribute event and recorded history (profiled: a tenth of
    routing's CPU per order). make_transient_to_detached then marks them all as loaded."""
    if values:
        obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
