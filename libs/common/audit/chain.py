"""Hash-chaining the appended entries, and verifying the chain.

`hash = SHA-256(canonical JSON of the entry, including seq and prev_hash)`. Each service runs
`chain_forever`: every `interval` it takes a try-lock (one chainer per database, whichever
instance gets it), gives the committed unchained entries the next contiguous `seq` in
insertion order and hashes them onto the head.

Like every use case here, `chain_pending` and `verify` work in the caller's transaction and
never commit: the links they write are kept when the caller commits (`chain_now`, the router
and the CLI do), and left to the next chaining pass when it rolls back.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit.store import AUDIT, enabled
from libs.common.periodic import every

log = logging.getLogger("libs.common.audit")

GENESIS = "0" * 64
_LOCK_KEY = 0x12348A0D17  # advisory lock id: one chainer at a time per database
BATCH = 5000


def canonical(entry: dict[str, Any]) -> bytes:
    body = dict(entry)
    body.pop("hash", None)
    body.pop("id", None)  # where the row sits in storage is not part of what happened
    at = body["at"]
    body["at"] = at.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


async def chain_pending(session: AsyncSession, *, limit: int = BATCH) -> int:
    """Link the committed unchained entries onto the head, in insertion order; returns how
    many. 0 without effect if another chainer holds the lock (it will do the work)."""
    if not await enabled(session):
        return 0
    # Its own statement: later statements' snapshots are taken after the lock is ours, so
    # they see every entry committed by then and the head the previous chainer wrote.
    got = (await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})).scalar()
    if not got:
        return 0
    head = (
        await session.execute(
            select(AUDIT.c.seq, AUDIT.c.hash)
            .where(AUDIT.c.seq.is_not(None))
            .order_by(AUDIT.c.seq.desc())
            .limit(1)
        )
    ).first()
    rows = (
        (await session.execute(select(AUDIT).where(AUDIT.c.seq.is_(None)).order_by(AUDIT.c.id).limit(limit)))
        .mappings()
        .all()
    )
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    links = []
    for row in rows:
        seq += 1
        entry = {str(k): v for k, v in row.items()} | {"seq": seq, "prev_hash": prev}
        prev = entry_hash(entry)
        links.append({"b_id": row["id"], "b_seq": seq, "b_prev": entry["prev_hash"], "b_hash": prev})
    if links:
        await session.execute(
            AUDIT.update()
            .where(AUDIT.c.id == bindparam("b_id"))
            .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
            links,
        )
    return len(links)


async def chain_now(sessionmaker: Any) -> int:
    """One chaining pass in its own transaction."""
    async with sessionmaker() as session, session.begin():
        return await chain_pending(session)


async def chain_forever(sessionmaker: Any, *, interval: float = 0.2) -> None:
    """The service's chainer task (one per instance; the try-lock keeps it to one per database).
    A failed pass (the database restarting) is logged and tried again next interval."""

    async def chain_backlog() -> None:
        while await chain_now(sessionmaker) >= BATCH:
            pass  # a backlog: keep going without sleeping

    await every(interval, chain_backlog, name="audit chaining")


@dataclass
class Verification:
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


async def verify(session: AsyncSession) -> Verification:
    """Recompute the chain; the first mismatch names the entry that was edited, removed or moved.

    Whatever is committed is linked first, in the caller's transaction (never committed here):
    commit afterwards to keep those links. The chaining lock is held until then: the service's
    chainer skips its passes meanwhile instead of racing the verification."""
    while await chain_pending(session) >= BATCH:
        pass
    prev, expected_seq, n = GENESIS, 1, 0
    result = await session.stream(select(AUDIT).where(AUDIT.c.seq.is_not(None)).order_by(AUDIT.c.seq))
    async for row in result:
        entry = {str(c.name): getattr(row, c.name) for c in AUDIT.columns}
        n += 1
        if entry["seq"] != expected_seq:
            return Verification(False, n, prev, entry["seq"], f"entry {expected_seq} is missing")
        if entry["prev_hash"] != prev:
            return Verification(False, n, prev, entry["seq"], "link to the previous entry is broken")
        if entry_hash(entry) != entry["hash"]:
            return Verification(False, n, prev, entry["seq"], "entry content was changed")
        prev, expected_seq = entry["hash"], expected_seq + 1
    return Verification(True, n, prev)
