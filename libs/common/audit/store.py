"""The audit table and appending to it, inside the caller's transaction (never commits).

An append only INSERTs its entry (`seq`, `prev_hash`, `hash` still NULL): no lock, so appends
from concurrent requests never queue behind one another. Linking is libs.common.audit.chain.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit_context import current_context
from libs.common.crypto import crypto_mode
from libs.common.logging import correlation_id


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

ENTRY_COLUMNS = (
    "at", "service", "actor", "actor_kind", "roles", "region", "ip", "correlation_id", "action", "subject",
    "detail",
)  # fmt: skip

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


def event_entry(*, service: str, topic: str, key: str | None, event: Any) -> dict[str, Any]:
    """The audit entry of a state change is the event announcing it. The payload's hash binds
    the entry to what was announced (the outbox row can be checked against it)."""
    body = orjson.dumps(event.data, option=orjson.OPT_SORT_KEYS)
    # The field names its algorithm: SM3 under LAWLINE_CRYPTO=sm (GB/T 39786-2021), SHA-256 otherwise.
    digest = (
        {"payload_sm3": hashlib.new("sm3", body).hexdigest()}
        if crypto_mode() == "sm"
        else {"payload_sha256": hashlib.sha256(body).hexdigest()}
    )
    return new_entry(
        service=service,
        action=event.type,
        subject=event.subject or key,
        detail={"event_id": event.id, "topic": topic} | digest,
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
