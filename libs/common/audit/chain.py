"""Hash-chaining the appended entries, and verifying the chain.

`hash = SHA-256(canonical JSON of the entry, including seq and prev_hash)` — or, with
LAWLINE_CRYPTO=sm (GB/T 39786-2021 integrity with SM3), `"sm3:" + base64url(SM3(…))`. Each
stored hash names its algorithm by its form (64 hex digits = SHA-256, "sm3:…" = SM3), so one
chain can hold both: entries linked before a switch keep their SHA-256 hashes (never rewritten)
and `verify` checks every entry with its own algorithm; the link across the switch is the SM3
entry's prev_hash, the last SHA-256 hash. No column was added: old readers and instances still
on the old setting during a rolling restart keep working (each entry states what it used).

Each service runs
`chain_forever`: after commits that wrote entries (and every `interval` anyway) it takes a try-lock (one chainer per database, whichever
instance gets it), gives the committed unchained entries the next contiguous `seq` in
insertion order and hashes them onto the head.

Like every use case here, `chain_pending` and `verify` work in the caller's transaction and
never commit: the links they write are kept when the caller commits (`chain_now`, the router
and the CLI do), and left to the next chaining pass when it rolls back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import BigInteger, String, bindparam, column, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit.store import AUDIT, enabled
from libs.common.crypto import crypto_mode
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


SM3_PREFIX = "sm3:"


def configured_hash() -> str:
    """The algorithm new links use: SM3 under LAWLINE_CRYPTO=sm, SHA-256 otherwise."""
    return "sm3" if crypto_mode() == "sm" else "sha256"


def hash_algorithm(stored: str) -> str:
    """Which algorithm made a stored hash, from its form."""
    return "sm3" if stored.startswith(SM3_PREFIX) else "sha256"


def entry_hash(entry: dict[str, Any], algorithm: str = "sha256") -> str:
    if algorithm == "sm3":
        # base64url keeps the 256-bit SM3 digest and its tag within the 64-character column.
        digest = hashlib.new("sm3", canonical(entry)).digest()
        return SM3_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hashlib.sha256(canonical(entry)).hexdigest()


async def chain_pending(session: AsyncSession, *, limit: int = BATCH, algorithm: str | None = None) -> int:
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
    alg = algorithm or configured_hash()
    ids: list[int] = []
    seqs: list[int] = []
    prevs: list[str] = []
    hashes: list[str] = []
    for row in rows:
        seq += 1
        entry = {str(k): v for k, v in row.items()} | {"seq": seq, "prev_hash": prev}
        prev = entry_hash(entry, alg)
        ids.append(row["id"])
        seqs.append(seq)
        prevs.append(entry["prev_hash"])
        hashes.append(prev)
    if ids:
        await session.execute(_link_statement(), {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes})
    return len(ids)


@cache
def _link_statement():  # type: ignore[no-untyped-def]
    """The pass's links in one statement (UPDATE … FROM unnest): a statement per entry cost
    PostgreSQL one execution each, 3 per order across the services (#21)."""
    links = (
        func.unnest(
            bindparam("ids", type_=ARRAY(BigInteger())),
            bindparam("seqs", type_=ARRAY(BigInteger())),
            bindparam("prevs", type_=ARRAY(String())),
            bindparam("hashes", type_=ARRAY(String())),
        )
        .table_valued(
            column("id", BigInteger()),
            column("seq", BigInteger()),
            column("prev_hash", String()),
            column("hash", String()),
        )
        .render_derived()
    )
    return (
        AUDIT.update()
        .where(AUDIT.c.id == links.c.id)
        .values(seq=links.c.seq, prev_hash=links.c.prev_hash, hash=links.c.hash)
    )


async def chain_now(sessionmaker: Any) -> int:
    """One chaining pass in its own transaction."""
    async with sessionmaker() as session, session.begin():
        return await chain_pending(session)


async def chain_forever(
    sessionmaker: Any, *, interval: float = 5.0, wake: asyncio.Event | None = None
) -> None:
    """The service's chainer task (one per instance; the try-lock keeps it to one per database).
    `wake`: set when a transaction committed audit entries (the outbox relay's NOTIFY — every
    outbox row is written with its audit entry, libs.common.outbox): chaining follows commits
    instead of a timer. `interval` is the safety net for entries written without an outbox row
    (a download, a sign-in). A 0.2 s timer in six services cost ~1 % of a core each idle
    (bench/idle.py). A failed pass (the database restarting) is logged and tried again next
    interval. Woken, it waits `COALESCE_SECONDS` first: at 100 orders/s a pass per commit was
    5 % of dispatch's CPU and five statements each; one pass every half second chains the same
    entries in ~50× fewer transactions (the chain is evidence, not a path anyone waits on)."""

    async def chain_backlog() -> None:
        while await chain_now(sessionmaker) >= BATCH:
            pass  # a backlog: keep going without sleeping

    await every(interval, chain_backlog, name="audit chaining", wake=wake, coalesce=COALESCE_SECONDS)


COALESCE_SECONDS = 0.5


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
        if entry_hash(entry, hash_algorithm(entry["hash"])) != entry["hash"]:
            return Verification(False, n, prev, entry["seq"], "entry content was changed")
        prev, expected_seq = entry["hash"], expected_seq + 1
    return Verification(True, n, prev)
