"""Anonymising finished orders' personal fields after the retention period (PIPL Art 19, 47(1);
the period in libs.common.retention), and the same anonymising for a citizen's erasure request
(services/intake/rights.py).

What goes: the requester's name, phone, encrypted ID number and its blind index, the other
parties' keyed hashes (dispatch no longer needs them for conflict checks of a matter this old),
the free text of the matter (description, rating comment, channel details: they name people).
What stays: the statistics columns (type, domain, region, channel, status, dates, rating score,
urge count) and the order number, so that figures of past years do not change.

An anonymised order is recognised by its empty phone (a phone is required to file, so no live
order has one). Batches take `FOR UPDATE SKIP LOCKED`: a row another transaction is changing is
left for the next run, never waited on, and two replicas running the job share the work."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import audit
from libs.common.clock import Clock
from libs.common.periodic import every
from libs.common.retention import RetentionSettings, anonymise_before

log = logging.getLogger(__name__)

SERVICE = "intake"
ANONYMISED_NAME = "（已匿名）"
ANONYMISED_TEXT = "（个人信息已按保存期限删除）"
FINISHED = ("closed", "merged", "cancelled")

_SET = (
    "requester_name = :name, requester_phone = '', requester_id_enc = NULL, requester_id_bidx = NULL, "
    "party_indexes = '[]'::jsonb, description = :text, rating_comment = NULL, "
    "channel_details = '{}'::jsonb, updated_at = :now"
)
_EXPIRED = text(
    f"UPDATE work_orders SET {_SET} WHERE id IN (SELECT id FROM work_orders "
    "WHERE status IN ('closed', 'merged', 'cancelled') AND requester_phone <> '' "
    "AND coalesce(closed_at, updated_at) < :before "
    "ORDER BY coalesce(closed_at, updated_at) LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING id"
)
_THESE = text(
    f"UPDATE work_orders SET {_SET} WHERE id = ANY(:ids) "
    "AND status IN ('closed', 'merged', 'cancelled') AND requester_phone <> '' RETURNING id"
)


def _params(now: datetime) -> dict[str, object]:
    return {"name": ANONYMISED_NAME, "text": ANONYMISED_TEXT, "now": now}


async def anonymise_expired(session: AsyncSession, *, before: datetime, now: datetime, limit: int) -> int:
    """One batch in the caller's transaction; how many orders it anonymised."""
    result = await session.execute(_EXPIRED, {**_params(now), "before": before, "limit": limit})
    return len(result.all())


async def anonymise_orders(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, now: datetime
) -> list[uuid.UUID]:
    """These finished orders (an erasure request), in the caller's transaction; the ids done."""
    result = await session.execute(_THESE, {**_params(now), "ids": list(ids)})
    return [row[0] for row in result.all()]


async def purge_once(
    sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, policy: RetentionSettings
) -> int:
    """One run: batches until none is full, each its own transaction, then one audit entry with
    the count (also when nothing was due: the record shows the job ran)."""
    now = clock.now()
    before = anonymise_before(now, policy)
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            n = await anonymise_expired(session, before=before, now=now, limit=policy.batch)
        total += n
        if n < policy.batch:
            break
    detail = {
        "data_class": "closed_order_personal_fields",
        "orders": total,
        "closed_before": before.isoformat(),
        "retention_days": policy.closed_order_personal_days,
    }
    async with sessionmaker() as session, session.begin():
        await audit.record(session, service=SERVICE, action="retention.anonymised", detail=detail)
    if total:
        log.info("anonymised %d orders closed before %s", total, before.isoformat())
    return total


async def purge_loop(
    sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, policy: RetentionSettings
) -> None:
    """The service's retention task (a failed run is logged and the next one comes, periodic).
    The first run one interval after start: a replica restarted in a crash loop does not rescan
    the table each time, and a test's fresh service writes no audit entry of its own."""

    async def run() -> None:
        await purge_once(sessionmaker, clock=clock, policy=policy)

    await every(
        policy.interval_seconds,
        run,
        name="intake retention (anonymise closed orders)",
        jitter=0.1,
        run_first=False,
    )
