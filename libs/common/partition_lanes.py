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
- The broker forgot (libs.common.broker_watch): when `epoch()` reports a new broker epoch,
  every lane is dropped (records in hand roll back) and every partition — those assigned now
  and those assigned later in this epoch — is read again from its first offset; nothing of the
  old log is committed into the new one. A partition whose position is beyond its log's end
  (a log that lost its tail, or a committed offset from a log that no longer exists) is read
  again from its first offset as well: Tansu answers such a fetch with nothing at all, so the
  partition would otherwise wait, silently, until the new log grew past the old position.
- A commit that hangs (aiokafka retries some errors without end) is abandoned after
  `commit_timeout` and tried again later; a revoked lane stuck in a retry is cancelled after
  `revoke_grace`, so a database outage cannot hold a rebalance hostage.
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

from libs.common.aio import within
from libs.common.fetch_pace import FetchPace

log = logging.getLogger(__name__)

RecordHandler = Callable[[ConsumerRecord], Awaitable[None]]
# True: the whole run was handled together. False: none of it was kept (it failed together):
# the lane then hands its records to the record handler one by one.
BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[bool]]


def rewind(consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
    """Read `tp` again from its first record. Offset 0, not a lookup: synchronous (safe inside
    a rebalance callback), and where retention has moved the log's start past 0 the broker
    answers OFFSET_OUT_OF_RANGE, upon which auto_offset_reset="earliest" takes the consumer
    to the first offset there is."""
    consumer.seek(tp, 0)


@dataclass
class Lane:
    tp: TopicPartition
    queue: deque[ConsumerRecord] = field(default_factory=deque)
    task: asyncio.Task | None = None
    done: int = -1  # next offset after the last record whose handling finished
    committed: int = -1
    fetched: int = -1  # next offset after the last record fetched
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
        epoch: Callable[[], str | None] | None = None,
        start_epoch: str | None = None,
        on_epoch: Callable[[str], Awaitable[None]] | None = None,
        commit_timeout: float = 5.0,
        revoke_grace: float = 10.0,
        end_check_seconds: float = 1.0,
    ) -> None:
        self.consumer, self.handle = consumer, handle
        self.handle_batch, self.batch_max = handle_batch, batch_max
        self.max_backlog, self.commit_interval = max_backlog, commit_interval
        # The fetch wait and poll timeout follow the traffic (libs.common.fetch_pace: an idle
        # consumer at a 50 ms wait costs the broker ~2 % of a core); `poll_ms` is the busy poll.
        self.pace = FetchPace(consumer, poll_busy_ms=poll_ms)
        self.commit_timeout, self.revoke_grace, self.end_check_seconds = (
            commit_timeout,
            revoke_grace,
            end_check_seconds,
        )
        self.lanes: dict[TopicPartition, Lane] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._last_commit = 0.0
        self._last_end_check = 0.0
        # Broker epochs: the one our positions belong to, and (after a reset) which partitions
        # have been sent back to their first offset in the new one.
        self._epoch_now, self.epoch, self._on_epoch = epoch, start_epoch, on_epoch
        self._replaying = False
        self._replayed: set[TopicPartition] = set()
        self.replays = 0  # partitions read again from the start (a reset log or a new epoch)
        self.polled_at = time.monotonic()
        self.unassigned_since: float | None = time.monotonic()  # None while it has partitions

    def listen(self) -> None:
        """Subscribe (again) with this object as the rebalance listener; before start()."""
        topics = sorted(self.consumer.subscription())
        if topics:
            self.consumer.subscribe(topics=topics, listener=self)

    async def run(self) -> None:
        """Fetch and hand records to their lanes until a lane fails (then raise) or we are cancelled."""
        while True:
            await self._follow_epoch()
            batches = await self.consumer.getmany(timeout_ms=self.pace.poll_ms, max_records=500)
            self.polled_at = time.monotonic()
            self.pace.saw(sum(len(records) for records in batches.values()))
            if self.consumer.assignment():
                self.unassigned_since = None
            elif self.unassigned_since is None:
                self.unassigned_since = self.polled_at
            failure = self._failure()  # before new records: a failed lane must not go on
            if failure is not None:
                # Keep what every lane (the failed one included) has handled so far.
                await self._commit(list(self.lanes.values()))
                raise failure
            for tp, records in batches.items():
                self._enqueue(tp, records)
            if time.monotonic() - self._last_end_check >= self.end_check_seconds:
                await self._check_log_ends()
            if time.monotonic() - self._last_commit >= self.commit_interval:
                await self._commit(list(self.lanes.values()))

    def lag(self) -> dict[TopicPartition, int]:
        """Records each assigned partition has beyond what this consumer has handled."""
        out = {}
        for tp in self.consumer.assignment():
            hw = self.consumer.highwater(tp)
            lane = self.lanes.get(tp)
            if hw is not None:
                done = lane.done if lane is not None and lane.done >= 0 else None
                out[tp] = max(0, hw - done) if done is not None else 0
        return out

    # ---- the broker forgot ---------------------------------------------------------------

    async def _follow_epoch(self) -> None:
        current = self._epoch_now() if self._epoch_now else None
        if current is None or current == self.epoch:
            return
        if self.epoch is not None:  # a reset, not the first epoch we learn
            log.warning(
                "broker epoch %s -> %s: reading every partition again from its start", self.epoch, current
            )
            await self._drop_lanes(list(self.lanes))
            self._replaying, self._replayed = True, set()
            self._rewind(self.consumer.assignment())
        self.epoch = current
        self.pace.wake()  # a reset log is read again from its start
        if self._on_epoch is not None:
            await self._on_epoch(current)

    def _rewind(self, partitions: set[TopicPartition] | list[TopicPartition]) -> None:
        todo = [tp for tp in partitions if tp not in self._replayed]
        for tp in todo:
            rewind(self.consumer, tp)
        self._replayed.update(todo)
        self.replays += len(todo)

    async def _check_log_ends(self) -> None:
        """A position beyond the partition's end: that log is not the one we were reading."""
        self._last_end_check = time.monotonic()
        ends = {}
        for tp in self.consumer.assignment():
            hw = self.consumer.highwater(tp)
            if hw is not None:
                ends[tp] = hw
        if not ends:
            return
        # Positions are known locally; awaiting them together keeps a stalled one (during a
        # rebalance) from holding the fetch loop for more than a moment.
        tps = list(ends)
        found = await asyncio.gather(
            *(within(self.consumer.position(tp), 0.2) for tp in tps), return_exceptions=True
        )
        reset = [tp for tp, pos in zip(tps, found, strict=True) if isinstance(pos, int) and pos > ends[tp]]
        for tp in reset:
            log.warning(
                "partition %s: position is beyond the log's end %d (the broker lost records): "
                "reading it again from its first offset",
                tp,
                ends[tp],
            )
        if reset:
            await self._drop_lanes(reset)
            for tp in reset:
                rewind(self.consumer, tp)
            self.replays += len(reset)

    async def _drop_lanes(self, partitions: list[TopicPartition]) -> None:
        """Forget these lanes without committing: records in hand roll back."""
        lanes = [self.lanes.pop(tp) for tp in partitions if tp in self.lanes]
        tasks = [lane.task for lane in lanes if lane.task is not None and not lane.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
        lane.fetched = records[-1].offset + 1
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
        self._last_commit = time.monotonic()
        if self._epoch_now is not None and self._epoch_now() != self.epoch:
            return  # our positions belong to a log the broker no longer has
        offsets = {}
        for lane in lanes:
            hw = self.consumer.highwater(lane.tp) if lane.tp in self.consumer.assignment() else None
            if lane.done > lane.committed and (hw is None or lane.done <= hw):
                offsets[lane.tp] = lane.done
        if not offsets:
            return
        try:
            await within(self.consumer.commit(offsets), self.commit_timeout)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group is rebalancing or moved these partitions: the revoke below (or the
            # next owner, through the inbox) takes care of them. Not a reason to restart.
            log.info("offset commit skipped: %s", exc)
            return
        except (TimeoutError, KafkaError) as exc:
            log.warning("offset commit abandoned (%s): tried again at the next commit", exc or "timed out")
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
            _, stuck = await asyncio.wait(running, timeout=self.revoke_grace)
            for task in stuck:  # e.g. waiting for the database to come back: it rolls back
                task.cancel()
            if stuck:
                await asyncio.gather(*stuck, return_exceptions=True)
        for lane in lanes:
            if lane.failed is not None:
                log.warning("partition %s revoked after its handler failed: %s", lane.tp, lane.failed)
        with contextlib.suppress(KafkaError):
            await self._commit(lanes)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.pace.wake()  # new partitions may hold a backlog: read it at busy pace
        if self._replaying:  # after a broker reset, each partition once from its first offset
            self._rewind(assigned)
