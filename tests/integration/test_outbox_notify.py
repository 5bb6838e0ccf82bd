"""The outbox row and its NOTIFY travel together: written in the caller's transaction,
announced exactly at commit, never for a rollback (libs/common/outbox.enqueue)."""

import asyncio

import asyncpg
import orjson
from pydantic import BaseModel

from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker
from libs.common.events.envelope import make_event
from libs.common.outbox import enqueue, notify_channel
from services.intake.models import outbox


class Ping(BaseModel):
    work_order_id: str
    text: str


async def test_enqueue_notifies_at_commit_and_not_on_rollback(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    listener = await asyncpg.connect(asyncpg_dsn(url))
    heard: asyncio.Queue = asyncio.Queue()
    await listener.add_listener(notify_channel("intake"), lambda *args: heard.put_nowait(args[2:]))
    try:
        event = make_event(
            "cn.lawline.test.v1", source="/test", payload=Ping(work_order_id="w1", text="工单 ✓")
        )
        async with sessions() as session:
            async with session.begin():
                await enqueue(session, outbox, service="intake", topic="t", key="140430", event=event)
                await asyncio.sleep(0.2)
                assert heard.empty()  # nothing before the commit
            assert await asyncio.wait_for(heard.get(), 5) == ("outbox_intake", "")  # channel, empty payload
        row = await listener.fetchrow(
            "SELECT topic, key, event, published_at FROM outbox WHERE event_id = $1", event.id
        )
        assert row["topic"] == "t" and row["key"] == "140430" and row["published_at"] is None
        assert orjson.loads(row["event"])["data"] == {"work_order_id": "w1", "text": "工单 ✓"}

        lost = make_event("cn.lawline.test.v1", source="/test", payload=Ping(work_order_id="w2", text="x"))
        async with sessions() as session:
            tx = await session.begin()
            await enqueue(session, outbox, service="intake", topic="t", key=None, event=lost)
            await tx.rollback()
        await asyncio.sleep(0.3)
        assert heard.empty()
        assert await listener.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", lost.id) == 0
    finally:
        await listener.close()
        await engine.dispose()
