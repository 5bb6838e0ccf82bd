"""A broker that comes back empty (the embedded broker after a restart; a Kafka cluster rebuilt
or after an unclean leader election) loses nothing of lawline's: topics come back with their
partition count, relays republish their window, consumers read every partition again (their
inbox makes that harmless) and never commit an offset of the old log into the new one.
Each test has a private broker and restarts it empty on the same port."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from sqlalchemy import text

from libs.common.broker_watch import BrokerWatch
from libs.common.db import make_engine, make_sessionmaker
from libs.common.inbox import InboxConsumer
from libs.common.kafka import ensure_topics, make_consumer, make_producer
from libs.common.testing.infra import serve, wait_for
from services.intake.models import inbox
from tests.integration.pipeline_helpers import (
    CHECK_SECONDS,
    Process,
    ce_ids,
    closed_event,
    commit_offsets,
    committed_offsets,
    effects,
    enqueue_events,
    log_ends,
    make_effects_table,
    partition_counts,
    read_topic,
    recording_handler,
    state,
    supervise,
)

COUNTIES = ("140403", "140404", "140405")


@pytest.fixture
async def db(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=8)
    sessions = make_sessionmaker(engine)
    await make_effects_table(sessions)
    yield url, sessions
    await engine.dispose()


def _name() -> str:
    return f"t.reset.{uuid.uuid4().hex[:8]}"


async def test_topics_come_back_with_their_partition_count_and_are_never_auto_created(private_broker):
    bootstrap, topics = private_broker.bootstrap, [_name(), _name()]
    epoch_topic = topics[0] + ".epoch"

    def new_watch() -> BrokerWatch:
        return BrokerWatch(bootstrap, topics, epoch_topic=epoch_topic, partitions=3, interval=CHECK_SECONDS)

    watch = new_watch()
    task = asyncio.create_task(watch.run())
    try:
        await asyncio.wait_for(watch.known.wait(), 20)
        first = watch.epoch
        assert await partition_counts(bootstrap, topics) == {t: 3 for t in topics}

        private_broker.restart()
        # The running watch notices the new broker: another epoch, the topics made again.
        await wait_for(
            lambda: _async(watch.epoch not in (None, first)), timeout=15, what="the watch to see a new epoch"
        )
        assert watch.changes == 1 and watch.mismatched == {}
        assert await partition_counts(bootstrap, topics) == {t: 3 for t in topics}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watch.close()

    # No watch running now: a producer that looks a topic up on an empty broker must wait for
    # it, not have the broker auto-create it with the broker's default count (4 on Tansu).
    private_broker.restart()
    producer = make_producer(bootstrap)
    await producer.start()
    watch = new_watch()
    task = None
    try:
        send = asyncio.create_task(producer.send_and_wait(topics[0], b"early", key=b"140403"))
        await asyncio.sleep(1.5)
        assert not send.done(), send
        assert await partition_counts(bootstrap, topics) == {}
        task = asyncio.create_task(watch.run())  # whoever checks first makes them, with 3 partitions
        sent = await asyncio.wait_for(send, 10)
        assert sent.topic == topics[0]
        assert await partition_counts(bootstrap, topics) == {t: 3 for t in topics}
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await watch.close()
        await producer.stop()


async def _async(value):  # type: ignore[no-untyped-def]
    return value


async def test_a_topic_with_another_partition_count_is_reported_and_readyz_is_red(
    infra, private_broker, fast_settings
):
    """Keys map to other partitions than lawline expects: per-county order is gone. The watch
    must not hide it (nor "fix" it: raising a count moves keys), and /readyz names it."""
    from libs.common.events.topics import topic
    from services.identity.main import create_app

    fast_settings(broker_check_seconds=CHECK_SECONDS)
    await ensure_topics(private_broker.bootstrap, [topic("dispatch")], partitions=2)
    url = await infra.fresh_database("identity")
    svc = await serve("identity", create_app(db_url=url, bootstrap=private_broker.bootstrap))
    try:
        async with svc.client() as c:

            async def broker_check():
                r = await c.get("/readyz")
                body = r.json()
                return (
                    (r.status_code, body)
                    if body["checks"]["broker"] != "unreachable: not checked yet"
                    else None
                )

            status, body = await wait_for(broker_check, timeout=15, what="the first broker check")
        assert status == 503
        assert body["checks"]["broker"] == f"topic partitions differ from 12: {topic('dispatch')} has 2"
        assert svc.rt.watch.mismatched == {topic("dispatch"): 2}
        # Reported, not changed: the topic keeps its two partitions; the others got 12.
        counts = await partition_counts(private_broker.bootstrap, [topic("dispatch"), topic("workorder")])
        assert counts == {topic("dispatch"): 2, topic("workorder"): 12}
    finally:
        await svc.stop()


async def _watch_commits(bootstrap: str, topic: str, group: str, seen: list) -> None:
    """Sample the group's committed offsets against the log's ends, for as long as it runs."""
    while True:
        with contextlib.suppress(Exception):
            committed = await committed_offsets(bootstrap, topic, group, 3)
            ends = await log_ends(bootstrap, topic)  # read after: the log only grows meanwhile
            seen.append((committed, ends))
        await asyncio.sleep(0.2)


async def test_events_before_during_and_after_a_reset_are_all_handled_once(infra, db, private_broker):
    url, sessions = db
    topic, group = _name(), f"g-{uuid.uuid4().hex[:8]}"
    record, slow_started = recording_handler(), asyncio.Event()

    async def handle(session, event):  # type: ignore[no-untyped-def]
        if event.data["number"] == "slow":  # still in hand when the broker goes: done during the outage
            slow_started.set()
            await asyncio.sleep(2.0)
        await record(session, event)

    proc = await Process(private_broker.bootstrap, url, sessions, topic, group, handle).start()
    samples: list = []
    sampler = None
    try:
        before = [(COUNTIES[i % 3], closed_event(COUNTIES[i % 3], f"before-{i}")) for i in range(6)]
        await enqueue_events(sessions, topic, before)
        await wait_for(lambda: _count(sessions, 6), timeout=30, what="the events before the reset")
        old_epoch = proc.watch.epoch
        slow = [(COUNTIES[0], closed_event(COUNTIES[0], "slow"))]
        await enqueue_events(sessions, topic, slow)
        await asyncio.wait_for(slow_started.wait(), 10)

        private_broker.stop()
        during = [(COUNTIES[i % 3], closed_event(COUNTIES[i % 3], f"during-{i}")) for i in range(3)]
        await enqueue_events(sessions, topic, during)  # the service keeps accepting work
        await asyncio.sleep(1.0)
        private_broker.start()
        sampler = asyncio.create_task(_watch_commits(private_broker.bootstrap, topic, group, samples))
        after = [(COUNTIES[i % 3], closed_event(COUNTIES[i % 3], f"after-{i}")) for i in range(3)]
        await enqueue_events(sessions, topic, after)

        await wait_for(lambda: _count(sessions, 13), timeout=60, what="every event after the reset")
        expected = [e.id for _, e in before + slow + during + after]
        done = await effects(sessions)
        assert sorted(i for i, _ in done) == sorted(expected)  # each handled, none twice
        assert proc.watch.changes == 1 and proc.watch.epoch != old_epoch
        # The new log holds the events of before the reset again (republished) and the rest.
        assert sorted(set(ce_ids(await read_topic(private_broker.bootstrap, topic)))) == sorted(expected)
        assert proc.relay.republished >= 7
        assert proc.consumer.duplicates >= 7  # seen again, no second effect
        assert await state(sessions, "relay_epoch") == proc.watch.epoch
        assert await state(sessions, f"consumer_epoch:{group}") == proc.watch.epoch

        # Every commit the new broker holds is inside its log, and in the end at its end.
        last: list = []

        async def all_committed():
            ends = await log_ends(private_broker.bootstrap, topic)
            committed = await committed_offsets(private_broker.bootstrap, topic, group, 3)
            committed = {p: off or 0 for p, off in committed.items()}  # None: nothing to commit there
            last[:] = [committed, ends]
            return committed == ends

        with contextlib.suppress(AssertionError):
            await wait_for(all_committed, timeout=15, what="the offsets of every handled record")
        assert last[0] == last[1], f"committed {last[0]}, log ends {last[1]}"
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        assert samples, "no sample of the committed offsets"
        stale = [
            (c, e) for c, e in samples if any(off is not None and off > e.get(p, 0) for p, off in c.items())
        ]
        assert not stale, f"offsets of the old log committed into the new one: {stale[:3]}"
    finally:
        if sampler is not None:
            sampler.cancel()
        await proc.stop()


async def _count(sessions, n: int):  # type: ignore[no-untyped-def]
    async with sessions() as s:
        found = await s.scalar(text("SELECT count(*) FROM effects"))
    return found if found >= n else None


async def test_committed_offset_beyond_the_log_end_reads_the_partition_from_its_start(infra, db):
    """The group's offset belongs to a longer log that no longer exists (a commit made before
    the broker lost its tail): Tansu answers a fetch there with nothing, for ever."""
    _, sessions = db
    topic, group = _name(), f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic, topic + ".dlq"], partitions=3)
    events = [closed_event(label=f"p0-{i}") for i in range(3)]
    producer = make_producer(infra.bootstrap)
    await producer.start()
    try:
        for event in events:
            headers, value = event.to_kafka()
            await producer.send_and_wait(topic, value=value, partition=0, headers=headers)
        await commit_offsets(infra.bootstrap, topic, group, {0: 500})
        consumer = InboxConsumer(
            consumer=make_consumer(infra.bootstrap, [topic], group),
            consumer_factory=lambda: make_consumer(infra.bootstrap, [topic], group),
            sessionmaker=sessions,
            inbox=inbox,
            handlers={events[0].type: recording_handler()},
            producer=producer,
            dead_letter_topic=topic + ".dlq",
            service="test",
        )
        task = asyncio.create_task(supervise(consumer.run))
        try:
            await wait_for(lambda: _count(sessions, 3), timeout=30, what="the partition read from its start")
            assert [label for _, label in await effects(sessions)] == ["p0-0", "p0-1", "p0-2"]
            assert consumer.lanes.replays >= 1

            async def committed_at_end():
                return (await committed_offsets(infra.bootstrap, topic, group, 3))[0] == 3

            await wait_for(committed_at_end, timeout=10, what="offset 3 committed instead of 500")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await producer.stop()


async def test_a_process_started_after_the_reset_republishes_once_and_replays(infra, db, private_broker):
    """The service was down while the broker lost its data: its database still names the old
    epoch (pipeline_state), so the new process repairs; of two replicas exactly one republishes."""
    url, sessions = db
    topic, group = _name(), f"g-{uuid.uuid4().hex[:8]}"
    first = await Process(private_broker.bootstrap, url, sessions, topic, group, recording_handler()).start()
    try:
        old = [(c, closed_event(c, f"old-{c}")) for c in COUNTIES]
        await enqueue_events(sessions, topic, old)
        await wait_for(lambda: _count(sessions, 3), timeout=30, what="the events before the reset")
        old_epoch = first.watch.epoch
    finally:
        await first.stop()
    assert await state(sessions, "relay_epoch") == old_epoch
    assert await state(sessions, f"consumer_epoch:{group}") == old_epoch

    private_broker.restart()
    args = (private_broker.bootstrap, url, sessions, topic, group, recording_handler())
    replicas = [Process(*args), Process(*args, consume=False)]
    try:
        await asyncio.gather(*(p.start() for p in replicas))  # at once: both race to repair
        expected = sorted(e.id for _, e in old)

        async def republished():
            return sorted(set(ce_ids(await read_topic(private_broker.bootstrap, topic)))) == expected

        await wait_for(republished, timeout=20, what="the old events in the new log")
        new_epoch = replicas[0].watch.epoch
        assert new_epoch != old_epoch and replicas[1].watch.epoch == new_epoch
        assert sorted(p.relay.republished for p in replicas) == [0, 3]  # claimed by exactly one
        assert len(await read_topic(private_broker.bootstrap, topic)) == 3  # published once, not twice
        await wait_for(
            lambda: _async(replicas[0].consumer.duplicates >= 3), timeout=30, what="the replayed events"
        )
        assert len(await effects(sessions)) == 3  # no second effect
        assert await state(sessions, "relay_epoch") == new_epoch
        assert await state(sessions, f"consumer_epoch:{group}") == new_epoch

        later = closed_event(COUNTIES[0], "new")
        await enqueue_events(sessions, topic, [(COUNTIES[0], later)])
        await wait_for(lambda: _count(sessions, 4), timeout=20, what="an event after the repair")
    finally:
        for p in replicas:
            await p.stop()


async def test_an_event_the_old_broker_had_but_no_one_consumed_keeps_its_place(infra, db, private_broker):
    """X was acknowledged by the broker, which then died before anyone consumed X; Y, of the
    same county, was accepted during the outage and its first send failed. In the new log X
    must come before Y (per-county order), not after a copy of Y the relay sent too early."""
    url, sessions = db
    topic = _name()
    proc = await Process(
        private_broker.bootstrap, url, sessions, topic, "unused", recording_handler(), consume=False
    ).start()
    try:
        x, y = closed_event(COUNTIES[0], "x"), closed_event(COUNTIES[0], "y")
        await enqueue_events(sessions, topic, [(COUNTIES[0], x)])
        await wait_for(lambda: _published(sessions, 1), timeout=10, what="x acknowledged by the broker")
        private_broker.stop()
        await enqueue_events(sessions, topic, [(COUNTIES[0], y)])
        # Until the send of y has timed out (the producer's 5 s): the relay knows the broker is away.
        await wait_for(lambda: _async(proc.relay.failures >= 1), timeout=20, what="the send of y to fail")
        private_broker.start()

        async def both():
            ids = ce_ids(await read_topic(private_broker.bootstrap, topic))
            return ids if {x.id, y.id} <= set(ids) else None

        ids = await wait_for(both, timeout=20, what="x and y in the new log")
        assert ids.index(x.id) < ids.index(y.id), f"y before x in the new log: {ids}"
    finally:
        await proc.stop()


async def _published(sessions, n: int):  # type: ignore[no-untyped-def]
    async with sessions() as s:
        found = await s.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"))
    return found >= n
