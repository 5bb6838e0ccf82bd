"""Real infrastructure for tests.

By default the suite starts its own embedded PostgreSQL and Tansu broker on free
ports (so parallel runs never collide) and stops them at the end. Set
`LAWLINE_TEST_DATABASE_URL` / `LAWLINE_TEST_KAFKA` to use existing servers instead.
Nothing here skips: a test that needs a server it cannot reach fails.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres, create_database, free_port
from libs.common.migrate import upgrade_async


@dataclass
class Infra:
    server_url: str
    bootstrap: str
    pg: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    tmp: Path | None = None
    databases: list[str] = field(default_factory=list)
    # Alembic's `context` is process-global: two upgrades at once corrupt each other.
    migrate_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def db_url(self, name: str) -> str:
        return self.server_url.rsplit("/", 1)[0] + f"/{name}"

    async def fresh_database(self, service: str, *, seed: bool = True) -> str:
        """A new, migrated (and seeded) database for one service."""
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        await create_database(self.server_url, name)
        self.databases.append(name)
        url = self.db_url(name)
        async with self.migrate_lock:
            await upgrade_async(service, url)
        if seed:
            from libs.common.seed import seed_service

            await seed_service(service, url)
        return url


def start_infra() -> Infra:
    tmp = Path(tempfile.mkdtemp(prefix="lawline-test-"))
    tmp.chmod(0o755)  # postgres runs as an unprivileged user when we are root
    server_url = os.environ.get("LAWLINE_TEST_DATABASE_URL")
    bootstrap = os.environ.get("LAWLINE_TEST_KAFKA")
    pg = broker = None
    if not server_url:
        pg = EmbeddedPostgres(tmp / "pg", free_port()).start()
        server_url = pg.url
    if not bootstrap:
        broker = EmbeddedBroker(free_port(), log_path=tmp / "broker.log").start()
        bootstrap = broker.bootstrap
    infra = Infra(server_url, bootstrap, pg, broker, tmp)
    atexit.register(stop_infra, infra)  # even if the run is interrupted: no orphan servers
    return infra


def stop_infra(infra: Infra) -> None:
    if infra.broker:
        infra.broker.stop()
        infra.broker = None
    if infra.pg:
        infra.pg.stop()
        infra.pg = None


@dataclass
class RunningService:
    name: str
    app: object
    url: str
    server: uvicorn.Server
    task: asyncio.Task

    @property
    def rt(self):  # type: ignore[no-untyped-def]
        return self.app.state.rt  # type: ignore[attr-defined]

    def client(self, **kw) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
        return httpx.AsyncClient(base_url=self.url, timeout=10, **kw)

    async def stop(self) -> None:
        self.server.should_exit = True
        _, pending = await asyncio.wait({self.task}, timeout=15)
        if pending:  # not stopped: force it, or the test run hangs at its end
            self.server.force_exit = True
            self.task.cancel()
            await asyncio.wait({self.task}, timeout=5)
        if self.task.done() and not self.task.cancelled():
            with contextlib.suppress(BaseException):
                self.task.result()


async def stand_in_identity(bootstrap: str) -> None:
    """For tests that run services without the identity service: announce, as identity would,
    a credential snapshot — an empty one, which is the truth for such a test (no API key was
    made, no token revoked). A starting service is not ready until it has read a snapshot
    (libs.common.apikeys), so without this it would answer 503 for ever."""
    from datetime import UTC, datetime

    from libs.common.events import identity as iev
    from libs.common.events.envelope import make_event
    from libs.common.events.topics import IDENTITY, all_topics, topic
    from libs.common.kafka import ensure_topics, make_producer

    await ensure_topics(bootstrap, all_topics())
    payload = iev.CredentialsSnapshotV1(
        snapshot_id=f"test-{uuid.uuid4().hex}",
        page=1,
        pages=1,
        taken_at=datetime.now(UTC),
        keys=[],
        revoked_key_ids=[],
        revoked_tokens=[],
    )
    headers, value = make_event(iev.CREDENTIALS_SNAPSHOT, source=iev.SOURCE, payload=payload).to_kafka()
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic(IDENTITY), value=value, key=b"snapshot:1", headers=headers)
    finally:
        await producer.stop()


async def serve(name: str, app, *, stand_in: bool | None = None, credentials: str = "wait") -> RunningService:  # type: ignore[no-untyped-def]
    """Run an app on a real socket in this event loop (lifespan included), and wait until its
    credential cache is ready. `stand_in` (default: unless it is identity itself) announces an
    empty credential snapshot first (`stand_in_identity`); `credentials="none"` is for an app
    with no broker at all: its cache is marked ready at once (no identity, no credentials)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    else:
        raise TimeoutError(f"{name} did not start")
    # A service answers 503 until its credential cache has read the identity topic: wait for
    # that here, as a client of a real deployment would wait for /readyz.
    cache = getattr(app.state, "credentials", None)
    if cache is not None and credentials == "none":
        cache.ready = True
    elif cache is not None:
        if stand_in if stand_in is not None else name != "identity":
            await stand_in_identity(app.state.rt.bootstrap)
        for _ in range(1500):
            if cache.ready:
                break
            await asyncio.sleep(0.02)
        else:
            raise TimeoutError(f"{name}: credential cache not ready after 30 s")
    return RunningService(name, app, f"http://127.0.0.1:{port}", server, task)


async def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


@contextlib.asynccontextmanager
async def services(
    infra: Infra, *names: str, clock=None, stand_in: bool | None = None
) -> AsyncIterator[dict[str, RunningService]]:  # type: ignore[no-untyped-def]
    """Start the named services, each on a fresh database, all on the test broker. Without
    identity among them, an empty credential snapshot stands in for it (`stand_in_identity`)
    unless `stand_in=False`."""
    import importlib

    urls = await asyncio.gather(*(infra.fresh_database(n) for n in names))
    running: dict[str, RunningService] = {}
    # Identity first: every other service is ready only once it has read identity's snapshot.
    order = sorted(zip(names, urls, strict=True), key=lambda nu: nu[0] != "identity")
    try:
        for name, url in order:
            module = importlib.import_module(f"services.{name}.main")
            kwargs = {"db_url": url, "bootstrap": infra.bootstrap}
            if clock is not None:
                kwargs["clock"] = clock
            alone = stand_in if stand_in is not None else "identity" not in names
            running[name] = await serve(
                name, module.create_app(**kwargs), stand_in=alone and name != "identity"
            )
        yield running
    finally:
        for svc in running.values():
            await svc.stop()


async def consumers_ready(*svcs: RunningService, timeout: float = 30.0) -> None:
    """Wait until every service's Kafka consumer has joined its group and has partitions."""

    async def ready() -> bool:
        for s in svcs:
            if not s.rt.kafka_ready.is_set():
                return False
            for c in s.rt.consumers:
                if not c.consumer.assignment():
                    return False
        return True

    await wait_for(ready, timeout=timeout, what="consumers to join their groups")
