"""HTTP rate, errors and latency per route for `/metrics`: one histogram per app,
`lawline_http_request_duration_seconds{service, method, route, status}`, the time from the
request to its response's headers.

Its `_count` is the request rate, `_count{status="5xx"}` the error rate, the buckets the latency
quantiles. `route` is the matched route's template (`/v1/work-orders/{order_id}`), never the
raw path — one series per route, however many ids the clients send; a request no route
matched is `route="unmatched"`. `status` is the class (`2xx` … `5xx`) and `method` one of the
HTTP methods (anything else is `OTHER`), so the label set stays bounded whatever a client sends.

Pure ASGI and cheap on the hot path (the project counts CPU per order): per request one clock
read at each end, one dict lookup for the labelled child (cached by route, method and status
class) and one histogram observe. Outermost in the stack, so a 413 from the size limit and the
500 the correlation middleware answers for an unhandled error are counted too.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

HTTP_METRIC = "lawline_http_request_duration_seconds"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CLASSES = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")
# Prometheus' default buckets, with 25 ms and 250 ms where an API's p95 usually sits.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def status_class(status: int) -> str:
    return _CLASSES[status // 100] if 100 <= status < 600 else "5xx"


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The template of the route the router matched (Starlette sets `scope["route"]`, also for a
    405's partial match), or `unmatched` — never the raw path, which would make a series per id."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    return getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED


class HttpMetrics:
    """One app's histogram and its cache of labelled children."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.histogram = Histogram(
            HTTP_METRIC,
            "HTTP requests by route template, method and status class: rate, errors, latency",
            ["service", "method", "route", "status"],
            registry=registry,
            buckets=BUCKETS,
        )
        # (route, method, status class) → child; `labels()` builds and locks on every call.
        self._children: dict[tuple[str, str, str], Any] = {}

    def child(self, route: str, method: str, status: str) -> Any:
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = self.histogram.labels(self.service, method, route, status)
        return found


class HttpMetricsMiddleware:
    """Pure ASGI (BaseHTTPMiddleware would cost a task and a stream per request)."""

    def __init__(self, app: Any, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observed = False

        async def send_with_status(message: MutableMapping[str, Any]) -> None:
            nonlocal observed
            # Until the headers go out: for an event stream (dispatch's live inbox, the console's
            # counter) that is when it opens, not the minutes it then stays open.
            if message["type"] == "http.response.start":
                observed = True
                self._observe(scope, message["status"], started)
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            if not observed:  # nothing was sent (an error raised past us): the client sees a failure
                self._observe(scope, 500, started)

    def _observe(self, scope: dict, status: int, started: float) -> None:
        method = scope["method"]
        self.metrics.child(
            route_template(scope), method if method in _METHODS else "OTHER", status_class(status)
        ).observe(time.perf_counter() - started)


def install_http_metrics(app: FastAPI, service: str) -> CollectorRegistry:
    """The middleware, outermost of what is added so far (call it after the app's other
    middleware), and the app's registry it counts into."""
    registry = CollectorRegistry(auto_describe=False)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(service, registry))
    return registry


def plain_metrics_router(registry: CollectorRegistry) -> APIRouter:
    """`GET /metrics` of an app without the delivery pipeline (the console): the registry only."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
