"""The stack a benchmark runs against, started by the benchmark itself.

Embedded PostgreSQL and Tansu on free ports (libs/common/embedded.py), one migrated and
seeded database per service, and each service as its own uvicorn SUBPROCESS (so the
load generator never shares their process or GIL). Everything listens on 127.0.0.1
and everything is stopped at the end — no orphan servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres, create_database, free_port
from libs.common.migrate import upgrade_async
from libs.common.seed import seed_service
from libs.common.testing.auth import token

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Proc:
    name: str
    url: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


@dataclass
class Stack:
    tmp: Path
    pg: EmbeddedPostgres
    broker: EmbeddedBroker
    db_urls: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def server_url(self) -> str:
        return self.pg.url

    def db_url(self, name: str) -> str:
        return self.pg.url.rsplit("/", 1)[0] + f"/{name}"

    def dsn(self, name: str) -> str:
        return self.db_url(name).replace("postgresql+asyncpg://", "postgresql://", 1)

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def headers(self, role: str = "operator", region: str = "1404") -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, region=region)}"}

    async def database(self, name: str, service: str, *, seed: bool = True) -> str:
        await create_database(self.server_url, name, drop=True)
        url = self.db_url(name)
        await upgrade_async(service, url)
        if seed:
            await seed_service(service, url)
        return url

    def start_service(
        self,
        service: str,
        db_url: str,
        *,
        name: str | None = None,
        profile_to: Path | None = None,
        root: Path = ROOT,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Proc:
        """`root`: the source tree to run (A/B comparisons of a patched copy); `port`: the
        same port again (a restart after a fault); `env`: settings for this run."""
        name = name or service
        port = port or free_port()
        env = {
            **os.environ,
            f"{service.upper()}_DATABASE_URL": db_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LAWLINE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(root),
            **(env or {}),
        }
        if profile_to is not None:
            cmd = [sys.executable, "-m", "bench.profiled", f"services.{service}.main:create_app", str(port)]
            env["BENCH_PROFILE_OUT"] = str(profile_to)
        else:
            cmd = [
                sys.executable, "-m", "uvicorn", "--factory", f"services.{service}.main:create_app",
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        log = self.tmp / f"{name}.log"
        popen = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        proc = Proc(name, f"http://127.0.0.1:{port}", popen, log)
        self.procs[name] = proc
        return proc

    async def ready(self, proc: Proc, timeout: float = 60.0) -> None:
        """Wait for /readyz (database and broker reachable) and the Kafka consumers to settle."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=proc.url, timeout=2) as c:
            while time.monotonic() < deadline:
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited: {proc.log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{proc.name} not ready after {timeout}s: {proc.log.read_text()[-2000:]}")

    def stop_service(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc:
            proc.stop()

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_service(name)
        self.broker.stop()
        self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start() -> Stack:
    tmp = Path(tempfile.mkdtemp(prefix="lawline-bench-"))
    tmp.chmod(0o755)  # postgres runs as an unprivileged user when we are root
    # BENCH_PG_OPTIONS: extra server settings for a measurement (bench/statements.py loads
    # pg_stat_statements this way); never set by `make bench`.
    pg = EmbeddedPostgres(tmp / "pg", free_port(), options=os.environ.get("BENCH_PG_OPTIONS", "")).start()
    try:
        broker = EmbeddedBroker(free_port(), log_path=tmp / "broker.log").start()
    except BaseException:
        pg.stop()
        raise
    return Stack(tmp, pg, broker)


async def start_app_stack(stack: Stack, *, dispatch: bool = True) -> None:
    """intake (+ dispatch) on fresh databases. Dispatch's demo staff get a capacity no
    benchmark can fill, so a long run measures routing, not "everyone is at capacity"."""
    from libs.common.testing.infra import stand_in_identity

    await stand_in_identity(stack.bootstrap)  # no identity here: nothing to learn credentials from
    intake_url = await stack.database("bench_intake", "intake", seed=True)
    stack.db_urls["intake"] = intake_url
    stack.start_service("intake", intake_url)
    if dispatch:
        dispatch_url = await stack.database("bench_dispatch", "dispatch", seed=True)
        stack.db_urls["dispatch"] = dispatch_url
        conn = await asyncpg.connect(stack.dsn("bench_dispatch"))
        try:
            await conn.execute("UPDATE staff SET capacity = 1000000")
        finally:
            await conn.close()
        stack.start_service("dispatch", dispatch_url)
    for proc in list(stack.procs.values()):
        await stack.ready(proc)
