"""`make run`'s supervision of the real embedded PostgreSQL and broker (scripts/devstack.py
wiring, scripts/supervisor.py logic): each killed with -9 comes back on the same port —
PostgreSQL on the same data dir, despite its stale postmaster.pid, a leftover backend and
the dead postmaster's zombie."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from scripts.devstack import broker_child, postgres_child
from scripts.supervisor import Backoff, Supervisor


@pytest.fixture
def tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lawline-restarts-"))
    path.chmod(0o755)  # postgres runs as an unprivileged user when we are root
    yield path
    shutil.rmtree(path, ignore_errors=True)


def supervise_until(sup: Supervisor, cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "not restarted in time"
        sup.tick()
        time.sleep(0.05)


def dead(p: psutil.Process) -> bool:
    """Killed: gone, or a zombie that init has not reaped yet."""
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def sql(pg: EmbeddedPostgres, statement: str) -> object:
    conn = await asyncpg.connect(pg.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def test_postgres_killed_with_minus_9_is_restarted_on_its_data_dir_and_port(tmp: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(Backoff(initial=0.2), log=lines.append)
    pg = EmbeddedPostgres(tmp / "pg", free_port())
    child = sup.start(postgres_child(pg))
    try:
        asyncio.run(sql(pg, "CREATE TABLE kept AS SELECT 42 AS x"))
        old = pg.postmaster
        assert old is not None and pg.running()
        # A backend that does not notice its postmaster died, as one busy in a long query
        # would not: it keeps the shared memory attached, which alone blocks a restart.
        stuck = next(p for p in pg._processes() if p.pid != old.pid)
        stuck.suspend()
        os.kill(old.pid, signal.SIGKILL)
        supervise_until(sup, lambda: child.restarts == 1 and pg.running())

        assert re.fullmatch(r"postgres exited after [\d.]+ s; restarting in 0.2 s \(restart #1\)", lines[0])
        assert lines[1] == f"postgres restarted (postmaster pid {pg.postmaster.pid})"
        assert pg.postmaster.pid != old.pid and dead(stuck)
        assert asyncio.run(sql(pg, "SELECT x FROM kept")) == 42  # same data dir, same port

        # Again, with nothing left behind to wait for: the restart comes while the dead
        # postmaster may still be a zombie (init reaps it in its own time), which postgres
        # takes for a live one holding postmaster.pid — it must not matter.
        os.kill(pg.postmaster.pid, signal.SIGKILL)
        supervise_until(sup, lambda: child.restarts >= 2 and pg.running())
        assert re.fullmatch(r"postgres exited after [\d.]+ s; restarting in 0.4 s \(restart #2\)", lines[2])
        assert lines[3:] == [f"postgres restarted (postmaster pid {pg.postmaster.pid})"]
        assert asyncio.run(sql(pg, "SELECT x FROM kept")) == 42
    finally:
        sup.stop()
    assert pg._processes() == [] and not pg.running()  # nothing left behind


def test_broker_killed_with_minus_9_is_restarted_on_its_port_appending_to_its_log(tmp: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(Backoff(initial=0.2), log=lines.append)
    broker = EmbeddedBroker(free_port(), log_path=tmp / "broker.log")
    child = sup.start(broker_child(broker))
    try:
        old = broker.process.pid
        os.kill(old, signal.SIGKILL)
        supervise_until(sup, lambda: child.restarts == 1 and broker.running())

        assert re.fullmatch(
            r"broker exited with code -9 after [\d.]+ s; restarting in 0.2 s \(restart #1\)", lines[0]
        )
        new = broker.process.pid
        assert lines[1] == f"broker restarted (pid {new})" and new != old
        with socket.create_connection(("127.0.0.1", broker.port), timeout=2):
            pass
        listening = f"listening on: tcp://127.0.0.1:{broker.port}"
        assert (tmp / "broker.log").read_text().count(listening) == 2
    finally:
        sup.stop()
    assert broker.process is None
    for pid in (old, new):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
