"""The HTTP histogram through the request pipeline every service installs (libs.common.app):
an unhandled error is a 5xx of its route's template, the size limit's 413 and a method nobody
routes are counted with bounded labels, and the labels never carry the raw path."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from libs.common.app import install_request_pipeline
from libs.common.http_metrics import install_http_metrics, plain_metrics_router, status_class


def _app() -> FastAPI:
    app = FastAPI()
    install_request_pipeline(app)
    app.state.registry = install_http_metrics(app, "t")
    app.include_router(plain_metrics_router(app.state.registry))

    @app.get("/v1/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @app.post("/v1/items")
    async def create(body: dict) -> dict:
        return body

    @app.get("/v1/boom/{n}")
    async def boom(n: str) -> None:
        raise RuntimeError("kaputt")

    return app


def _counts(app: FastAPI) -> dict[tuple[str, str, str], float]:
    out = {}
    for family in text_string_to_metric_families(generate_latest(app.state.registry).decode()):
        for s in family.samples:
            if s.name == "lawline_http_request_duration_seconds_count":
                out[(s.labels["method"], s.labels["route"], s.labels["status"])] = s.value
    return out


async def test_errors_limits_and_strange_methods_are_counted_with_bounded_labels():
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/v1/items/7")).status_code == 200
        assert (await c.get("/v1/items/8")).status_code == 200
        assert (await c.get("/v1/items/x")).status_code == 422
        assert (await c.get("/v1/boom/1")).status_code == 500  # answered by the correlation middleware
        assert (await c.delete("/v1/items/7")).status_code == 405  # a partial match: still the template
        big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        r = await c.post("/v1/items", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert (await c.request("BREW", "/v1/items/7")).status_code == 405
        assert (await c.get("/metrics")).status_code == 200
    counts = _counts(app)
    assert counts[("GET", "/v1/items/{item_id}", "2xx")] == 2
    assert counts[("GET", "/v1/items/{item_id}", "4xx")] == 1
    assert counts[("GET", "/v1/boom/{n}", "5xx")] == 1
    assert counts[("DELETE", "/v1/items/{item_id}", "4xx")] == 1
    assert counts[("POST", "unmatched", "4xx")] == 1  # refused by the size limit before routing
    assert counts[("OTHER", "/v1/items/{item_id}", "4xx")] == 1
    assert not [k for k in counts if "/7" in k[1] or "/1" in k[1]]


def test_status_classes_stay_bounded():
    assert [status_class(s) for s in (101, 204, 302, 404, 503, 0, 999)] == [
        "1xx",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "5xx",
        "5xx",
    ]
