"""What the HTTP metrics middleware (libs/common/http_metrics.py) costs per request.

The same trivial ASGI endpoint is called in-process with and without the middleware in front
(no socket, no framework: only the middleware's own work is in the difference), over a handful
of route templates and statuses as a service sees them. Best of several rounds, to keep the
other processes on the machine out of the figure.

    .venv/bin/python -m bench.http_metrics
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client import CollectorRegistry

from libs.common.http_metrics import HttpMetrics, HttpMetricsMiddleware


class _Route:
    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


ROUTES = [_Route("/v1/work-orders"), _Route("/v1/work-orders/{order_id}"), _Route("/metrics")]
START = {"type": "http.response.start", "status": 200, "headers": []}
BODY = {"type": "http.response.body", "body": b"{}"}


async def endpoint(scope: dict, receive: Any, send: Any) -> None:
    scope["route"] = ROUTES[scope["i"] % 3]  # as Starlette's router sets it on a match
    await send(START)
    await send(BODY)


async def _receive() -> dict:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


async def _rounds(app: Any, n: int) -> float:
    scopes = [{"type": "http", "method": "GET", "path": "/", "i": i} for i in range(n)]
    started = time.perf_counter()
    for scope in scopes:
        await app(scope, _receive, _send)
    return (time.perf_counter() - started) / n


async def main(n: int = 50_000, rounds: int = 7) -> dict[str, float]:
    wrapped = HttpMetricsMiddleware(endpoint, HttpMetrics("bench", CollectorRegistry(auto_describe=False)))
    bare, with_metrics = [], []
    for _ in range(rounds):
        bare.append(await _rounds(endpoint, n))
        with_metrics.append(await _rounds(wrapped, n))
    out = {
        "bare_us": min(bare) * 1e6,
        "with_metrics_us": min(with_metrics) * 1e6,
    }
    out["middleware_us"] = out["with_metrics_us"] - out["bare_us"]
    return out


if __name__ == "__main__":
    r = asyncio.run(main())
    print(
        f"endpoint alone {r['bare_us']:.2f} µs, with the metrics middleware {r['with_metrics_us']:.2f} µs: "
        f"{r['middleware_us']:.2f} µs per request"
    )
