"""One lane per Kafka partition: each partition's records strictly in order, different
partitions at the same time.

Topic keys are county codes (work orders, dispatch events) or case ids (aid, mediation),
so a partition is one ordered stream and nothing orders records of two partitions: a
slow county (or a record being retried) no longer holds up every other county, and the
database round trips of several transactions overlap instead of adding up.

- A lane handles one record at a time — or, given `handle_batch`, the run of records
  waiting in its queue (up to `batch_max`) at once, in their order: under load a lane's
  queue grows and one transaction (one commit, one fsync) serves the whole run. At most
  `concurrency` records or runs are in progress across all lanes (each holds a pooled DB
  connection for its transaction).
- Offsets: a partition's offset is committed only up to its last record whose handling
  has finished (at-least-once; the inbox makes redelivery harmless). Commits are batched
  across partitions, at most every `commit_interval` seconds, off the lanes' path.
- Rebalance: a revoked partition's lane finishes the record in hand, drops the records
  it has not started and commits before the group moves on — the next owner starts
  right after the last handled record, and never while we still work on that partition.
- A lane whose handler raises stops (its later records are not handled out of order) and
  `run()` raises: the caller restarts the consumer, which resumes at committed offsets.
- Backpressure: a partition whose lane has `max_backlog` records waiting is paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

log = logging.getLogger(__name__)

RecordHandler = Callable[[ConsumerRecord], Awaitable[None]]
# True: the whole run was handled together. False: none of it was kept (it failed together):
# the lane then hands its records to the record handler one by one.
BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[bool]]


@dataclass
class Lane:
    tp: TopicPartition
    queue: deque[ConsumerRecord] = field(default_factory=deque)
    task: asyncio.Task | None = None
    done: int = -1  # next offset after the last record whose handling finished
    committed: int = -1
    paused: bool = False

    @property
    def failed(self) -> BaseException | None:
        if self.task is None or not self.task.done() or self.task.cancelled():
            return None
        return self.task.exception()


class PartitionLanes(ConsumerRebalanceListener):
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handle: RecordHandler,
        *,
        concurrency: int = 8,
        max_backlog: int = 1000,
        commit_interval: float = 0.05,
        poll_ms: int = 100,
        handle_batch: BatchHandler | None = None,
        batch_max: int = 16,
    ) -> None:
        self.consumer, self.handle = consumer, handle
        self.handle_batch, self.batch_max = handle_batch, batch_max
        self.max_backlog, self.commit_interval, self.poll_ms = max_backlog, commit_interval, poll_ms
        self.lanes: dict[TopicPartition, Lane] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._last_commit = 0.0

    def listen(self) -> None:
        """Subscribe (again) with this object as the rebalance listener; before start()."""
        topics = sorted(self.consumer.subscription())
        if topics:
            self.consumer.subscribe(topics=topics, listener=self)

    async def run(self) -> None:
        """Fetch and hand records to their lanes until a lane fails (then raise) or we are cancelled."""
        while True:
            batches = await self.consumer.getmany(timeout_ms=self.poll_ms, max_records=500)
            failure = self._failure()  # before new records: a failed lane must not go on
            if failure is not None:
                # Keep what every lane (the failed one included) has handled so far.
                await self._commit(list(self.lanes.values()))
                raise failure
            for tp, records in batches.items():
                self._enqueue(tp, records)
            if time.monotonic() - self._last_commit >= self.commit_interval:
                await self._commit(list(self.lanes.values()))

    async def close(self) -> None:
        """Stop every lane. Records in hand roll back; uncommitted progress is redelivered."""
        tasks = [lane.task for lane in self.lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # also collects earlier failures
        self.lanes.clear()

    # ---- lanes ---------------------------------------------------------------------

    def _enqueue(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        lane = self.lanes.setdefault(tp, Lane(tp))
        lane.queue.extend(records)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._drain(lane), name=f"lane:{tp.topic}:{tp.partition}")
        if not lane.paused and len(lane.queue) >= self.max_backlog:
            self.consumer.pause(tp)
            lane.paused = True

    async def _drain(self, lane: Lane) -> None:
        while lane.queue:
            take = min(len(lane.queue), self.batch_max) if self.handle_batch else 1
            records = [lane.queue.popleft() for _ in range(take)]
            if len(records) > 1:
                async with self._slots:
                    together = await self.handle_batch(records)  # type: ignore[misc]
                if together:
                    lane.done = records[-1].offset + 1
                    records = []
            for record in records:  # one at a time, each counted as done when it is
                async with self._slots:
                    await self.handle(record)
                lane.done = record.offset + 1
            if lane.paused and len(lane.queue) <= self.max_backlog // 2:
                lane.paused = False
                if lane.tp in self.consumer.assignment():
                    self.consumer.resume(lane.tp)

    def _failure(self) -> BaseException | None:
        return next((lane.failed for lane in self.lanes.values() if lane.failed is not None), None)

    async def _commit(self, lanes: list[Lane]) -> None:
        offsets = {lane.tp: lane.done for lane in lanes if lane.done > lane.committed}
        self._last_commit = time.monotonic()
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group is rebalancing or moved these partitions: the revoke below (or the
            # next owner, through the inbox) takes care of them. Not a reason to restart.
            log.info("offset commit skipped: %s", exc)
            return
        for lane in lanes:
            if lane.tp in offsets:
                lane.committed = offsets[lane.tp]

    # ---- rebalance (ConsumerRebalanceListener) -------------------------------------

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        lanes = [self.lanes.pop(tp) for tp in revoked if tp in self.lanes]
        for lane in lanes:
            lane.queue.clear()  # not started: the next owner fetches them from the committed offset
        running = [lane.task for lane in lanes if lane.task and not lane.task.done()]
        if running:
            await asyncio.wait(running)
        for lane in lanes:
            if lane.failed is not None:
                log.warning("partition %s revoked after its handler failed: %s", lane.tp, lane.failed)
        with contextlib.suppress(KafkaError):
            await self._commit(lanes)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None
