"""scripts/supervisor.py: pure backoff decisions, then real child processes killed with -9.

The real-process tests use stand-in services (`python -c "time.sleep(60)"`) and backoffs of
a few tenths of a second, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from scripts.supervisor import BACKOFF, Backoff, Child, ProcessHandle, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


# --- backoff decisions ------------------------------------------------------------------


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    b, streak, delays = Backoff(initial=1, factor=2, maximum=30, reset_after=60), 0, []
    for _ in range(8):
        delay, streak = b.after_crash(streak, uptime=0.5)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert streak == 8


def test_backoff_starts_over_once_the_child_stayed_up_long_enough() -> None:
    b = Backoff(initial=1, factor=2, maximum=30, reset_after=60)
    assert b.after_crash(5, uptime=60) == (1, 1)
    assert b.after_crash(5, uptime=59.9) == (30, 6)


def test_backoff_of_a_child_crash_looping_for_days_stays_at_the_cap() -> None:
    # factor ** streak overflows a float past ~1000 crashes: the cap, not an OverflowError.
    assert Backoff(maximum=30).delay(100_000) == 30


# --- real processes ---------------------------------------------------------------------


class Harness:
    """A Supervisor polled in a background thread, as devstack's main loop does, with its
    log lines timestamped and every pid it ever started recorded."""

    def __init__(self, backoff: Backoff) -> None:
        self.lines: list[tuple[float, str]] = []
        self.sup = Supervisor(backoff, log=lambda line: self.lines.append((time.monotonic(), line)))
        self.pids: list[int] = []
        self.thread = threading.Thread(target=self.sup.run, kwargs={"interval": 0.02}, daemon=True)

    def spawn(self, name: str, argv: list[str] = SLEEPER, tier: int = 0, **kw: object) -> ProcessHandle:
        h = ProcessHandle(argv, grace=5, popen_kwargs=kw)
        child = h.child(name, tier)
        child.start = self.recording(h, h.start)
        self.sup.start(child)
        return h

    def recording(self, h: ProcessHandle, start: Callable[[], object]) -> Callable[[], None]:
        def wrapped() -> None:
            start()
            assert h.process is not None
            self.pids.append(h.process.pid)

        return wrapped

    def text(self) -> list[str]:
        return [line for _, line in self.lines]

    def finish(self) -> None:
        self.sup.request_stop()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.sup.stop()

    def assert_nothing_left(self) -> None:
        for pid in self.pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@pytest.fixture
def harness() -> Callable[[Backoff], Harness]:
    made: list[Harness] = []

    def make(backoff: Backoff) -> Harness:
        made.append(Harness(backoff))
        return made[-1]

    yield make
    for h in made:  # a failed test still leaves no process behind
        if not h.sup.stop_requested or h.thread.is_alive():
            h.finish()


def wait_for(cond: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def kill9(h: ProcessHandle) -> int:
    assert h.process is not None
    os.kill(h.process.pid, signal.SIGKILL)
    return h.process.pid


def test_a_killed_child_is_restarted_after_its_backoff_and_each_step_is_logged(harness) -> None:
    t = harness(Backoff(initial=0.3, factor=2, maximum=1.2, reset_after=60))
    h = t.spawn("stand-in")
    t.thread.start()
    for n, delay in ((1, 0.3), (2, 0.6)):
        killed_at, old = time.monotonic(), kill9(h)
        wait_for(lambda old=old: h.process.pid != old and h.alive())
        took = time.monotonic() - killed_at
        assert delay <= took < delay + 1.0
        crash, restarted = t.text()[-2:]
        assert re.fullmatch(
            rf"stand-in exited with code -9 after [\d.]+ s; restarting in {delay} s \(restart #{n}\)", crash
        )
        assert restarted == f"stand-in restarted (pid {h.process.pid})"
    t.finish()
    t.assert_nothing_left()


def test_a_child_that_keeps_crashing_backs_off_longer_each_time(harness) -> None:
    t = harness(Backoff(initial=0.1, factor=2, maximum=0.4, reset_after=60))
    t.spawn("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    t.thread.start()
    wait_for(lambda: sum("exited" in line for line in t.text()) >= 5, timeout=10)
    t.finish()
    crashes = [(at, line) for at, line in t.lines if "exited" in line][:5]
    assert all(" exited with code 3 after " in line for _, line in crashes)
    delays = [float(re.search(r"restarting in ([\d.]+) s", line)[1]) for _, line in crashes]
    assert delays == [0.1, 0.2, 0.4, 0.4, 0.4]
    restarts = [at for at, line in t.lines if line.startswith("crasher restarted")]
    for (crashed_at, _), restarted_at, delay in zip(crashes, restarts, delays, strict=False):
        assert restarted_at - crashed_at >= delay - 0.005  # the line is logged just after the timer is set
    t.assert_nothing_left()


def test_a_child_that_stayed_up_long_enough_restarts_after_the_initial_delay_again(harness) -> None:
    t = harness(Backoff(initial=0.1, factor=2, maximum=10, reset_after=0.3))
    t.spawn("flaky", [sys.executable, "-c", "import time; time.sleep(0.4); raise SystemExit(1)"])
    t.thread.start()
    wait_for(lambda: sum("exited" in line for line in t.text()) >= 2, timeout=10)
    t.finish()
    crashes = [line for line in t.text() if "exited" in line][:2]
    assert [line.split("; ")[1] for line in crashes] == [
        "restarting in 0.1 s (restart #1)",
        "restarting in 0.1 s (restart #2)",
    ]
    t.assert_nothing_left()


def test_a_start_that_fails_is_retried_with_backoff(harness) -> None:
    t = harness(Backoff(initial=0.1, factor=2, maximum=1, reset_after=60))
    h = t.spawn("picky")
    real_start, failures = h.start, [RuntimeError("port taken\n  (details)"), RuntimeError("port taken")]

    def start() -> None:
        if failures:
            raise failures.pop(0)
        real_start()

    child = t.sup.children[0]
    child.start = t.recording(h, start)
    t.thread.start()
    old = kill9(h)
    wait_for(lambda: h.process.pid != old and h.alive())
    t.finish()
    lines = t.text()
    assert re.fullmatch(
        r"picky exited with code -9 after [\d.]+ s; restarting in 0.1 s \(restart #1\)", lines[0]
    )
    assert lines[1:4] == [
        "picky failed to start (port taken); restarting in 0.2 s (restart #2)",
        "picky failed to start (port taken); restarting in 0.4 s (restart #3)",
        f"picky restarted (pid {h.process.pid})",
    ]
    t.assert_nothing_left()


def test_stop_during_backoff_stops_every_tier_in_order_and_restarts_nothing(harness) -> None:
    t = harness(Backoff(initial=5, factor=2, maximum=30, reset_after=60))
    db, broker, svc = t.spawn("db", tier=0), t.spawn("broker", tier=1), t.spawn("svc", tier=2)
    t.thread.start()
    kill9(broker)
    wait_for(lambda: t.sup.children[1].state == BACKOFF)
    began = time.monotonic()
    t.finish()
    assert time.monotonic() - began < 3  # not held up by the 5 s backoff
    assert t.text()[-3:] == ["stopped svc", "stopped broker", "stopped db"]
    assert not any("restarted" in line for line in t.text())
    assert len(t.pids) == 3 and not (db.alive() or broker.alive() or svc.alive())
    t.assert_nothing_left()


def test_stop_requested_during_a_restart_lets_it_finish_then_stops_it(harness) -> None:
    t = harness(Backoff(initial=0.05, factor=2, maximum=1, reset_after=60))
    h = t.spawn("slow")
    restarting = threading.Event()

    def slow_start() -> None:  # like the broker: the process first, then waiting for its port
        h.start()
        restarting.set()
        time.sleep(0.5)

    t.sup.children[0].start = t.recording(h, slow_start)
    t.thread.start()
    kill9(h)
    assert restarting.wait(5)
    t.finish()  # request_stop() lands while slow_start() is still waiting
    assert len(t.pids) == 2 and not h.alive()
    t.assert_nothing_left()


def test_stop_kills_a_child_that_ignores_the_stop_signal(harness) -> None:
    t = harness(Backoff())
    stubborn = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    h = t.spawn("stubborn", [sys.executable, "-c", stubborn], stdout=subprocess.PIPE)
    h.grace, h.log = 0.3, t.sup.log
    assert h.process.stdout.readline() == b"ready\n"
    t.thread.start()
    t.finish()
    assert h.process.returncode == -signal.SIGKILL
    assert "stubborn did not stop within 0.3 s; killed" in t.text()
    h.process.stdout.close()
    t.assert_nothing_left()


def test_child_defaults_fit_a_part_that_is_not_our_child_process() -> None:
    # EmbeddedPostgres: the postmaster is daemonized by pg_ctl, so there is no exit code.
    lines: list[str] = []
    up = [True]
    sup = Supervisor(Backoff(initial=0.1), log=lines.append)
    sup.start(
        Child("postgres", start=lambda: up.__setitem__(0, True), alive=lambda: up[0], stop=lambda: None)
    )
    up[0] = False
    sup.tick()
    assert re.fullmatch(r"postgres exited after [\d.]+ s; restarting in 0.1 s \(restart #1\)", lines[0])
