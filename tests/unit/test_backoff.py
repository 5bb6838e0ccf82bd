"""libs.common.backoff: the delays (first, doubling, capped, reset), and retry's rules: which
failures are tried again, how many times, and that the last one is raised as it is."""

from __future__ import annotations

import asyncio

import pytest

from libs.common.backoff import Backoff, retry


def test_delays_double_up_to_the_cap_and_start_again_after_a_reset():
    b = Backoff(first=0.2, cap=5.0)
    assert [b.next() for _ in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert b.failures == 7 and b.since is not None
    b.reset()
    assert b.failures == 0 and b.since is None and b.next() == 0.2


def test_jitter_spreads_the_delay():
    b = Backoff(first=1.0, cap=1.0, jitter=0.5)
    delays = [b.next() for _ in range(50)]
    assert all(0.5 <= d <= 1.5 for d in delays) and len(set(delays)) > 1


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr("libs.common.backoff.asyncio.sleep", fake_sleep)
    return delays


async def test_retry_until_it_works(slept: list[float]):
    calls: list[int] = []
    told: list[tuple[str, int, float]] = []

    async def step() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("away")
        return "ok"

    result = await retry(
        step, backoff=Backoff(first=0.2, cap=0.5), on_retry=lambda e, n, d: told.append((str(e), n, d))
    )
    assert result == "ok" and slept == [0.2, 0.4, 0.5]
    assert told == [("away", 1, 0.2), ("away", 2, 0.4), ("away", 3, 0.5)]


async def test_a_failure_it_should_not_retry_is_raised_at_once(slept: list[float]):
    async def step() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await retry(step, backoff=Backoff(), when=lambda e: isinstance(e, ConnectionError))
    assert slept == []


async def test_attempts_bound_the_tries_and_the_last_failure_is_raised(slept: list[float]):
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)
        raise ConnectionError(f"try {len(calls)}")

    with pytest.raises(ConnectionError, match="try 3"):
        await retry(step, backoff=Backoff(first=0.02, cap=1.0), attempts=3)
    assert len(calls) == 3 and slept == [0.02, 0.04]


async def test_a_cancellation_is_never_retried():
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await retry(step, backoff=Backoff())
    assert calls == [1]
