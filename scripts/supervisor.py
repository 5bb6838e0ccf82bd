"""Keeps `make run`'s children up: a child that dies is restarted with exponential backoff.

Three layers, so that each is testable on its own:

- `Backoff`: pure arithmetic — how long to wait before restarting a child that died after
  so many seconds, having crashed so many times in a row. No clock, no processes.
- `Child`: one supervised part (a service, the broker, PostgreSQL) as three functions —
  start, liveness check, stop — plus its restart state. `ProcessHandle` provides the three
  for a plain subprocess; devstack wires EmbeddedPostgres/EmbeddedBroker the same way.
- `Supervisor`: polls the children (`tick`), logs each crash and restart in one line, and
  stops everything in order (`stop`).

Everything runs in the caller's thread. A signal handler calls only `request_stop()`, which
sets a flag: raising from a handler would interrupt a restart half-way (a postmaster started
but not yet recorded) and leave it behind. A restart in progress therefore finishes — each
start is bounded by its own timeout — and `stop()` then stops it with the rest.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    # A child that stayed up this long before dying counts as healthy again: its next
    # restart waits `initial`, not the delay an earlier crash loop had reached.
    reset_after: float = 60.0

    def delay(self, streak: int) -> float:
        """The wait before the restart that follows `streak` earlier crashes in a row."""
        try:
            return min(self.maximum, self.initial * self.factor**streak)
        except OverflowError:  # a float overflows past ~1000 crashes in a row: hours of them
            return self.maximum

    def after_crash(self, streak: int, uptime: float) -> tuple[float, int]:
        """A child died after `uptime` seconds, `streak` crashes in a row before this one:
        (seconds to wait before restarting it, the streak including this crash)."""
        if uptime >= self.reset_after:
            streak = 0
        return self.delay(streak), streak + 1


NEW, RUNNING, BACKOFF, STOPPED = "new", "running", "backoff", "stopped"


def _never() -> int | None:
    return None


def _nothing() -> str:
    return ""


@dataclass(eq=False)
class Child:
    name: str
    start: Callable[[], object]  # (re)starts it; raises if it cannot
    alive: Callable[[], bool]
    # Idempotent, and must also clean up after a child that died or half-started: it is
    # called after every crash (before the backoff) and once for every child by stop().
    stop: Callable[[], None]
    exit_code: Callable[[], int | None] = _never  # None: unknown (not our child, e.g. a postmaster)
    describe: Callable[[], str] = _nothing  # for the "restarted" line, e.g. "pid 1234"
    # stop() stops the highest tier first, one tier at a time, the children of a tier in
    # parallel: services, then the broker, then PostgreSQL.
    tier: int = 0
    state: str = NEW
    started_at: float = 0.0
    restart_at: float = 0.0
    streak: int = 0  # crashes in a row (see Backoff.reset_after)
    restarts: int = 0  # all restarts so far, for the log line


def _seconds(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}".removesuffix(".0")


class Supervisor:
    def __init__(
        self,
        backoff: Backoff | None = None,
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.log = log
        self.clock = clock
        self.children: list[Child] = []
        self.stop_requested = False

    def start(self, child: Child) -> Child:
        """First start. Registered before starting, so that stop() cleans up after a start
        that failed half-way; a failure propagates (a port taken at start-up is a
        configuration error, not a crash to retry)."""
        self.children.append(child)
        child.start()
        child.state, child.started_at = RUNNING, self.clock()
        return child

    def request_stop(self) -> None:
        """Safe from a signal handler: no restart begins after it; run() returns."""
        self.stop_requested = True

    def tick(self) -> None:
        """Notice dead children and restart those whose backoff is over."""
        for child in self.children:
            if self.stop_requested:
                return
            if child.state == RUNNING and not child.alive():
                uptime = self.clock() - child.started_at
                code = child.exit_code()  # before stop(), which may forget the process
                how = "exited" if code is None else f"exited with code {code}"
                self._crashed(child, f"{how} after {_seconds(uptime)} s", uptime)
            elif child.state == BACKOFF and self.clock() >= child.restart_at:
                self._restart(child)

    def run(self, interval: float = 0.25) -> None:
        while not self.stop_requested:
            self.tick()
            time.sleep(interval)

    def _crashed(self, child: Child, what: str, uptime: float) -> None:
        self._stop_quietly(child)  # reap it, and what it left (a dead postmaster's backends)
        delay, child.streak = self.backoff.after_crash(child.streak, uptime)
        child.restarts += 1
        child.state, child.restart_at = BACKOFF, self.clock() + delay
        self.log(f"{child.name} {what}; restarting in {_seconds(delay)} s (restart #{child.restarts})")

    def _restart(self, child: Child) -> None:
        try:
            child.start()
        except Exception as e:  # any failure to start is retried, never fatal
            # One line, whatever the exception: some carry a whole command line or traceback.
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            self._crashed(child, f"failed to start ({reason})", 0.0)
            return
        child.state, child.started_at = RUNNING, self.clock()
        info = child.describe()
        self.log(f"{child.name} restarted" + (f" ({info})" if info else ""))

    def _stop_quietly(self, child: Child) -> None:
        try:
            child.stop()
        except Exception as e:  # stopping the others matters more
            self.log(f"{child.name}: stopping failed: {e}")

    def stop(self) -> None:
        """Stop every child — running, in backoff or half-started — tier by tier. Call it from
        the thread that runs tick(), after run() returned."""
        self.stop_requested = True
        for child in self.children:
            child.state = STOPPED
        for tier in sorted({c.tier for c in self.children}, reverse=True):
            group = [c for c in self.children if c.tier == tier]
            with ThreadPoolExecutor(len(group)) as pool:
                list(pool.map(self._stop_quietly, group))
            self.log("stopped " + ", ".join(c.name for c in group))


@dataclass(eq=False)
class ProcessHandle:
    """start / alive / stop / exit_code for one subprocess, for a Child."""

    argv: list[str]
    # SIGTERM rather than SIGINT: a process started in the background by a script inherits
    # SIGINT ignored, and a service already got the terminal's Ctrl-C (a second SIGINT makes
    # uvicorn skip its graceful shutdown).
    stop_signal: int = signal.SIGTERM
    grace: float = 15.0  # then SIGKILL
    popen_kwargs: dict[str, Any] = field(default_factory=dict)
    # Says which child needed the SIGKILL: a service whose shutdown hangs shows up here.
    log: Callable[[str], None] | None = None
    process: subprocess.Popen | None = None
    name: str = ""

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, **self.popen_kwargs)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return self.process.returncode if self.process else None

    def stop(self) -> None:
        p = self.process
        if p is None or p.poll() is not None:
            return
        p.send_signal(self.stop_signal)
        try:
            p.wait(self.grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            if self.log:
                self.log(f"{self.name or self.argv[0]} did not stop within {_seconds(self.grace)} s; killed")

    def describe(self) -> str:
        return f"pid {self.process.pid}" if self.process else ""

    def child(self, name: str, tier: int = 0) -> Child:
        self.name = name
        return Child(name, self.start, self.alive, self.stop, self.exit_code, self.describe, tier)
