"""Does the broker still hold what we gave it? — the broker's epoch, watched by every process.

A broker can forget: the embedded Tansu keeps everything in memory and comes back empty after
a restart, and a real Kafka cluster can lose a partition's tail (unclean leader election) or be
rebuilt from scratch. Nothing in the Kafka protocol says so: consumers keep their positions and
commit them into the new, shorter log (every record below them is silently skipped), relays
have marked their rows published, and caches fed from a topic stay blind to what is written
to the new log below their position. So lawline marks the broker itself:

- The epoch topic (one partition, kept forever) holds, as its FIRST record, a random epoch id.
  Whoever finds the topic missing or empty creates it and writes one; racing writers agree,
  because the epoch is whatever record comes first. A broker that lost its data has lost that
  record, and the next check finds a new epoch.
- Every process runs one `BrokerWatch`, which every `interval` seconds makes sure every topic
  exists with the configured partition count (creating what is missing, reporting loudly what
  has another count) and reads the epoch. `poke()` asks for a check at once: a relay whose
  sends came back with lower offsets than before, a consumer whose position is beyond a
  partition's end.
- The parts that depend on the broker's memory compare `epoch` with the epoch they last
  handled — stored in their own database (`pipeline_state`), so a process that dies in
  between still repairs after restart: the outbox relay republishes its window
  (libs.common.outbox), the inbox consumer replays every partition from the start
  (libs.common.inbox; its inbox table makes the replay harmless) and the credential feed
  re-reads the identity topic (libs.common.apikeys).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from libs.common.aio import within
from libs.common.events.topics import PARTITIONS
from libs.common.kafka import client_security, ensure_topics
from libs.common.periodic import Periodic

log = logging.getLogger(__name__)


class BrokerWatch:
    FULL_CHECK_SECONDS = 60.0  # partition counts re-described this often when nothing is missing
    CHECK_TIMEOUT = 15.0  # seconds: three of the clients' 5 s request timeouts

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        *,
        epoch_topic: str,
        partitions: int = PARTITIONS,
        interval: float = 2.0,
        service: str = "",
    ) -> None:
        self.bootstrap, self.topics, self.epoch_topic = bootstrap, list(topics), epoch_topic
        self.partitions, self.interval, self.service = partitions, interval, service
        self.epoch: str | None = None  # None until the first successful check
        self.changes = 0  # epoch changes this process has seen (not counting the first read)
        self.checked_at: float | None = None  # monotonic time of the last successful check
        self.last_error: str | None = None
        self.mismatched: dict[str, int] = {}  # topic -> partition count found, when not `partitions`
        self.known = asyncio.Event()  # set once the epoch is known
        self._poke = asyncio.Event()
        self._changed = asyncio.Condition()
        self._checked = asyncio.Condition()
        self._listeners: list[Callable[[], None]] = []
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._writer: AIOKafkaProducer | None = None
        self._tp = TopicPartition(epoch_topic, 0)
        self._full_at = float("-inf")  # the last full ensure of every topic

    # ---- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        """Check every `interval`, at once when poked, within 1 s after a failed check."""
        checks = Periodic(
            self.interval,
            self._check_once,
            name="broker check",
            wake=self._poke,
            after_failure=min(self.interval, 1.0),
        )
        await checks.run()

    async def _check_once(self) -> None:
        try:
            # Bounded: an aiokafka call can wait forever on a broker that came back empty
            # (a metadata wait for a topic it no longer has); a hung check must count as a
            # failed one, or nothing waiting for `checked_after` ever runs again.
            await within(self.check(), self.CHECK_TIMEOUT)
        except Exception as exc:
            self.last_error = (
                f"check did not finish within {self.CHECK_TIMEOUT:g} s"
                if isinstance(exc, TimeoutError)
                else f"{type(exc).__name__}: {exc}"
            )
            await self._close_clients()  # reconnect from scratch next time
            raise

    def subscribe(self, listener: Callable[[], None]) -> None:
        """`listener()` is called (synchronously, so keep it to setting an event) whenever the
        epoch becomes known or changes."""
        self._listeners.append(listener)

    def poke(self) -> None:
        """Check now: something looked like the broker forgot (offsets went backwards …)."""
        self._poke.set()

    def healthy(self, max_age: float | None = None) -> bool:
        """The last check succeeded, and recently (default: three intervals, at least 6 s)."""
        age = max_age if max_age is not None else max(3 * self.interval, 6.0)
        recent = self.checked_at is not None and time.monotonic() - self.checked_at <= age
        return recent and self.last_error is None

    async def checked_after(self, since: float) -> None:
        """Wait for a successful check that ended after `since` (monotonic time)."""
        async with self._checked:
            await self._checked.wait_for(lambda: self.checked_at is not None and self.checked_at > since)

    async def wait_change(self, since: str | None, timeout: float) -> str | None:
        """Wait until the epoch differs from `since` (or `timeout` passes); the epoch."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await within(self._changed.wait_for(lambda: self.epoch != since), timeout)
        return self.epoch

    async def close(self) -> None:
        await self._close_clients()

    # ---- one check -------------------------------------------------------------------------
    async def check(self) -> str:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(
                bootstrap_servers=self.bootstrap, request_timeout_ms=5000, **client_security()
            )
            await self._admin.start()
        # One metadata request each check; creating and describing every topic (partition counts)
        # only when one is missing or every FULL_CHECK_SECONDS: the describe of all topics each
        # 2 s was most of an idle service's broker traffic (bench/idle.py).
        existing = set(await self._admin.list_topics())
        missing = self.epoch_topic not in existing or not existing.issuperset(self.topics)
        if missing or time.monotonic() - self._full_at >= self.FULL_CHECK_SECONDS:
            await self._ensure_all()
        epoch = await self._read_epoch()
        if epoch is None:
            await self._write_epoch()
            epoch = await self._read_epoch()
            if epoch is None:
                raise RuntimeError("the epoch record just written cannot be read back")
        self.checked_at, self.last_error = time.monotonic(), None
        if epoch != self.epoch:
            if self.epoch is not None:
                self.changes += 1
                log.error(
                    "broker epoch changed %s -> %s: the broker lost its data; republishing, "
                    "replaying and re-reading credentials",
                    self.epoch,
                    epoch,
                )
            else:
                log.info("broker epoch %s", epoch)
            async with self._changed:
                self.epoch = epoch
                self._changed.notify_all()
            self.known.set()
            for listener in self._listeners:
                listener()
        async with self._checked:  # after the epoch is updated: a waiter acts on this check's epoch
            self._checked.notify_all()
        return epoch

    async def _ensure_all(self) -> None:
        """Create what is missing (the epoch topic first: a reader of a missing topic would wait
        for it) and report topics whose partition count is not the configured one."""
        await ensure_topics(self.bootstrap, [self.epoch_topic], partitions=1, admin=self._admin)
        mismatched = await ensure_topics(self.bootstrap, self.topics, self.partitions, admin=self._admin)
        self._full_at = time.monotonic()
        if mismatched != self.mismatched:
            for name, count in mismatched.items():
                log.error(
                    "topic %s has %d partitions, configured %d: keys map to other partitions than "
                    "lawline expects (per-county order is not guaranteed); recreate it or change "
                    "LAWLINE_TOPIC_PARTITIONS",
                    name,
                    count,
                    self.partitions,
                )
            self.mismatched = mismatched

    async def _read_epoch(self) -> str | None:
        if self._reader is None:
            self._reader = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                **client_security(),
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                request_timeout_ms=5000,
            )
            await self._reader.start()
            self._reader.assign([self._tp])
        reader = self._reader
        begin = (await reader.beginning_offsets([self._tp]))[self._tp]
        end = (await reader.end_offsets([self._tp]))[self._tp]
        if end <= begin:
            return None
        reader.seek(self._tp, begin)
        records = (await reader.getmany(self._tp, timeout_ms=3000, max_records=1)).get(self._tp) or []
        if not records:
            raise RuntimeError(f"epoch topic has records {begin}..{end} but none could be fetched")
        return str(orjson.loads(records[0].value)["epoch"])

    async def _write_epoch(self) -> None:
        if self._writer is None:
            self._writer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                **client_security(),
                acks="all",
                enable_idempotence=False,
                request_timeout_ms=5000,
            )
            await self._writer.start()
        record = {
            "epoch": uuid.uuid4().hex,
            "created_at": datetime.now(UTC).isoformat(),
            "by": f"{self.service}@{socket.gethostname()}",
        }
        await self._writer.send_and_wait(self.epoch_topic, orjson.dumps(record), partition=0)

    async def _close_clients(self) -> None:
        for client in (self._reader, self._writer, self._admin):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close() if isinstance(client, AIOKafkaAdminClient) else await client.stop()
        self._reader = self._writer = self._admin = None
