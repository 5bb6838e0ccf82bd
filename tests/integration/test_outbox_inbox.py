"""Outbox relay and inbox consumer against the real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select, text

from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker
from libs.common.events import intake as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.handlers import Handlers
from libs.common.inbox import InboxConsumer
from libs.common.kafka import ensure_topics, make_consumer, make_producer
from libs.common.outbox import OutboxRelay, enqueue
from services.intake.models import inbox, outbox


def _event() -> Envelope:
    payload = ev.WorkOrderClosedV1(
        work_order_id=str(uuid.uuid4()),
        number="LW1",
        county_code="140403",
        reason="test",
        closed_at=datetime.now(UTC),
    )
    return make_event(ev.WORKORDER_CLOSED, source=ev.SOURCE, payload=payload, correlation_id="corr-1")


@pytest.fixture
async def db(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=4)
    yield url, make_sessionmaker(engine)
    await engine.dispose()


async def _read(bootstrap: str, topic: str, n: int, timeout: float = 20.0) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < n and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


def _notify_only_relay(infra, url: str, producer, topic: str) -> OutboxRelay:
    """A relay whose safety poll (30 s) is longer than any test waits: only NOTIFY wakes it."""
    return OutboxRelay(
        dsn=asyncpg_dsn(url),
        service="intake",
        producer=producer,
        bootstrap=infra.bootstrap,
        topics=[topic],
        poll_seconds=30,
    )


async def test_committed_event_is_published_once_and_rolled_back_one_never(infra, db):
    url, sessions = db
    topic = f"t.outbox.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic], partitions=3)
    kept, dropped = _event(), _event()
    async with sessions() as s, s.begin():
        await enqueue(s, outbox, service="intake", topic=topic, key="140403", event=kept)
    with pytest.raises(RuntimeError):
        async with sessions() as s, s.begin():
            await enqueue(s, outbox, service="intake", topic=topic, key="140403", event=dropped)
            raise RuntimeError("the state change failed: its event must vanish with it")

    producer = make_producer(infra.bootstrap)
    await producer.start()
    relay = _notify_only_relay(infra, url, producer, topic)
    task = asyncio.create_task(relay.run())
    try:
        records = await _read(infra.bootstrap, topic, 1)
        assert [dict(r.headers)["ce_id"].decode() for r in records] == [kept.id]
        assert records[0].key == b"140403"
        # A second event: the NOTIFY at commit wakes the relay well before its 30 s poll.
        later = _event()
        started = asyncio.get_running_loop().time()
        async with sessions() as s, s.begin():
            await enqueue(s, outbox, service="intake", topic=topic, key="140403", event=later)
        records = await _read(infra.bootstrap, topic, 2)
        assert {dict(r.headers)["ce_id"].decode() for r in records} == {kept.id, later.id}
        assert asyncio.get_running_loop().time() - started < 10
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.close()
        await producer.stop()
    async with sessions() as s:
        unpublished = await s.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        assert unpublished == 0
        assert await s.scalar(select(func.count()).select_from(outbox)) == 2


async def test_rows_committed_while_the_relay_drains_are_sent_at_once_without_empty_drains(infra, db):
    """The wake is cleared before a drain, so a row committed during one is never left for the
    (here 30 s) safety poll; and a drain that found less than a batch is the last one."""
    url, sessions = db
    topic = f"t.outbox.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic], partitions=3)
    producer = make_producer(infra.bootstrap)
    await producer.start()
    relay = _notify_only_relay(infra, url, producer, topic)
    task = asyncio.create_task(relay.run())
    try:
        events = [_event() for _ in range(60)]

        async def commit(event: Envelope) -> None:
            async with sessions() as s, s.begin():
                await enqueue(s, outbox, service="intake", topic=topic, key="140403", event=event)

        started = asyncio.get_running_loop().time()
        for i in range(0, len(events), 3):  # three at a time, 60 commits in well under a second
            await asyncio.gather(*(commit(e) for e in events[i : i + 3]))
        records = await _read(infra.bootstrap, topic, len(events))
        assert {dict(r.headers)["ce_id"].decode() for r in records} == {e.id for e in events}
        assert asyncio.get_running_loop().time() - started < 10  # NOTIFY, never the 30 s poll
        assert relay.published == len(events)
        # One commit at a time, each sent before the next: one drain each, none empty (before,
        # every drain that sent something was followed by an empty one to prove there was no more).
        empty_before = relay.empty_drains
        for n in range(1, 11):
            await commit(_event())
            for _ in range(200):
                if relay.published == len(events) + n:
                    break
                await asyncio.sleep(0.01)
        assert relay.published == len(events) + 10
        assert relay.empty_drains - empty_before <= 1, relay.empty_drains - empty_before
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.close()
        await producer.stop()


async def _consume_with(
    infra, sessions, topic: str, handler, expect: int, dlq: str, handlers=None
) -> InboxConsumer:
    producer = make_producer(infra.bootstrap)
    await producer.start()
    consumer = InboxConsumer(
        consumer=make_consumer(infra.bootstrap, [topic], f"t-{uuid.uuid4().hex}"),
        sessionmaker=sessions,
        inbox=inbox,
        handlers=handlers if handlers is not None else {ev.WORKORDER_CLOSED: handler},
        producer=producer,
        dead_letter_topic=dlq,
        max_attempts=3,
        service="test",
    )
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(200):
            if consumer.processed + consumer.duplicates + consumer.dead_lettered >= expect:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    return consumer


async def test_same_event_delivered_twice_has_one_effect(infra, db):
    _, sessions = db
    topic = f"t.inbox.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic, topic + ".dlq"], partitions=1)
    async with sessions() as s, s.begin():
        await s.execute(text("CREATE TABLE effects (event_id text)"))

    async def handler(session, event):
        await session.execute(text("INSERT INTO effects VALUES (:id)"), {"id": event.id})

    event = _event()
    producer = make_producer(infra.bootstrap)
    await producer.start()
    headers, value = event.to_kafka()
    for _ in range(2):  # the broker hands us the same CloudEvent twice (a producer retry, a replay …)
        await producer.send_and_wait(topic, value=value, key=b"140403", headers=headers)
    await producer.stop()

    consumer = await _consume_with(infra, sessions, topic, handler, expect=2, dlq=topic + ".dlq")
    assert (consumer.processed, consumer.duplicates) == (1, 1)
    async with sessions() as s:
        assert (await s.execute(text("SELECT count(*) FROM effects"))).scalar() == 1


async def test_poison_message_goes_to_dead_letter_with_its_error(infra, db):
    _, sessions = db
    topic = f"t.poison.{uuid.uuid4().hex[:8]}"
    dlq = topic + ".dlq"
    await ensure_topics(infra.bootstrap, [topic, dlq], partitions=1)
    attempts = []

    async def handler(session, event):
        attempts.append(event.id)
        raise ValueError("cannot handle this one")

    event = _event()
    producer = make_producer(infra.bootstrap)
    await producer.start()
    headers, value = event.to_kafka()
    await producer.send_and_wait(topic, value=value, key=b"140403", headers=headers)
    await producer.stop()

    consumer = await _consume_with(infra, sessions, topic, handler, expect=1, dlq=dlq)
    assert consumer.dead_lettered == 1 and len(attempts) == 3
    dead = await _read(infra.bootstrap, dlq, 1)
    h = dict(dead[0].headers)
    assert h["ce_id"].decode() == event.id
    assert "cannot handle this one" in h["lawline_error"].decode()
    assert h["lawline_original_topic"].decode() == topic
    async with sessions() as s:  # the failed attempts left no inbox mark: a replay will be processed
        assert await s.scalar(select(func.count()).select_from(inbox)) == 0


async def test_a_record_its_handler_rules_out_never_opens_a_transaction(infra, db):
    """Handlers.on(..., unless=): the classification made at filing is none of dispatch's
    business — skipped before the inbox table; the operator's one after it is handled."""
    _, sessions = db
    topic = f"t.inbox.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic, topic + ".dlq"], partitions=1)
    async with sessions() as s, s.begin():
        await s.execute(text("CREATE TABLE effects (event_id text)"))

    async def handler(session, event, data: ev.WorkOrderClassifiedV2):
        await session.execute(text("INSERT INTO effects VALUES (:id)"), {"id": event.id})

    example = ev.WorkOrderClassifiedV2.model_json_schema()["examples"][0]
    events = [
        make_event(
            ev.WORKORDER_CLASSIFIED,
            source=ev.SOURCE,
            payload=ev.WorkOrderClassifiedV2.model_validate({**example, "method": method}),
        )
        for method in ("auto", "operator")
    ]
    producer = make_producer(infra.bootstrap)
    await producer.start()
    for event in events:  # in this order, in one partition: the first is passed over
        headers, value = event.to_kafka()
        await producer.send_and_wait(topic, value=value, key=b"140403", headers=headers)
    await producer.stop()

    handlers = Handlers().on(ev.WorkOrderClassifiedV2, handler, unless=lambda d: d.method == "auto")
    consumer = await _consume_with(
        infra, sessions, topic, None, expect=1, dlq=topic + ".dlq", handlers=handlers
    )
    assert (consumer.processed, consumer.duplicates, consumer.dead_lettered) == (1, 0, 0)
    async with sessions() as s:
        assert (await s.execute(text("SELECT event_id FROM effects"))).scalars().all() == [events[1].id]
        assert (await s.execute(select(inbox.c.event_id))).scalars().all() == [events[1].id]
