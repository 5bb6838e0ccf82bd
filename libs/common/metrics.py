"""`GET /metrics` (Prometheus text format, prometheus-client) on every service: the delivery
pipeline's figures, read from the parts themselves when Prometheus scrapes — nothing is counted
twice on the hot path.

Each app has its own registry (tests run several services in one process; the default global
registry would mix them). What a scrape shows:

- outbox: age of the oldest unpublished row, rows waiting, rows published / republished after a
  broker reset / purged, failed drains;
- consumer (per group): lag per partition (log end − position), records handled, inbox
  duplicates, dead-lettered, transient retries, partitions read again after a reset, seconds the
  longest transient retry has waited;
- dead letters in the database by status;
- broker: seconds since the last successful check, epoch changes seen, topics whose partition
  count differs from the configured one;
- credentials: cache caught up (1/0), identity topic re-reads;
- HTTP rate, errors and latency per route (libs.common.http_metrics);
- whatever the service adds (`Runtime.metric_sources`: intake's reconciliation re-emits, and each
  service's business figures read from its database, cached — libs.common.db_figures).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import text

from libs.common.aio import within
from libs.common.auth import PUBLIC
from libs.common.db_figures import DatabaseFigures

if TYPE_CHECKING:
    from libs.common.app import Runtime

MetricSource = Callable[[], Iterable[Metric]]
METRICS_POLICY = {"GET /metrics": PUBLIC}  # no personal data; production scrapes it inside the cluster


class PipelineCollector:
    """A prometheus-client custom collector over one service's runtime. `refresh()` (async: it
    asks the database and the consumer) runs before each scrape; `collect()` only reads."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db: dict[str, Any] = {}
        self.lag: dict[tuple[str, str, int], int] = {}

    async def refresh(self) -> None:
        self.db = await self._database()
        self.lag = await self._lag()
        for source in self.rt.metric_sources:
            if isinstance(source, DatabaseFigures):  # cached: a read at most every ttl seconds
                await source.refresh()

    async def _database(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(2.0), self.rt.engine.connect() as conn:
                waiting = (
                    await conn.execute(
                        text(
                            "SELECT count(*), extract(epoch FROM now() - min(created_at)) "
                            "FROM outbox WHERE published_at IS NULL"
                        )
                    )
                ).one()
                rows = (
                    await conn.execute(text("SELECT status, count(*) FROM dead_letters GROUP BY 1"))
                ).all()
                letters: dict[str, int] = {str(status): int(n) for status, n in rows}
        except Exception:
            return {"up": 0}
        age = float(waiting[1] or 0.0)
        if self.rt.relay is not None:  # a republished row waits from its republish, not its creation
            age = await self.rt.relay.oldest_unpublished_age()
        return {"up": 1, "waiting": int(waiting[0]), "age": age, "letters": letters}

    async def _lag(self) -> dict[tuple[str, str, int], int]:
        out = {}
        for consumer in self.rt.consumers:
            kafka = consumer.consumer
            for tp in list(kafka.assignment()):
                hw = kafka.highwater(tp)
                if hw is None:
                    continue
                try:
                    position = await within(kafka.position(tp), 0.2)
                except Exception:
                    continue
                out[(consumer.group, tp.topic, tp.partition)] = max(0, hw - position)
        return out

    def describe(self) -> list[Metric]:
        return []  # the families depend on the runtime: nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        rt, svc = self.rt, self.rt.service
        yield _gauge(
            "lawline_database_up", "1 when the last scrape could read the database", svc, self.db.get("up", 0)
        )
        yield _gauge(
            "lawline_outbox_oldest_unpublished_seconds",
            "How long the oldest unpublished outbox row has waited",
            svc,
            self.db.get("age", 0.0),
        )
        yield _gauge(
            "lawline_outbox_unpublished_rows",
            "Outbox rows waiting to be published",
            svc,
            self.db.get("waiting", 0),
        )
        relay = rt.relay
        for name, help_, value in (
            ("published", "Outbox rows published", relay.published if relay else 0),
            (
                "republished",
                "Outbox rows published again after the broker lost its data",
                relay.republished if relay else 0,
            ),
            (
                "purged",
                "Published outbox rows purged after the retention window",
                relay.purged if relay else 0,
            ),
            (
                "publish_failures",
                "Outbox drains that failed (broker or database away)",
                relay.failures if relay else 0,
            ),
        ):
            yield _counter(f"lawline_outbox_{name}", help_, svc, value)
        letters = GaugeMetricFamily(
            "lawline_dead_letters", "Dead letters in this service's database", labels=["service", "status"]
        )
        for status in ("open", "replayed", "discarded"):
            letters.add_metric([svc, status], self.db.get("letters", {}).get(status, 0))
        yield letters
        yield from self._consumer_metrics()
        yield from self._broker_metrics()
        for source in rt.metric_sources:
            yield from source()

    def _consumer_metrics(self) -> Iterable[Metric]:
        svc = self.rt.service
        lag = GaugeMetricFamily(
            "lawline_consumer_lag_records",
            "Records in a partition beyond this consumer's position",
            labels=["service", "group", "topic", "partition"],
        )
        for (group, topic, partition), n in sorted(self.lag.items()):
            lag.add_metric([svc, group, topic, str(partition)], n)
        yield lag
        families = {
            "processed": ("Records handled (their effect committed)", lambda c: c.processed),
            "duplicates": ("Records the inbox had seen already (no second effect)", lambda c: c.duplicates),
            "dead_lettered": (
                "Records dead-lettered after the handler kept failing",
                lambda c: c.dead_lettered,
            ),
            "transient_retries": (
                "Retries of records that failed on the infrastructure (never dead-lettered)",
                lambda c: c.transient_retries,
            ),
            "partition_replays": (
                "Partitions read again from the start (broker reset, log end moved back)",
                lambda c: c.lanes.replays if c.lanes else 0,
            ),
        }
        for name, (help_, read) in families.items():
            family = CounterMetricFamily(f"lawline_consumer_{name}", help_, labels=["service", "group"])
            for c in self.rt.consumers:
                family.add_metric([svc, c.group], read(c))
            yield family
        waiting = GaugeMetricFamily(
            "lawline_consumer_waiting_seconds",
            "How long the longest transient retry has waited (0: none)",
            labels=["service", "group"],
        )
        for c in self.rt.consumers:
            since = c.waiting_since
            waiting.add_metric([svc, c.group], time.monotonic() - since if since is not None else 0.0)
        yield waiting

    def _broker_metrics(self) -> Iterable[Metric]:
        svc, watch = self.rt.service, self.rt.watch
        age = time.monotonic() - watch.checked_at if watch and watch.checked_at is not None else -1.0
        yield _gauge(
            "lawline_broker_check_age_seconds",
            "Seconds since the broker was last checked (-1: never)",
            svc,
            age,
        )
        yield _counter(
            "lawline_broker_epoch_changes",
            "Times the broker was found to have lost its data",
            svc,
            watch.changes if watch else 0,
        )
        mismatch = GaugeMetricFamily(
            "lawline_topic_partitions_mismatch",
            "Partition count of a topic that differs from the configured one",
            labels=["service", "topic"],
        )
        for topic, count in sorted((watch.mismatched if watch else {}).items()):
            mismatch.add_metric([svc, topic], count)
        yield mismatch
        cache = self.rt.credentials
        feed = self.rt.identity_feed
        yield _gauge(
            "lawline_credentials_ready",
            "1 once the credential cache has caught up",
            svc,
            int(bool(cache and cache.ready)),
        )
        yield _counter(
            "lawline_credentials_rereads",
            "Identity topic re-read after a broker reset",
            svc,
            feed.rereads if feed else 0,
        )


def _gauge(name: str, help_: str, service: str, value: float) -> GaugeMetricFamily:
    g = GaugeMetricFamily(name, help_, labels=["service"])
    g.add_metric([service], value)
    return g


def _counter(name: str, help_: str, service: str, value: float) -> CounterMetricFamily:
    c = CounterMetricFamily(name, help_, labels=["service"])
    c.add_metric([service], value)
    return c


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics of the delivery pipeline", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        rt = request.app.state.rt
        if rt.metrics is None or rt.metrics_registry is None:
            raise RuntimeError("/metrics is read before the lifespan registered the collector")
        await rt.metrics.refresh()
        return Response(generate_latest(rt.metrics_registry), media_type=CONTENT_TYPE_LATEST)

    return router
