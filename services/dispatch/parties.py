"""Parties of each matter and the conflict-of-interest rule.

Parties are kept as blind indexes only (libs.common.crypto): enough to find the same
name or ID number on another order, never the names themselves a second time. They come
from workorder.created (`parties`, when intake sends them), from case events of aid and
mediation (`parties`, when present) and from operators (POST /v1/work-orders/{id}/parties).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import get_cipher
from libs.common.events.envelope import Envelope
from libs.common.fastsql import FastStatement
from services.dispatch.models import Party, Representation

PARTIES = Party.__table__


def _index(value: str | None) -> str | None:
    value = (value or "").strip()
    return get_cipher().blind_index(value) if value else None


def party_rows(parties: list[dict]) -> list[dict]:
    """Parties as given (names, ID numbers or blind indexes) → side and blind indexes only."""
    rows = [
        dict(
            side=p.get("side", "counterparty"),
            name_index=p.get("name_index") or _index(p.get("name")),
            id_index=p.get("id_index") or _index(p.get("id_number")),
        )
        for p in parties
    ]
    return [r for r in rows if r["name_index"] or r["id_index"]]


async def record_parties(session: AsyncSession, *, order_id: uuid.UUID, parties: list[dict]) -> None:
    rows = [dict(r, work_order_id=order_id) for r in party_rows(parties)]
    if rows:
        await session.execute(PARTIES.insert(), rows)  # Core: no ORM bulk-insert machinery


# Staff who handled an earlier order in which a party of this order stood on the other side.
_CONFLICTED = """
    SELECT DISTINCT a.staff_id FROM parties mine
    JOIN parties theirs ON theirs.work_order_id <> mine.work_order_id AND theirs.side <> mine.side
      AND (theirs.name_index = mine.name_index OR theirs.id_index = mine.id_index)
    JOIN (
      SELECT work_order_id, staff_id FROM assignments
      WHERE status IN ('accepted', 'completed', 'returned', 'transferred')
      UNION SELECT work_order_id, staff_id FROM representations
    ) a ON a.work_order_id = theirs.work_order_id
    WHERE mine.work_order_id = :id
"""
_HISTORY = FastStatement(
    text(
        "SELECT (SELECT count(DISTINCT p.work_order_id) FROM parties p WHERE p.side = 'requester' "
        "AND p.work_order_id <> :id AND p.name_index = :name) AS prior_orders, "
        f"ARRAY({_CONFLICTED}) AS conflicted"
    )
)


async def conflicted_staff(session: AsyncSession, *, order_id: uuid.UUID) -> frozenset[str]:
    """Staff who handled an earlier order in which a party of this order stood on the other side."""
    rows = await session.execute(text(_CONFLICTED), {"id": order_id})
    return frozenset(str(r[0]) for r in rows)


async def requester_history(
    session: AsyncSession, *, order_id: uuid.UUID, requester_index: str | None
) -> tuple[int, frozenset[str]]:
    """What routing needs from the parties, in one round trip: how many other orders this
    requester made (complexity) and who is conflicted (conflicted_staff)."""
    row = await _HISTORY.fetchrow(session, {"id": order_id, "name": requester_index})
    return int(row["prior_orders"] or 0), frozenset(str(s) for s in row["conflicted"] or ())


# Keys under which case events name the person acting on the matter.
ACTING_KEYS = ("handler_staff_id", "lawyer_staff_id", "mediator_staff_id")


async def record_case(session: AsyncSession, *, event: Envelope) -> None:
    """Aid / mediation case events: remember who acted on the matter and any parties listed."""
    data = event.data
    if not data.get("work_order_id"):
        return
    order_id = uuid.UUID(data["work_order_id"])
    acting = {data[k] for k in ACTING_KEYS if data.get(k)}
    if acting:
        await session.execute(
            pg_insert(Representation)
            .values(
                [
                    dict(work_order_id=order_id, staff_id=uuid.UUID(s), source=event.type)
                    for s in sorted(acting)
                ]
            )
            .on_conflict_do_nothing()
        )
    if data.get("parties"):
        await record_parties(session, order_id=order_id, parties=list(data["parties"]))
