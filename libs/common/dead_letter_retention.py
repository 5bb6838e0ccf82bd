"""Resolved dead letters are deleted `dead_letter_days` after they were resolved (PIPL Art 19:
a dead letter holds the whole event, names included, and once replayed or discarded its purpose
— fixing the cause — is achieved). Open ones are never deleted: they are work not yet done.
The replay or discard itself stays in the audit trail (libs.common.deadletters audits both).

Batches take `FOR UPDATE SKIP LOCKED` (a replay in progress is skipped, not waited on); a run
that deleted anything writes one audit entry with the count."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import audit
from libs.common.clock import Clock
from libs.common.orm import rowcount
from libs.common.periodic import every
from libs.common.retention import RetentionSettings

log = logging.getLogger(__name__)

_PURGE = text(
    "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters "
    "WHERE status <> 'open' AND resolved_at < :before ORDER BY resolved_at LIMIT :limit "
    "FOR UPDATE SKIP LOCKED)"
)


async def purge_once(
    sessionmaker: async_sessionmaker[AsyncSession], *, service: str, now: datetime, policy: RetentionSettings
) -> int:
    before = now - timedelta(days=policy.dead_letter_days)
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            n = rowcount(await session.execute(_PURGE, {"before": before, "limit": policy.batch}))
        total += n
        if n < policy.batch:
            break
    if total:
        detail = {"data_class": "dead_letters", "rows": total, "resolved_before": before.isoformat()}
        async with sessionmaker() as session, session.begin():
            await audit.record(session, service=service, action="dead_letters.purged", detail=detail)
        log.info("%s: purged %d dead letters resolved before %s", service, total, before.isoformat())
    return total


async def purge_forever(
    sessionmaker: async_sessionmaker[AsyncSession], *, service: str, clock: Clock, policy: RetentionSettings
) -> None:
    async def run() -> None:
        await purge_once(sessionmaker, service=service, now=clock.now(), policy=policy)

    await every(
        policy.interval_seconds, run, name=f"{service}: dead-letter purge", jitter=0.1, run_first=False
    )
