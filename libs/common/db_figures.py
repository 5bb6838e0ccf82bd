"""Business figures on `/metrics`, read from a service's own database at scrape time.

A service registers one `DatabaseFigures` in `rt.metric_sources` with its query (a few grouped
counts over indexed columns, see services/*/metrics.py). The answer is kept `ttl` seconds
(`LAWLINE_FIGURES_TTL_SECONDS`, 15 by default): Prometheus, a second Prometheus of an HA pair
and an operator's curl may all scrape every few seconds, and each would otherwise run the
counts again on PostgreSQL. Measured: intake's figures over 300,000 orders take 0.3 s on a
loaded 2-core machine — at most one read per 15 s per replica.
Concurrent scrapes share one query. A failed read keeps the last figures (their age shows it:
`lawline_figures_age_seconds`) and is not retried before the next ttl either, so a struggling
database is not asked again by every scrape.

Every replica of a service reads the same database, so these gauges are the same on each pod:
dashboards and rules take `max by (…)` over them, never `sum`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from libs.common.app import Runtime

log = logging.getLogger(__name__)

# (connection, now from the service's clock, service name) → the families of one read.
FigureQuery = Callable[[AsyncConnection, datetime, str], Awaitable[list[Metric]]]
QUERY_TIMEOUT = 5.0


class DatabaseFigures:
    def __init__(
        self,
        rt: Runtime,
        query: FigureQuery,
        *,
        ttl: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rt, self.query, self.monotonic = rt, query, monotonic
        self.ttl = rt.settings.figures_ttl_seconds if ttl is None else ttl
        self.families: list[Metric] = []
        self.tried_at: float | None = None
        self.read_at: float | None = None  # the last successful read
        self.reads = 0
        self.failures = 0
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self.tried_at is not None and self.monotonic() - self.tried_at < self.ttl

    async def refresh(self) -> None:
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():  # another scrape read them while this one waited
                return
            try:
                async with asyncio.timeout(QUERY_TIMEOUT), self.rt.engine.connect() as conn:
                    self.families = await self.query(conn, self.rt.clock.now(), self.rt.service)
                self.reads += 1
                self.read_at = self.monotonic()
            except Exception:
                self.failures += 1
                log.warning("%s: business figures could not be read", self.rt.service, exc_info=True)
            finally:
                self.tried_at = self.monotonic()

    def __call__(self) -> Iterable[Metric]:
        yield from self.families
        svc = self.rt.service
        age = GaugeMetricFamily(
            "lawline_figures_age_seconds",
            "Seconds since the business figures were last read from the database (-1: never)",
            labels=["service"],
        )
        age.add_metric([svc], self.monotonic() - self.read_at if self.read_at is not None else -1.0)
        yield age
        failed = CounterMetricFamily(
            "lawline_figures_read_failures", "Reads of the business figures that failed", labels=["service"]
        )
        failed.add_metric([svc], self.failures)
        yield failed


def gauge(
    name: str, help_: str, service: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], Any]]
) -> GaugeMetricFamily:
    """A gauge family labelled `service` + `labels`, from (label values, value) rows."""
    family = GaugeMetricFamily(name, help_, labels=["service", *labels])
    for values, value in rows:
        family.add_metric([service, *(str(v) for v in values)], float(value or 0))
    return family


def case_gauges(
    service: str,
    by_status: Iterable[tuple[tuple[str, ...], Any]],
    clocks_overdue: Iterable[tuple[tuple[str, ...], Any]],
) -> list[Metric]:
    """The two case families legal aid and mediation both export (one name each, told apart by
    `service`): cases by state, and statutory clocks past their due day."""
    return [
        gauge("lawline_cases", "Legal-aid / mediation cases by state", service, ["status"], by_status),
        gauge(
            "lawline_case_clocks_overdue",
            "Statutory clocks past their due day, neither met nor cancelled",
            service,
            ["clock"],
            clocks_overdue,
        ),
    ]
