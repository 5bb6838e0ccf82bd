"""Retention of the delivery tables on the real database: published outbox rows go after the
republish window and inbox rows after the redelivery window, in batches, logged (and, for the
inbox, audited); unpublished and recent rows stay, and the inbox never keeps less than a broker
reset can redeliver."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta

import asyncpg
from sqlalchemy import text

from libs.common.config import CommonSettings
from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker
from libs.common.inbox import min_inbox_retention, purge_forever, purge_once
from libs.common.outbox import OutboxRelay
from services.intake.models import inbox


async def _outbox_row(conn: asyncpg.Connection, *, created_days: float, published_days: float | None) -> str:
    event_id = uuid.uuid4().hex
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, event, created_at, published_at) "
        "VALUES ($1, 'lawline.workorder', '140430', $2::jsonb, now() - make_interval(secs => $3), "
        "now() - make_interval(secs => $4))",
        event_id,
        json.dumps({"id": event_id}),
        created_days * 86400,
        None if published_days is None else published_days * 86400,
    )
    return event_id


async def test_published_outbox_rows_go_after_the_window_unpublished_and_recent_stay(infra, caplog):
    url = await infra.fresh_database("intake", seed=False)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    relay = OutboxRelay(
        dsn=asyncpg_dsn(url),
        service="intake",
        producer=None,  # type: ignore[arg-type]  # purging sends nothing
        bootstrap="",
        topics=[],
        retention=timedelta(days=7),
    )
    try:
        old = [await _outbox_row(conn, created_days=9, published_days=8) for _ in range(5)]
        recent = await _outbox_row(conn, created_days=9, published_days=6)  # still republishable
        waiting = await _outbox_row(conn, created_days=30, published_days=None)  # never sent: kept
        fresh = await _outbox_row(conn, created_days=0, published_days=None)
        await relay._connect()
        with caplog.at_level(logging.INFO, logger="libs.common.outbox"):
            assert await relay.purge_published(batch=2) == 5  # three batches: 2, 2, 1
        left = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM outbox")}
        assert left == {recent, waiting, fresh} and not left & set(old)
        assert relay.purged == 5
        assert "purged 5 outbox rows published more than 7 days" in caplog.text
        assert await relay.purge_published() == 0  # nothing more to do
    finally:
        await relay.close()
        await conn.close()


async def _inbox_rows(sm, n: int, *, days: float) -> list[str]:
    ids = [uuid.uuid4().hex for _ in range(n)]
    async with sm() as s, s.begin():
        for event_id in ids:
            await s.execute(
                text(
                    "INSERT INTO inbox (event_id, event_type, received_at) "
                    "VALUES (:id, 'cn.lawline.test.v1', now() - make_interval(secs => :secs))"
                ),
                {"id": event_id, "secs": days * 86400},
            )
    return ids


async def _inbox_ids(sm) -> set[str]:
    async with sm() as s:
        return set((await s.execute(text("SELECT event_id FROM inbox"))).scalars())


async def test_old_inbox_rows_go_in_batches_recent_stay_and_the_purge_is_audited(infra, caplog):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    try:
        old = await _inbox_rows(sm, 5, days=31)
        kept = await _inbox_rows(sm, 2, days=29) + await _inbox_rows(sm, 1, days=0)
        with caplog.at_level(logging.INFO, logger="libs.common.inbox"):
            n = await purge_once(sm, inbox, retention=timedelta(days=30), service="intake", batch=2)
        assert n == 5
        assert await _inbox_ids(sm) == set(kept) and not set(old) & await _inbox_ids(sm)
        assert "purged 5 inbox rows" in caplog.text
        async with sm() as s:
            entry = (
                await s.execute(text("SELECT actor, detail FROM audit_log WHERE action = 'inbox.purged'"))
            ).one()
        assert (
            entry.actor == "system:intake" and entry.detail["rows"] == 5 and entry.detail["table"] == "inbox"
        )
        assert await purge_once(sm, inbox, retention=timedelta(days=30), service="intake") == 0
        async with sm() as s:  # an empty pass leaves no audit entry
            count = await s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'inbox.purged'"))
            assert count.scalar() == 1
    finally:
        await engine.dispose()


async def test_the_inbox_keeps_what_a_broker_reset_can_redeliver_whatever_it_is_told(infra, caplog):
    """Told to keep a day, with a week of outbox retention: a broker lost now would bring back
    rows published up to 7 days ago, which then stay in the new log up to 7 more days — so the
    inbox keeps 15 days (2 × 7 + 1) and warns."""
    assert min_inbox_retention(timedelta(days=7)) == timedelta(days=15)
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    try:
        redeliverable = await _inbox_rows(sm, 2, days=10)
        gone = await _inbox_rows(sm, 2, days=16)
        settings = CommonSettings(inbox_retention_hours=24, outbox_retention_hours=168)
        with caplog.at_level(logging.INFO, logger="libs.common.inbox"):
            task = asyncio.create_task(purge_forever(sm, inbox, "intake", settings, every=0.05))
            for _ in range(100):
                if not set(gone) & await _inbox_ids(sm):
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert await _inbox_ids(sm) == set(redeliverable)
        assert "shorter than a broker reset can redeliver" in caplog.text

        # 0: keep every event id for good (the task ends at once, nothing deleted).
        await purge_forever(sm, inbox, "intake", CommonSettings(inbox_retention_hours=0))
        assert await _inbox_ids(sm) == set(redeliverable)
    finally:
        await engine.dispose()


async def test_the_purges_have_their_indexes(infra):
    url = await infra.fresh_database("intake", seed=False)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        names = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes")}
    finally:
        await conn.close()
    assert {"ix_inbox_received_at", "ix_outbox_published"} <= names
