"""The inbox consumer handles partitions concurrently and each partition in order; offsets
follow the handled records per partition — real PostgreSQL, real broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select, text

from libs.common.db import make_engine, make_sessionmaker
from libs.common.events import intake as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.inbox import InboxConsumer
from libs.common.kafka import ensure_topics, make_consumer, make_producer
from libs.common.testing.infra import wait_for
from services.intake.models import inbox


@pytest.fixture
async def sessions(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=8)
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        await s.execute(text("CREATE TABLE effects (event_id text, label text)"))
    yield sm
    await engine.dispose()


def _event(label: str) -> Envelope:
    payload = ev.WorkOrderClosedV1(
        work_order_id=str(uuid.uuid4()),
        number=label,
        county_code="140403",
        reason="t",
        closed_at=datetime.now(UTC),
    )
    return make_event(ev.WORKORDER_CLOSED, source=ev.SOURCE, payload=payload)


async def _produce(bootstrap: str, topic: str, events: list[tuple[int, Envelope]]) -> None:
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for partition, event in events:
            headers, value = event.to_kafka()
            await producer.send_and_wait(topic, value=value, partition=partition, headers=headers)
    finally:
        await producer.stop()


async def _topic(infra, partitions: int) -> str:
    name = f"t.lanes.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [name, name + ".dlq"], partitions=partitions)
    return name


def _consumer(infra, sessions, topic: str, handler, group: str = "", **kw) -> InboxConsumer:  # type: ignore[no-untyped-def]
    group = group or f"t-{uuid.uuid4().hex}"
    return InboxConsumer(
        consumer=make_consumer(infra.bootstrap, [topic], group),
        consumer_factory=lambda: make_consumer(infra.bootstrap, [topic], group),
        sessionmaker=sessions,
        inbox=inbox,
        handlers={ev.WORKORDER_CLOSED: handler},
        producer=kw.pop("producer"),
        dead_letter_topic=topic + ".dlq",
        service="test",
        **kw,
    )


async def _effects(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        return list(await s.scalars(text("SELECT label FROM effects ORDER BY ctid")))


async def test_partitions_run_side_by_side_and_each_stays_in_order(infra, sessions):
    topic = await _topic(infra, 2)
    slow = [_event(f"slow-{i}") for i in range(6)]
    fast = _event("fast")
    # Partition 0's first record waits until partition 1's record has been handled: handled
    # one after another (the old consumer), this never finishes.
    other_partition_done = asyncio.Event()
    started: list[str] = []

    async def handler(session, event):  # type: ignore[no-untyped-def]
        label = event.data["number"]
        started.append(label)
        if label == "slow-0":
            await asyncio.wait_for(other_partition_done.wait(), 15)
        elif label.startswith("slow"):
            await asyncio.sleep(0.02)  # room for a second record of this partition to overtake
        await session.execute(text("INSERT INTO effects VALUES (:id, :l)"), {"id": event.id, "l": label})

    async def mark_fast_done() -> bool:
        return "fast" in await _effects(sessions) and (other_partition_done.set() or True)

    await _produce(infra.bootstrap, topic, [(0, e) for e in slow])
    producer = make_producer(infra.bootstrap)
    await producer.start()
    consumer = _consumer(infra, sessions, topic, handler, producer=producer, max_attempts=1)
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: _async("slow-0" in started), timeout=30, what="partition 0 to start")
        await _produce(infra.bootstrap, topic, [(1, fast)])
        await wait_for(mark_fast_done, timeout=30, what="partition 1 handled while partition 0 waits")
        await wait_for(lambda: _count(consumer, 7), timeout=30, what="all seven records")
        assert consumer.dead_lettered == 0
        effects = await _effects(sessions)
        assert [x for x in effects if x.startswith("slow")] == [e.data["number"] for e in slow]
        assert [x for x in started if x.startswith("slow")] == [e.data["number"] for e in slow]
        # Offsets: each partition committed up to its last handled record.
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        await wait_for(lambda: _committed(consumer, tps, [6, 1]), timeout=10, what="offsets")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def test_a_failing_partition_keeps_its_offset_while_others_move_on(infra, sessions):
    topic = await _topic(infra, 2)
    stuck, free = _event("stuck"), _event("free")
    failing = True
    attempts: list[str] = []

    async def handler(session, event):  # type: ignore[no-untyped-def]
        label = event.data["number"]
        attempts.append(label)
        if label == "stuck" and failing:
            raise RuntimeError("the database of this county is having a bad day")
        await session.execute(text("INSERT INTO effects VALUES (:id, :l)"), {"id": event.id, "l": label})

    await _produce(infra.bootstrap, topic, [(0, stuck)])
    producer = make_producer(infra.bootstrap)
    await producer.start()
    # Retries back off 0.1, 0.2, 0.4, 0.8 … s: partition 0 keeps failing for several seconds.
    consumer = _consumer(infra, sessions, topic, handler, producer=producer, max_attempts=7)
    task = asyncio.create_task(consumer.run())
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    try:
        await wait_for(lambda: _async("stuck" in attempts), timeout=30, what="partition 0 to fail once")
        await _produce(infra.bootstrap, topic, [(1, free)])
        await wait_for(lambda: _committed(consumer, [p1], [1]), timeout=5, what="partition 1's offset")
        assert attempts.count("stuck") >= 1 and consumer.processed == 1
        assert await consumer.consumer.committed(p0) in (None, 0)  # still failing: not committed
        failing = False
        await wait_for(lambda: _committed(consumer, [p0], [1]), timeout=20, what="partition 0 after recovery")
        assert consumer.processed == 2 and consumer.dead_lettered == 0
        assert sorted(await _effects(sessions)) == ["free", "stuck"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def test_a_broken_lane_stops_the_consumer_and_a_restart_resumes_after_the_last_handled(infra, sessions):
    topic = await _topic(infra, 1)
    first, poison, last = _event("first"), _event("poison"), _event("last")
    poisoned = True

    async def handler(session, event):  # type: ignore[no-untyped-def]
        if event.data["number"] == "poison" and poisoned:
            raise ValueError("cannot handle this one")
        await session.execute(
            text("INSERT INTO effects VALUES (:id, :l)"), {"id": event.id, "l": event.data["number"]}
        )

    await _produce(infra.bootstrap, topic, [(0, first), (0, poison), (0, last)])
    # The dead letter cannot even be stored (its table is gone: a deterministic failure, not the
    # database being away): the lane itself fails.
    async with sessions() as s, s.begin():
        await s.execute(text("ALTER TABLE dead_letters RENAME TO dead_letters_away"))
    group = f"t-{uuid.uuid4().hex}"
    live = make_producer(infra.bootstrap)
    await live.start()
    consumer = _consumer(infra, sessions, topic, handler, group, producer=live, max_attempts=1)
    try:
        with pytest.raises(Exception):  # noqa: B017 — whatever the missing table raises
            await asyncio.wait_for(consumer.run(), 30)
    finally:
        await live.stop()
        async with sessions() as s, s.begin():
            await s.execute(text("ALTER TABLE dead_letters_away RENAME TO dead_letters"))
    assert await _effects(sessions) == ["first"]  # nothing after the poison ran out of order
    tp = TopicPartition(topic, 0)
    probe = make_consumer(infra.bootstrap, [topic], group)
    await probe.start()
    try:
        assert await probe.committed(tp) == 1  # the handled record's offset survives the failure
    finally:
        await probe.stop()

    poisoned = False
    consumer.producer = make_producer(infra.bootstrap)
    await consumer.producer.start()
    task = asyncio.create_task(consumer.run())  # what the supervisor does: a new consumer, same group
    try:
        await wait_for(lambda: _count(consumer, 3), timeout=30, what="the restart to finish the partition")
        assert await _effects(sessions) == ["first", "poison", "last"]
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(inbox)) == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.producer.stop()


async def _async(value: bool) -> bool:
    return value


async def _count(consumer: InboxConsumer, n: int) -> bool:
    return consumer.processed + consumer.duplicates + consumer.dead_lettered >= n


async def _committed(consumer: InboxConsumer, tps: list[TopicPartition], want: list[int]) -> bool:
    if not consumer.consumer.assignment():
        return False  # not in the group yet
    got = [await consumer.consumer.committed(tp) for tp in tps]
    return got == want


async def test_a_partitions_waiting_records_share_one_transaction_and_a_failure_splits_them(infra, sessions):
    """Under load a lane takes the run of records waiting in its partition in one transaction
    (one commit for all); if one of them fails, none of the run is kept and each record goes
    on its own — the others are handled once, in order, and the bad one is dead-lettered."""
    topic = await _topic(infra, 1)
    events = [_event(f"r{i}") for i in range(8)]
    events.insert(5, _event("poison"))
    transactions: dict[str, int] = {}

    async def handler(session, event):  # type: ignore[no-untyped-def]
        label = event.data["number"]
        transactions[label] = await session.scalar(text("SELECT txid_current()"))
        if label == "poison":
            raise ValueError("cannot handle this one")
        await session.execute(text("INSERT INTO effects VALUES (:id, :l)"), {"id": event.id, "l": label})

    await _produce(infra.bootstrap, topic, [(0, e) for e in events])  # all waiting before the start
    producer = make_producer(infra.bootstrap)
    await producer.start()
    consumer = _consumer(infra, sessions, topic, handler, producer=producer, max_attempts=1)
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: _count(consumer, 9), timeout=30, what="nine records")
        assert await _effects(sessions) == [f"r{i}" for i in range(8)]  # once each, in order
        assert consumer.dead_lettered == 1 and consumer.processed == 8
        tp = TopicPartition(topic, 0)
        await wait_for(lambda: _committed(consumer, [tp], [9]), timeout=10, what="the offset")
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(inbox)) == 8
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()

    # And without a poison record the run is one transaction.
    topic = await _topic(infra, 1)
    transactions.clear()
    await _produce(infra.bootstrap, topic, [(0, _event(f"s{i}")) for i in range(6)])
    producer = make_producer(infra.bootstrap)
    await producer.start()
    consumer = _consumer(infra, sessions, topic, handler, producer=producer, max_attempts=1)
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: _count(consumer, 6), timeout=30, what="six records")
        assert len(set(transactions.values())) == 1, transactions
        assert (await _effects(sessions))[-6:] == [f"s{i}" for i in range(6)]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
