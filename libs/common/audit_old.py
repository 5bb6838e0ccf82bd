"""Tamper-evident audit trail (全程留痕), one hash-chained table per service database.

Every state change is recorded automatically (`outbox.enqueue` writes `event_entry` in the
same statement as the outbox row), and
every read of unmasked personal data is recorded by the endpoint that serves it
(`record_unmasked_read`). Each entry carries who (principal, roles, jurisdiction), what
(action, subject, detail), when, from where (client IP) and the correlation id.

Entries are chained: `hash = SHA-256(canonical JSON of the entry, including seq and
prev_hash)`; `verify` recomputes the chain and reports the first edited, deleted (gap or
broken link) or reordered entry. Truncating the newest entries cannot be seen from inside
the table: anchor `head_hash` elsewhere (the verify endpoint returns it; a supervisor's
weekly print-out or an external notary service will do).

Appending and chaining are two steps. A state change's transaction only INSERTs its entry
(`seq`, `prev_hash`, `hash` still NULL) — no lock, so appends from concurrent requests never
queue behind one another (a global lock held to commit capped a service at ~70 state
changes/s). Each service runs `chain_forever`: every `interval` it takes a try-lock (one
chainer per database, whichever instance gets it), gives the committed unchained entries the
next contiguous `seq` in insertion order and hashes them onto the head. An entry is thus
chained within about one interval of its commit; `verify` and the entries endpoint chain
first, so they never see a committed entry unchained. What that window leaves open — a
database administrator editing an entry in the fraction of a second before it is chained —
is stated here rather than hidden.

CLI: `python -m libs.common.audit verify <service>|all [--url URL]` (exit 1 on a broken chain).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import allow
from libs.common.logging import correlation_id

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_LOCK_KEY = 0x12348A0D17  # advisory lock id: one chainer at a time per database


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        # Insertion order (storage key only: not hashed, gaps from rolled-back appends).
        Column("id", BigInteger, Identity(), primary_key=True),
        # Chain position, contiguous from 1: NULL until the chainer links the entry.
        Column("seq", BigInteger, unique=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("service", String(32), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("roles", JSONB, nullable=False),
        Column("region", String(12), nullable=False),
        Column("ip", String(64)),
        Column("correlation_id", String(64)),
        Column("action", String(200), nullable=False),
        Column("subject", String(200)),
        Column("detail", JSONB, nullable=False),
        Column("prev_hash", String(64)),
        Column("hash", String(64), unique=True),
        Index("ix_audit_log_subject", "subject"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_unchained", "id", postgresql_where=text("seq IS NULL")),
    )


# Same table in every service database: one Table object serves them all.
AUDIT = audit_table(MetaData())


@dataclass
class RequestContext:
    """Filled by the middleware (IP) and by `authorize` (principal) for one request."""

    ip: str | None = None
    actor: str = "anonymous"
    actor_kind: str = "anonymous"
    roles: list[str] = field(default_factory=list)
    region: str = ""


request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


def current_context(service: str) -> RequestContext:
    ctx = request_context.get()
    if ctx is not None:
        return ctx
    # No HTTP request: an event handler or a background job of the service itself.
    return RequestContext(actor=f"system:{service}", actor_kind="system")


def canonical(entry: dict[str, Any]) -> bytes:
    body = dict(entry)
    body.pop("hash", None)
    body.pop("id", None)  # where the row sits in storage is not part of what happened
    at = body["at"]
    body["at"] = at.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


_has_table: dict[str, bool] = {}


async def enabled(session: AsyncSession) -> bool:
    """A database without the audit table (not yet migrated) must not break writes."""
    url = str(getattr(session.bind, "url", ""))
    if url not in _has_table:
        found = (await session.execute(text("SELECT to_regclass('audit_log') IS NOT NULL"))).scalar()
        _has_table[url] = bool(found)
    return _has_table[url]


def new_entry(
    *, service: str, action: str, subject: str | None = None, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The row an append writes (who from the request context, when, what); not yet chained."""
    ctx = current_context(service)
    return {
        "at": datetime.now(UTC),
        "service": service,
        "actor": ctx.actor[:200],
        "actor_kind": ctx.actor_kind,
        "roles": sorted(ctx.roles),
        "region": ctx.region,
        "ip": ctx.ip,
        "correlation_id": correlation_id.get(),
        "action": action[:200],
        "subject": subject[:200] if subject else None,
        "detail": detail or {},
    }


ENTRY_COLUMNS = (
    "at", "service", "actor", "actor_kind", "roles", "region", "ip", "correlation_id", "action", "subject",
    "detail",
)  # fmt: skip


def event_entry(*, service: str, topic: str, key: str | None, event: Any) -> dict[str, Any]:
    """The audit entry of a state change is the event announcing it. The payload's hash binds
    the entry to what was announced (the outbox row can be checked against it)."""
    payload_hash = hashlib.sha256(orjson.dumps(event.data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return new_entry(
        service=service,
        action=event.type,
        subject=event.subject or key,
        detail={"event_id": event.id, "topic": topic, "payload_sha256": payload_hash},
    )


async def record(
    session: AsyncSession,
    *,
    service: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Append one entry inside the caller's transaction (never commits); `chain_pending`
    links it once committed."""
    if not await enabled(session):
        return None
    entry = new_entry(service=service, action=action, subject=subject, detail=detail)
    await session.execute(AUDIT.insert().values(**entry))
    return entry


async def chain_pending(session: AsyncSession, *, limit: int = 5000) -> int:
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
    """The service's chainer task (one per instance; the try-lock keeps it to one per database)."""
    while True:
        try:
            while await chain_now(sessionmaker) >= 5000:
                pass  # a backlog: keep going without sleeping
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be restarting: try again next interval
            log.warning("audit chaining failed: %s", exc)
        await asyncio.sleep(interval)


async def record_unmasked_read(
    session: AsyncSession, *, service: str, subject: str, fields: list[str], reason: str | None = None
) -> None:
    """Call from every endpoint that returns an unmasked phone or ID number (PIPL Art 51)."""
    await record(
        session,
        service=service,
        action="pii.unmasked_read",
        subject=subject,
        detail={"fields": sorted(fields), "reason": reason or ""},
    )


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
    """Recompute the chain; the first mismatch names the entry that was edited, removed or moved."""
    while await chain_pending(session) >= 5000:  # whatever is committed gets linked first
        await session.commit()
    await session.commit()
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


AUDIT_POLICY = {
    "GET /v1/audit/verify": allow("admin"),
    "GET /v1/audit/entries": allow("admin"),
}


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    verify_example = {"ok": True, "entries": 1824, "head_hash": "9f2c…e1", "problems": []}
    entry_example = {
        "seq": 1824,
        "at": "2026-11-24T09:30:00+00:00",
        "actor": "op_140430",
        "action": "cn.lawline.workorder.created.v1",
        "subject": "6f1c…",
        "ip": "10.0.3.7",
        "correlation_id": "5b0e…",
        "prev_hash": "a1…",
        "hash": "9f2c…e1",
    }

    @router.get(
        "/verify",
        summary="Check this service's audit chain (edited, deleted or reordered entries)",
        responses={200: {"content": {"application/json": {"example": verify_example}}}},
    )
    async def verify_endpoint(request: Request) -> dict[str, Any]:
        async with request.app.state.rt.sessionmaker() as session:
            return (await verify(session)).as_dict()

    @router.get(
        "/entries",
        summary="Latest audit entries, newest first",
        responses={200: {"content": {"application/json": {"example": [entry_example]}}}},
    )
    async def entries(
        request: Request,
        subject: str | None = Query(None, max_length=200),
        before_seq: int | None = Query(
            None, ge=1, le=2**63 - 1, description="keyset pagination: entries older than this"
        ),
        limit: int = Query(50, ge=1, le=500),
    ) -> list[dict[str, Any]]:
        await chain_now(request.app.state.rt.sessionmaker)
        q = select(AUDIT).order_by(AUDIT.c.seq.desc().nulls_last(), AUDIT.c.id.desc()).limit(limit)
        if subject:
            q = q.where(AUDIT.c.subject == subject)
        if before_seq:
            q = q.where(AUDIT.c.seq < before_seq)
        async with request.app.state.rt.sessionmaker() as session:
            rows = (await session.execute(q)).mappings().all()
        return [{k: v for k, v in r.items() if k != "id"} | {"at": r["at"].isoformat()} for r in rows]

    return router


def _main(argv: list[str] | None = None) -> int:
    import argparse

    from libs.common.config import SERVICES, service_database_url
    from libs.common.db import make_engine, make_sessionmaker

    parser = argparse.ArgumentParser(prog="python -m libs.common.audit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check audit chains; exit 1 if any is broken")
    v.add_argument("service", help="a service name, or 'all'")
    v.add_argument("--url", help="database URL (default: the service's configured database)")
    args = parser.parse_args(argv)
    names = list(SERVICES) if args.service == "all" else [args.service]

    async def one(name: str) -> Verification:
        engine = make_engine(args.url or service_database_url(name), pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                return await verify(session)
        finally:
            await engine.dispose()

    ok = True
    for name in names:
        outcome = asyncio.run(one(name))
        ok &= outcome.ok
        print(orjson.dumps({"service": name, **outcome.as_dict()}).decode())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(_main())
