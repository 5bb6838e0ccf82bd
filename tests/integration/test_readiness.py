"""/readyz tells the truth about a running intake, and a request while the database is away is
told to come back (503 + Retry-After), never given a 500: green when every part works; red,
naming the part, while the broker is away, while an outbox row waits too long, while the
database is unreachable; green again once each is back. Real PostgreSQL, a private broker."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from libs.common.config import get_settings
from libs.common.embedded import EmbeddedPostgres, free_port
from libs.common.kafka import ensure_topics
from libs.common.testing.auth import auth
from libs.common.testing.infra import Infra, services, wait_for
from tests.integration.pipeline_helpers import CHECK_SECONDS, PrivateBroker, closed_event

ORDER = {
    "channel": "web",
    "requester": {"name": "赵建国", "phone": "13912345678"},
    "region_code": "140425",
    "service_type": "consultation",
    "description": "公司不给缴社保，想咨询怎么维权。",
}
CHECKS = {"database", "broker", "outbox", "consumer:lawline-intake", "credentials"}


@pytest.fixture(scope="module")
async def intake(infra):
    """One intake on a broker of this module's own (tests that stop the broker come last)."""
    broker = PrivateBroker(infra.tmp or Path(tempfile.mkdtemp(prefix="lawline-ready-"))).start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            with pytest.MonkeyPatch.context() as env:  # read when the app is made
                env.setenv("LAWLINE_BROKER_CHECK_SECONDS", str(CHECK_SECONDS))
                env.setenv("LAWLINE_READY_OUTBOX_SECONDS", "5")
                get_settings.cache_clear()
                try:
                    svc = await stack.enter_async_context(services(broker.infra(infra), "intake"))
                finally:
                    get_settings.cache_clear()
            svc["intake"].broker = broker
            yield svc["intake"]
    finally:
        broker.stop()


async def _readyz(svc) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    async with svc.client() as c:
        r = await c.get("/readyz")
    return r.status_code, r.json()["checks"]


async def _until_ready(svc, timeout: float = 30) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async def ready():
        status, checks = await _readyz(svc)
        return checks if status == 200 else None

    return await wait_for(ready, timeout=timeout, what=f"{svc.name} ready")


async def _until_red(svc, check: str, starts: str, timeout: float = 15) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async def red():
        status, checks = await _readyz(svc)
        return checks if status == 503 and checks[check].startswith(starts) else None

    return await wait_for(red, timeout=timeout, what=f"readyz to say {check}: {starts}…")


async def test_readyz_is_green_when_every_part_works(intake):
    checks = await _until_ready(intake)
    assert checks == {name: "ok" for name in CHECKS}


async def test_readyz_is_red_while_an_outbox_row_waits_too_long(intake):
    await _until_ready(intake)
    stuck_topic = f"t.not-yet.{uuid.uuid4().hex[:8]}"  # no one has made it: nothing can be sent there
    async with intake.rt.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO outbox (event_id, topic, key, event, created_at) "
                "VALUES (:id, :topic, '140425', CAST(:event AS jsonb), now() - interval '1 hour')"
            ),
            {"id": uuid.uuid4().hex, "topic": stuck_topic, "event": _json(closed_event("140425"))},
        )
    checks = await _until_red(intake, "outbox", "oldest unpublished event waiting 36")
    assert checks["broker"] == "ok" and checks["database"] == "ok"

    async def reason_named():
        _, checks = await _readyz(intake)
        return checks["outbox"] if "(" in checks["outbox"] else None  # the relay's last error

    reason = await wait_for(reason_named, timeout=20, what="the relay's error in the reason")
    assert "KafkaTimeoutError" in reason or "UnknownTopicOrPartition" in reason, reason

    await ensure_topics(intake.broker.bootstrap, [stuck_topic], partitions=12)
    await _until_ready(intake, timeout=30)
    async with intake.rt.sessionmaker() as s:
        assert await s.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")) == 0


async def test_readyz_is_red_while_the_broker_is_away_and_green_after(intake):
    await _until_ready(intake)
    changes = intake.rt.watch.changes
    intake.broker.stop()
    stopped = asyncio.get_running_loop().time()
    await _until_red(intake, "broker", "unreachable: ")
    # Within a few checks: the watch counts as healthy for max(3 intervals, 6 s) after its last success.
    assert asyncio.get_running_loop().time() - stopped < 6 + 4 * CHECK_SECONDS
    async with intake.client() as c:
        assert (await c.get("/healthz")).status_code == 200  # alive: nothing to restart

    intake.broker.start()  # empty: topics, epoch and the consumer group made anew
    checks = await _until_ready(intake, timeout=40)
    assert checks == {name: "ok" for name in CHECKS}
    assert intake.rt.watch.changes == changes + 1


def _json(event) -> str:  # type: ignore[no-untyped-def]
    import orjson

    return orjson.dumps(event.to_json()).decode()


def _started_postgres(parent: Path | None) -> EmbeddedPostgres:
    tmp = Path(tempfile.mkdtemp(prefix="lawline-pg-", dir=parent))
    tmp.chmod(0o755)  # postgres runs as an unprivileged user when we are root
    return EmbeddedPostgres(tmp / "pg", free_port()).start()


@contextlib.asynccontextmanager
async def _private_postgres(infra):  # type: ignore[no-untyped-def]
    """A PostgreSQL server of this test's own, to stop and start again."""
    pg = await asyncio.to_thread(_started_postgres, infra.tmp)
    try:
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)


class ServerStopped:
    """PostgreSQL itself is down (restarting, failing over): connections refused."""

    def __init__(self, pg: EmbeddedPostgres) -> None:
        self.pg = pg

    async def break_(self, db_url: str) -> None:
        await asyncio.to_thread(self.pg.stop)

    async def mend(self, db_url: str) -> None:
        await asyncio.to_thread(self.pg.start)


class DatabaseClosed:
    """The server runs, but this database takes no connections (ALLOW_CONNECTIONS false, as
    during maintenance) and the ones it had were terminated."""

    def __init__(self, server_url: str) -> None:
        self.dsn = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def _sql(self, *statements: tuple[str, ...]) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            for statement, *args in statements:
                await conn.execute(statement, *args)
        finally:
            await conn.close()

    async def break_(self, db_url: str) -> None:
        name = db_url.rsplit("/", 1)[1]
        await self._sql(
            (f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',),
            ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name),
        )

    async def mend(self, db_url: str) -> None:
        await self._sql((f'ALTER DATABASE "{db_url.rsplit("/", 1)[1]}" ALLOW_CONNECTIONS true',))


async def test_requests_get_503_with_retry_after_while_the_database_is_away(
    infra, private_broker, fast_settings
):
    """Closed to connections (as during maintenance), then the server itself stopped (a restart,
    a failover): every request is told to retry, none answered 500; all is well once it is back."""
    fast_settings(broker_check_seconds=CHECK_SECONDS)
    async with _private_postgres(infra) as pg:
        where = Infra(pg.url, private_broker.bootstrap, tmp=infra.tmp)
        async with services(where, "intake") as svc:
            intake = svc["intake"]
            await _until_ready(intake)
            for fault in (DatabaseClosed(pg.url), ServerStopped(pg)):
                await _outage(intake, fault)

            async def published():  # the relay's pool and LISTEN connection came back too
                async with intake.rt.sessionmaker() as s:
                    return await s.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")) == 0

            await wait_for(published, timeout=15, what="the new orders' events published")


async def _outage(intake, fault) -> None:  # type: ignore[no-untyped-def]
    async with intake.client(headers=auth("operator")) as c:
        assert (await c.get("/v1/work-orders")).status_code == 200
        await fault.break_(intake.rt.db_url)
        for _ in range(3):  # a pooled connection that died, then new ones refused
            for r in (
                await c.get("/v1/work-orders"),
                await c.post("/v1/work-orders", json=ORDER, headers={"Idempotency-Key": uuid.uuid4().hex}),
            ):
                assert r.status_code == 503, f"{type(fault).__name__}: {r.text}"
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["Retry-After"] == "5" and r.json()["code"] == "dependency_unavailable"
        checks = await _until_red(intake, "database", "unreachable: ")
        assert checks["broker"] == "ok"

        await fault.mend(intake.rt.db_url)
        await _until_ready(intake)
        r = await c.post("/v1/work-orders", json=ORDER, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
