"""Parties of each matter and the conflict-of-interest rule.

Parties are kept as blind indexes only (libs.common.crypto): enough to find the same
name, ID number or phone on another order, never the names themselves a second time. They
come from workorder.created (`parties`, when intake sends them), from case events of aid
and mediation (`parties`, when present) and from operators (POST /v1/work-orders/{id}/parties).

The query finds every earlier order where someone acted — an ACCEPTED assignment, or a
case naming them — and a party stood on the other side with any index in common; the
rule of conflicts.py then decides, by identity, what blocks and what only warns.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import get_cipher
from libs.common.fastsql import FastStatement
from libs.common.orm import table_of
from libs.common.pii import phone_key
from services.dispatch.conflicts import Conflicts, PartyKeys, PriorAct, assess
from services.dispatch.models import Party, Representation

PARTIES = table_of(Party)


def _index(value: str | None) -> str | None:
    value = (value or "").strip()
    return get_cipher().blind_index(value) if value else None


def phone_index(phone: str | None) -> str | None:
    return _index(phone_key(phone))


def party_rows(parties: list[dict]) -> list[dict]:
    """Parties as given (names, ID numbers, phones or blind indexes) → side and blind indexes only."""
    rows = [
        dict(
            side=p.get("side", "counterparty"),
            name_index=p.get("name_index") or _index(p.get("name")),
            id_index=p.get("id_index") or _index(p.get("id_number")),
            phone_index=p.get("phone_index") or phone_index(p.get("phone")),
        )
        for p in parties
    ]
    return [r for r in rows if r["name_index"] or r["id_index"] or r["phone_index"]]


async def record_parties(session: AsyncSession, *, order_id: uuid.UUID, parties: list[dict]) -> None:
    rows = [dict(r, work_order_id=order_id) for r in party_rows(parties)]
    if rows:
        await session.execute(PARTIES.insert(), rows)  # Core: no ORM bulk-insert machinery


# Who acted on an earlier order in which a party sharing any index with a party of this order
# stood on the other side — with both parties' indexes, for conflicts.assess to judge. Acting
# is an accepted assignment (accepted_at stays set after a return, transfer or completion)
# or a case naming the person; an offer never accepted is not acting for anyone.
_PRIOR_ACTS = """
    SELECT DISTINCT ARRAY[a.staff_id::text, mine.name_index, mine.id_index, mine.phone_index,
                          theirs.name_index, theirs.id_index, theirs.phone_index]
    FROM parties mine
    JOIN parties theirs ON theirs.work_order_id <> mine.work_order_id AND theirs.side <> mine.side
      AND (theirs.name_index = mine.name_index OR theirs.id_index = mine.id_index
           OR theirs.phone_index = mine.phone_index)
    JOIN (
      SELECT work_order_id, staff_id FROM assignments WHERE accepted_at IS NOT NULL
      UNION SELECT work_order_id, staff_id FROM representations
    ) a ON a.work_order_id = theirs.work_order_id
    WHERE mine.work_order_id = :id
"""
_HISTORY = FastStatement(
    text(
        "SELECT (SELECT count(DISTINCT p.work_order_id) FROM parties p WHERE p.side = 'requester' "
        "AND p.work_order_id <> :id AND p.name_index = :name) AS prior_orders, "
        f"ARRAY({_PRIOR_ACTS}) AS acts"
    )
)


def _assess(rows: list | None) -> Conflicts:  # type: ignore[type-arg]
    return assess(
        PriorAct(r[0], PartyKeys(r[1], r[2], r[3]), PartyKeys(r[4], r[5], r[6])) for r in rows or ()
    )


async def conflicts_of(session: AsyncSession, *, order_id: uuid.UUID) -> Conflicts:
    """Who is blocked (same person by ID number or phone) and who only warned (a name)."""
    rows = await session.execute(text(_PRIOR_ACTS), {"id": order_id})
    return _assess([r[0] for r in rows])


async def conflicted_staff(session: AsyncSession, *, order_id: uuid.UUID) -> frozenset[str]:
    """Staff blocked from this order: they acted where a party of it stood on the other side."""
    return (await conflicts_of(session, order_id=order_id)).blocked


async def requester_history(
    session: AsyncSession, *, order_id: uuid.UUID, requester_index: str | None
) -> tuple[int, Conflicts]:
    """What routing needs from the parties, in one round trip: how many other orders this
    requester made (complexity) and the conflicts of interest (conflicts_of)."""
    row = await _HISTORY.fetchrow(session, {"id": order_id, "name": requester_index})
    return int(row["prior_orders"] or 0), _assess(row["acts"])


async def record_case(
    session: AsyncSession, *, work_order_id: str | None, acting: list[str | None], source: str
) -> None:
    """Aid / mediation case opened on an order: remember who acts on the matter (`source`: the
    event type). Neither case payload lists parties (those come with the order)."""
    if not work_order_id:
        return
    order_id = uuid.UUID(work_order_id)
    acting_ids = {s for s in acting if s}
    if acting_ids:
        await session.execute(
            pg_insert(Representation)
            .values(
                [
                    dict(work_order_id=order_id, staff_id=uuid.UUID(s), source=source)
                    for s in sorted(acting_ids)
                ]
            )
            .on_conflict_do_nothing()
        )
