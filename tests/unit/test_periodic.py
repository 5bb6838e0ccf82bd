"""libs.common.periodic: a failed run is logged once (traceback, counters) and the loop goes on;
a cancellation stops it at once; a wake starts the next run early."""

from __future__ import annotations

import asyncio
import logging

import pytest

from libs.common.periodic import Periodic, every


async def test_a_failed_run_is_logged_with_its_traceback_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
):
    runs: list[int] = []
    seen: list[BaseException] = []
    fifth = asyncio.Event()

    async def job() -> None:
        runs.append(1)
        if len(runs) == 5:
            fifth.set()
        if len(runs) <= 3:
            raise ValueError("bad row")

    p = Periodic(0.01, job, name="test sweep", on_failure=seen.append)
    with caplog.at_level(logging.INFO, logger="libs.common.periodic"):
        task = asyncio.create_task(p.run())
        await asyncio.wait_for(fifth.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    failures = [r for r in caplog.records if "test sweep failed" in r.getMessage()]
    assert len(failures) == 3 and p.failures == 3 and len(seen) == 3
    assert failures[0].levelno == logging.ERROR and failures[0].exc_info is not None  # the traceback, once
    assert "(1 in a row, 1 since start)" in failures[0].getMessage()
    # The same failure again: one line with the count, not the traceback again.
    assert failures[1].exc_info is None and "ValueError: bad row again" in failures[1].getMessage()
    assert "(3 in a row, 3 since start)" in failures[2].getMessage()
    assert any("works again after 3 failed runs" in r.getMessage() for r in caplog.records)
    assert p.failing == 0 and p.last_error is None


async def test_a_different_failure_carries_its_own_traceback(caplog: pytest.LogCaptureFixture):
    errors = iter([ValueError("a"), KeyError("b")])

    async def job() -> None:
        raise next(errors)

    p = Periodic(1, job, name="mixed")
    with caplog.at_level(logging.INFO, logger="libs.common.periodic"):
        assert not await p.run_once()
        assert not await p.run_once()
    assert [r.exc_info is not None for r in caplog.records] == [True, True]


async def test_an_infrastructure_failure_is_a_warning():
    async def job() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    p = Periodic(1, job, name="db away")
    assert not await p.run_once()
    assert p.last_error is not None and p.last_error.startswith("ConnectionRefusedError")


async def test_cancel_stops_it_mid_run_and_mid_wait():
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(every(60, slow, name="slow"))
    await started.wait()
    task.cancel()  # mid-run
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)

    runs: list[int] = []
    ran = asyncio.Event()

    async def quick() -> None:
        runs.append(1)
        ran.set()

    task = asyncio.create_task(every(60, quick, name="quick"))
    await asyncio.wait_for(ran.wait(), 1)
    task.cancel()  # mid-wait
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
    assert runs == [1]


async def test_run_first_false_waits_one_interval_and_wake_runs_at_once():
    runs: list[int] = []
    wake = asyncio.Event()

    async def job() -> None:
        runs.append(1)

    task = asyncio.create_task(every(60, job, name="woken", wake=wake, run_first=False))
    await asyncio.sleep(0.05)
    assert runs == []  # not at start
    wake.set()
    for _ in range(100):
        if runs:
            break
        await asyncio.sleep(0.005)
    assert runs == [1] and not wake.is_set()  # cleared before the run
    wake.set()
    for _ in range(100):
        if len(runs) == 2:
            break
        await asyncio.sleep(0.005)
    assert runs == [1, 1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_jitter_keeps_the_wait_near_the_interval(monkeypatch: pytest.MonkeyPatch):
    waits: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)
        if len(waits) >= 50:
            raise asyncio.CancelledError

    async def job() -> None:
        pass

    monkeypatch.setattr("libs.common.periodic.asyncio.sleep", fake_sleep)
    with pytest.raises(asyncio.CancelledError):
        await Periodic(10, job, name="jittered", jitter=0.2).run()
    assert all(8 <= w <= 12 for w in waits) and len(set(waits)) > 1


async def test_after_failure_sets_the_wait_after_a_failed_run(monkeypatch: pytest.MonkeyPatch):
    waits: list[float] = []
    outcomes = iter([False, True, False])

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)
        if len(waits) >= 3:
            raise asyncio.CancelledError

    async def job() -> None:
        if not next(outcomes):
            raise ConnectionError("broker away")

    monkeypatch.setattr("libs.common.periodic.asyncio.sleep", fake_sleep)
    with pytest.raises(asyncio.CancelledError):
        await Periodic(2.0, job, name="check", after_failure=0.5).run()
    assert waits == [0.5, 2.0, 0.5]


async def test_coalesce_makes_the_wakes_of_one_moment_one_run():
    runs: list[int] = []
    wake = asyncio.Event()

    async def job() -> None:
        runs.append(1)

    task = asyncio.create_task(every(60, job, name="chainer", wake=wake, run_first=False, coalesce=0.5))
    await asyncio.sleep(0.02)
    for _ in range(20):  # twenty commits in a moment, each waking the job
        wake.set()
        await asyncio.sleep(0)  # the job's task gets its turn between them
    assert runs == []  # still coalescing (0.5 s: a loaded machine cannot make this flaky)
    for _ in range(300):
        if runs:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.6)  # no second run follows: every wake was before the run
    assert runs == [1]
    wake.set()  # a later wake is a later run
    for _ in range(100):
        if len(runs) == 2:
            break
        await asyncio.sleep(0.01)
    assert runs == [1, 1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
