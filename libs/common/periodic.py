"""Background jobs run at an interval: the sweepers, the audit chainer, the retention purges.

One loop for all of them, so that every one behaves the same way on failure: a run that raises
is logged once — with its traceback, how many runs have failed and how many in a row — and the
next run comes at the next interval; the loop never dies of a failed run and never swallows
one silently. A cancellation (the service stopping) ends it at once, mid-wait or mid-run.

A repeat of the failure just logged (same type and message, in a row: the database away for a
minute under a 0.2 s chainer) is logged as one line with the count instead of the traceback
again; the first failure, and any different one, carries the traceback.

    rt.spawn(every(60, sweep_clocks, name="aid clock sweep"), "clock-sweeper")
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from libs.common.aio import wait_event
from libs.common.transient import is_transient

log = logging.getLogger(__name__)


class Periodic:
    """`job()` every `interval` seconds (the interval runs from the end of one run to the start
    of the next). `wake`: setting it starts the next run at once (it is cleared just before each
    run, so a wake during a run gives another run straight after). `run_first`: the first run at
    start (default) or one interval after. `jitter`: each wait is `interval` × (1 ± jitter).
    `on_failure(exc)`: also told of each failure (a service's own counter). `after_failure`:
    the wait after a failed run, when it should differ (a health check retried sooner).
    `coalesce`: after a wake, wait this long before the run, so the wakes of that moment are one
    run (a job woken by every commit, as the audit chainer is, runs a few times a second under
    load instead of once per commit)."""

    def __init__(
        self,
        interval: float,
        job: Callable[[], Awaitable[object]],
        *,
        name: str,
        wake: asyncio.Event | None = None,
        run_first: bool = True,
        jitter: float = 0.0,
        on_failure: Callable[[BaseException], None] | None = None,
        after_failure: float | None = None,
        coalesce: float = 0.0,
    ) -> None:
        self.interval, self.job, self.name, self.wake = interval, job, name, wake
        self.coalesce = coalesce
        self.run_first, self.jitter, self.on_failure = run_first, jitter, on_failure
        self.after_failure = after_failure
        self.runs = 0
        self.failures = 0  # failed runs since start
        self.failing = 0  # failed runs in a row (0: the last run succeeded)
        self.last_error: str | None = None

    async def run(self) -> None:
        if not self.run_first:
            await self._wait()
        while True:
            if self.wake is not None:
                if self.coalesce and self.wake.is_set():
                    await asyncio.sleep(self.coalesce)
                self.wake.clear()
            await self.run_once()
            await self._wait()

    async def run_once(self) -> bool:
        """One run, its failure logged and counted; whether it succeeded."""
        self.runs += 1
        try:
            await self.job()
        except Exception as exc:
            self._failed(exc)
            return False
        if self.failing:
            log.info("%s works again after %d failed runs", self.name, self.failing)
        self.failing, self.last_error = 0, None
        return True

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.failing += 1
        error = f"{type(exc).__name__}: {exc}"
        repeat = error == self.last_error
        self.last_error = error
        level = logging.WARNING if is_transient(exc) else logging.ERROR
        log.log(
            level,
            "%s failed (%d in a row, %d since start)%s; next run in %.3g s",
            self.name,
            self.failing,
            self.failures,
            f": {error} again" if repeat else "",
            self._next_wait(),
            exc_info=None if repeat else exc,
        )
        if self.on_failure is not None:
            try:
                self.on_failure(exc)
            except Exception:
                log.exception("%s: on_failure raised", self.name)

    def _next_wait(self) -> float:
        if self.failing and self.after_failure is not None:
            return self.after_failure
        return self.interval

    async def _wait(self) -> None:
        delay = self._next_wait()
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        if self.wake is not None:
            await wait_event(self.wake, delay)
        else:
            await asyncio.sleep(delay)


async def every(
    interval: float,
    job: Callable[[], Awaitable[object]],
    *,
    name: str,
    wake: asyncio.Event | None = None,
    run_first: bool = True,
    jitter: float = 0.0,
    on_failure: Callable[[BaseException], None] | None = None,
    coalesce: float = 0.0,
) -> None:
    """Run `job` for ever at `interval` (see Periodic); the coroutine to spawn."""
    periodic = Periodic(
        interval,
        job,
        name=name,
        wake=wake,
        run_first=run_first,
        jitter=jitter,
        on_failure=on_failure,
        coalesce=coalesce,
    )
    await periodic.run()
