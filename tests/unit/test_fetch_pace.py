"""The fetch wait follows the traffic (libs.common.fetch_pace), on aiokafka's private name."""

from __future__ import annotations

import inspect

from aiokafka import AIOKafkaConsumer
from aiokafka.consumer import fetcher as aiokafka_fetcher

from libs.common.fetch_pace import BUSY_MS, IDLE_MS, FetchPace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeFetcher:
    _fetch_max_wait_ms = 50


class Consumer:
    _fetcher = FakeFetcher()


def test_busy_while_records_flow_idle_after_a_quiet_spell_and_busy_again_at_once() -> None:
    clock, consumer = Clock(), Consumer()
    pace = FetchPace(consumer, idle_after=5.0, clock=clock)  # type: ignore[arg-type]
    pace.saw(3)
    assert (pace.idle, consumer._fetcher._fetch_max_wait_ms, pace.poll_ms) == (False, BUSY_MS, 100)
    clock.now += 4.9
    pace.saw(0)
    assert not pace.idle
    clock.now += 0.2
    pace.saw(0)
    assert (pace.idle, consumer._fetcher._fetch_max_wait_ms, pace.poll_ms) == (True, IDLE_MS, 1000)
    pace.saw(1)  # the first record after the quiet spell: busy pace for the ones behind it
    assert (pace.idle, consumer._fetcher._fetch_max_wait_ms) == (False, BUSY_MS)
    clock.now += 60
    pace.saw(0)
    pace.wake()  # a rebalance: busy without waiting for a record
    assert (pace.idle, consumer._fetcher._fetch_max_wait_ms, pace.switches) == (False, BUSY_MS, 3)


async def test_a_consumer_not_started_has_no_fetcher_and_is_left_alone() -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    pace = FetchPace(consumer, idle_after=0.0)
    pace.saw(0)
    assert pace.idle and getattr(consumer, "_fetcher", None) is None


def test_aiokafka_still_builds_each_fetch_request_from_the_attribute_we_set() -> None:
    # If aiokafka renames it, the pace would silently stop working: this fails instead.
    init = inspect.signature(aiokafka_fetcher.Fetcher.__init__)
    assert "fetch_max_wait_ms" in init.parameters
    source = inspect.getsource(aiokafka_fetcher.Fetcher)
    assert "self._fetch_max_wait_ms = fetch_max_wait_ms" in source
    assert "FetchRequest(\n                self._fetch_max_wait_ms," in source
