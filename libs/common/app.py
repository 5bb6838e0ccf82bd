"""What every service's create_app() shares: engine and sessions, the Kafka producer,
the broker watch, the outbox relay, inbox consumers, correlation ids, problem+json,
/healthz, /readyz, dead letters and metrics.

Nothing connects at import: everything is started in the lifespan. Kafka is started in
the background and retried, so a service keeps accepting work (into its outbox) while
the broker is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import dead_letter_retention, heap, tracing
from libs.common.apikeys import CredentialCache, IdentityFeed, make_resolver
from libs.common.audit import AUDIT_POLICY, audit_router, chain_forever
from libs.common.auth import PUBLIC, Rule, authorize
from libs.common.backoff import Backoff, retry
from libs.common.broker_watch import BrokerWatch
from libs.common.clock import Clock
from libs.common.config import CommonSettings, get_settings, service_database_url
from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker
from libs.common.deadletters import DEADLETTER_POLICY, deadletter_router
from libs.common.events.topics import DEAD_LETTER, IDENTITY, all_topics, epoch_topic, topic
from libs.common.hardening import ControlCharGuard, MediaTypeGuard, install_hardening
from libs.common.health import readiness
from libs.common.http_metrics import install_http_metrics
from libs.common.inbox import Handler, InboxConsumer, purge_forever
from libs.common.kafka import make_consumer, make_producer
from libs.common.logging import configure_logging, correlation_id, new_correlation_id
from libs.common.metrics import METRICS_POLICY, MetricSource, PipelineCollector, metrics_router
from libs.common.openapi_docs import install_contract_docs
from libs.common.outbox import OutboxRelay
from libs.common.problems import install_problem_handlers, unhandled_response
from libs.common.retention import get_retention_settings

log = logging.getLogger(__name__)


E = TypeVar("E")


@dataclass
class Runtime(Generic[E]):
    """The wired dependencies of one running service (app.state.rt).

    `clock` is every service's; what only one service needs (aid's rules, dispatch's offer hub,
    …) is its own dataclass in `rt.ext`, set by its on_startup and typed by `Runtime[ItsExtras]`
    (e.g. services/aid/runtime.py `AidRuntime`)."""

    service: str
    settings: CommonSettings
    db_url: str
    bootstrap: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=Clock)
    credentials: CredentialCache = field(default_factory=CredentialCache)
    producer: AIOKafkaProducer | None = None
    watch: BrokerWatch | None = None
    relay: OutboxRelay | None = None
    # Set by the relay's NOTIFY: a transaction committed outbox rows, so audit entries too.
    audit_wake: asyncio.Event = field(default_factory=asyncio.Event)
    identity_feed: IdentityFeed | None = None
    consumers: list[InboxConsumer] = field(default_factory=list)
    kafka_ready: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)
    # Service-specific figures for /metrics (libs.common.metrics), e.g. intake's re-emits.
    metric_sources: list[MetricSource] = field(default_factory=list)
    # The pipeline's collector, registered in the app's registry (with the HTTP histogram) at start.
    metrics: PipelineCollector | None = None
    metrics_registry: CollectorRegistry | None = None
    _ext: E | None = None

    @property
    def ext(self) -> E:
        """This service's own dependencies (set by its on_startup, before any route or handler runs)."""
        if self._ext is None:
            raise RuntimeError(f"{self.service}: rt.ext is read before the service's on_startup set it")
        return self._ext

    @ext.setter
    def ext(self, value: E) -> None:
        self._ext = value

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task:
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=f"{self.service}:{name}")  # type: ignore[arg-type]
        self.tasks.append(task)
        return task


@dataclass
class ServiceSpec:
    service: str
    title: str
    description: str
    routers: list[APIRouter]
    outbox: Table
    inbox: Table
    consume: list[str] = field(default_factory=list)  # logical topic names
    handlers: Callable[[Runtime], dict[str, Handler]] | None = None
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None
    on_shutdown: Callable[[Runtime], Awaitable[None]] | None = None
    consumer_group: str | None = None
    # "METHOD /path" -> Rule; every route needs one (deny by default). See libs/common/auth.py.
    policy: dict[str, Rule] = field(default_factory=dict)


class CorrelationMiddleware:
    """Pure ASGI (cheaper than BaseHTTPMiddleware on the hot path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = None
        for k, v in scope.get("headers", ()):
            if k == b"x-correlation-id":
                cid = v.decode()[:64]
                break
        cid = cid or new_correlation_id()
        token = correlation_id.set(cid)

        started = False

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append((b"x-correlation-id", cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, not by Starlette's ServerErrorMiddleware outside us: that one runs
            # after the correlation id is reset, sends without the X-Correlation-ID header and
            # re-raises, so uvicorn logged the same traceback a second time. Here it is logged
            # once, with the id, and not raised on.
            response = unhandled_response(exc)
            if not started:
                await response(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


def create_service_app(
    spec: ServiceSpec,
    *,
    db_url: str | None = None,
    bootstrap: str | None = None,
    settings: CommonSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """`clock`: tests pass a FrozenClock to move statutory time; by default the wall clock."""
    settings = settings or get_settings()
    configure_logging(spec.service, settings.log_level)
    db_url = db_url or service_database_url(spec.service, settings)
    bootstrap = bootstrap or settings.kafka_bootstrap_servers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Pool: the requests' share plus one connection per record the consumer may have in
        # progress — beyond pool_size, SQLAlchemy opens and closes an overflow connection
        # for every checkout, which costs more than the transaction it serves.
        engine = make_engine(db_url, pool_size=settings.db_pool_size + settings.consumer_concurrency)
        rt: Runtime[Any] = Runtime(
            spec.service,
            settings,
            db_url,
            bootstrap,
            engine,
            make_sessionmaker(engine),
            clock=clock or Clock(),
            credentials=app.state.credentials,
        )
        app.state.rt = rt
        rt.metrics, rt.metrics_registry = PipelineCollector(rt), app.state.metrics_registry
        rt.metrics_registry.register(rt.metrics)  # type: ignore[arg-type]
        rt.watch = BrokerWatch(
            bootstrap,
            all_topics(),
            epoch_topic=epoch_topic(),
            interval=settings.broker_check_seconds,
            service=spec.service,
        )
        rt.spawn(rt.watch.run(), "broker-watch")
        if spec.on_startup:
            await spec.on_startup(rt)
        # Everything loaded at startup (the services' dictionaries, models, policies) stays out
        # of every later full collection: no ~0.1 s stop of the event loop under load.
        log.info(
            "%s: %d startup objects frozen out of the cycle collector",
            spec.service,
            heap.freeze_startup_heap(),
        )
        rt.spawn(_start_kafka(rt, spec), "kafka")
        rt.spawn(
            chain_forever(rt.sessionmaker, interval=settings.audit_chain_seconds, wake=rt.audit_wake),
            "audit-chain",
        )
        rt.spawn(purge_forever(rt.sessionmaker, spec.inbox, spec.service, settings), "inbox-purge")
        rt.spawn(
            dead_letter_retention.purge_forever(
                rt.sessionmaker, service=spec.service, clock=rt.clock, policy=get_retention_settings()
            ),
            "dead-letter-purge",
        )
        try:
            yield
        finally:
            if spec.on_shutdown:
                with contextlib.suppress(Exception):
                    await spec.on_shutdown(rt)
            for task in rt.tasks:
                task.cancel()
            # Bounded: a part that does not stop must not keep the whole service from stopping.
            if rt.tasks:
                _, stuck = await asyncio.wait(rt.tasks, timeout=10)
                for task in stuck:
                    log.error("%s did not stop within 10 s of being cancelled", task.get_name())
            if rt.relay:
                await rt.relay.close()
            if rt.producer:
                with contextlib.suppress(Exception):
                    await rt.producer.stop()
            await rt.watch.close()
            await engine.dispose()
            rt.metrics_registry.unregister(rt.metrics)  # type: ignore[arg-type]  # a restarted app registers anew

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    app.state.policy = {**HEALTH_POLICY, **METRICS_POLICY, **AUDIT_POLICY, **DEADLETTER_POLICY, **spec.policy}
    # API keys and revoked access tokens, fed by the identity topic (libs/common/apikeys.py).
    app.state.credentials = CredentialCache()
    app.state.resolve_credentials = make_resolver(app.state.credentials)
    install_request_pipeline(app)
    # One registry per app (tests run several services in one process): the HTTP histogram here,
    # the pipeline's collector from the lifespan (libs.common.metrics).
    # Outermost, after the pipeline: it counts the size limit's 413 and every answered 500 too.
    app.state.metrics_registry = install_http_metrics(app, spec.service)
    install_contract_docs(app)
    if tracing.install(spec.service):  # off unless asked for: then nothing is installed (libs.common.tracing)
        tracing.instrument_app(app, spec.service)
    app.include_router(health_router())
    app.include_router(metrics_router())
    app.include_router(audit_router())
    app.include_router(deadletter_router(spec.service, spec.outbox))
    for router in spec.routers:
        app.include_router(router)
    return app


def install_request_pipeline(app: FastAPI) -> None:
    """The middleware and error handlers every service's requests pass through, outermost
    first: hardening (size limit, headers, audit context), CORS, the correlation id (which
    also answers any unhandled error), the media type (415), the control-character check, then
    problem+json."""
    app.add_middleware(ControlCharGuard)  # inside the correlation id: its 422 carries the id
    app.add_middleware(MediaTypeGuard)  # outside the control-character check: it may name the body JSON
    app.add_middleware(CorrelationMiddleware)
    install_hardening(app)  # outermost: size limit and audit context before anything else
    install_problem_handlers(app)


async def _start_kafka(rt: Runtime, spec: ServiceSpec) -> None:
    if rt.watch is None:
        raise RuntimeError("the broker watch starts before Kafka (start_pipeline)")
    # The watch has made the topics (with their partition counts) and knows the broker's epoch.
    await rt.watch.known.wait()

    async def start_producer() -> AIOKafkaProducer:
        producer = make_producer(rt.bootstrap)
        await producer.start()
        return producer

    def not_yet(exc: BaseException, _tries: int, _delay: float) -> None:
        log.warning("broker not reachable yet (%s); retrying", exc)

    producer = await retry(start_producer, backoff=Backoff(first=0.2, cap=5.0), on_retry=not_yet)
    rt.producer = producer
    rt.relay = OutboxRelay(
        dsn=asyncpg_dsn(rt.db_url),
        service=spec.service,
        producer=producer,
        bootstrap=rt.bootstrap,
        topics=all_topics(),
        poll_seconds=rt.settings.outbox_poll_seconds,
        watch=rt.watch,
        retention=timedelta(hours=rt.settings.outbox_retention_hours),
        on_notify=rt.audit_wake.set,
    )
    rt.spawn(rt.relay.run(), "outbox-relay")
    feed = IdentityFeed(rt.bootstrap, topic(IDENTITY), rt.credentials, watch=rt.watch)
    rt.identity_feed = feed
    rt.spawn(_supervise(feed.run, f"identity-feed:{spec.service}"), "identity-feed")
    if spec.consume and spec.handlers:
        handlers = spec.handlers(rt)
        topics = [topic(t) for t in spec.consume]
        group = spec.consumer_group or f"lawline-{spec.service}"
        consumer = InboxConsumer(
            consumer=make_consumer(rt.bootstrap, topics, group),
            consumer_factory=lambda: make_consumer(rt.bootstrap, topics, group),
            sessionmaker=rt.sessionmaker,
            inbox=spec.inbox,
            handlers=handlers,
            producer=producer,
            dead_letter_topic=topic(DEAD_LETTER),
            max_attempts=rt.settings.consumer_max_attempts,
            service=spec.service,
            concurrency=rt.settings.consumer_concurrency,
            watch=rt.watch,
            retry_max_seconds=rt.settings.consumer_retry_max_seconds,
            group=group,
        )
        rt.consumers.append(consumer)
        rt.spawn(_supervise(consumer.run, f"consumer:{spec.service}"), "consumer")
    rt.kafka_ready.set()


async def _supervise(run: Callable[[], Awaitable[None]], name: str) -> None:
    """Restart a consumer loop that dies (broker restarts, rebalances gone wrong), after 1 s."""

    def restarting(exc: BaseException, _tries: int, _delay: float) -> None:
        log.warning("%s stopped (%s); restarting", name, exc)

    while True:  # a loop that returns is started again too
        await retry(run, backoff=Backoff(first=1.0, cap=1.0), on_retry=restarting)


HEALTH_POLICY = {"GET /healthz": PUBLIC, "GET /readyz": PUBLIC}


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Ready: database, broker, outbox relay, consumer and credentials all working",
        description="503 names every check that fails: the database unreachable, the broker not "
        "checked recently or a topic with another partition count, the oldest unpublished event "
        "waiting too long, the consumer without partitions, not polling or stuck on a transient "
        "error, the credential cache not yet caught up.",
    )
    async def readyz(request: Request) -> JSONResponse:
        checks = await readiness(request.app.state.rt)
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503
        )

    return router
