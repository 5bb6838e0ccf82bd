"""Issue #17: control characters, unbounded integers and unhandled errors, through the request
pipeline every service installs (libs.common.app.install_request_pipeline)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from libs.common.app import install_request_pipeline
from libs.common.audit import audit_router
from libs.common.logging import correlation_id


class Party(BaseModel):
    name: str


class Body(BaseModel):
    title: str = ""
    parties: list[Party] = []


def _app() -> FastAPI:
    app = FastAPI()
    install_request_pipeline(app)
    app.include_router(audit_router())

    @app.get("/v1/work-orders")
    async def orders(q: str = "") -> dict[str, str]:
        return {"q": q}

    @app.get("/v1/items/{item}")
    async def item(item: str) -> dict[str, str]:
        return {"item": item}

    @app.patch("/v1/things")
    async def patch(body: Body) -> dict:
        return body.model_dump()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaputt")

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def _fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert all(e["code"] == "control_character" and e["message"] and e["message_en"] for e in errors)
    return [e["field"] for e in errors]


async def test_nul_in_query_is_422_naming_the_parameter():
    async with _client(_app()) as c:
        r = await c.get("/v1/work-orders?q=a%00b", headers={"x-correlation-id": "cid-q"})
        assert _fields(r) == ["q"]
        assert r.headers["x-correlation-id"] == "cid-q"
        assert r.json()["title_en"] == "Some fields are invalid"
        assert (await c.get("/v1/work-orders?q=a%1Fb")).status_code == 422
        # tab, newline and ordinary percent escapes pass
        ok = await c.get("/v1/work-orders?q=a%09b%0A%E4%B8%AD%25")
        assert ok.status_code == 200 and ok.json() == {"q": "a\tb\n中%"}


async def test_nul_in_path_is_422_naming_the_parameter():
    async with _client(_app()) as c:
        assert _fields(await c.get("/v1/items/a%00b")) == ["item"]


async def test_nul_in_json_body_is_422_with_the_dotted_field():
    async with _client(_app()) as c:
        r = await c.patch(
            "/v1/things", json={"title": "ok\n", "parties": [{"name": "x"}, {"name": "a\u0000b"}]}
        )
        assert _fields(r) == ["parties.1.name"]
        r = await c.patch("/v1/things", json={"title": "a\u0007b"})
        assert _fields(r) == ["title"]
        # without a control character the body still reaches the route unchanged
        ok = await c.patch("/v1/things", json={"title": "tab\there \\u0000 literal", "parties": []})
        assert ok.status_code == 200 and ok.json()["title"] == "tab\there \\u0000 literal"
        # not JSON: not read for control characters; a JSON route refuses it as a media type
        other = await c.patch("/v1/things", content=b"title=a%00b", headers={"content-type": "text/plain"})
        assert other.status_code == 415 and "control_character" not in other.text


@pytest.mark.parametrize("before_seq", ["9223372036854775808", "0"])
async def test_audit_before_seq_out_of_bigint_range_is_422(before_seq: str):
    async with _client(_app()) as c:
        r = await c.get(f"/v1/audit/entries?before_seq={before_seq}")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["before_seq"]


async def test_unhandled_error_is_500_with_the_correlation_id_logged_once():
    seen: list[tuple[logging.LogRecord, str | None]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record, correlation_id.get()))

    handler = Capture(level=logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        # raise_app_exceptions (httpx's default) would fail the test if the error went on up
        async with _client(_app()) as c:
            r = await c.get("/boom", headers={"x-correlation-id": "cid-500"})
            anonymous = await c.get("/boom")
    finally:
        root.removeHandler(handler)
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-correlation-id"] == "cid-500"
    assert anonymous.status_code == 500 and anonymous.headers["x-correlation-id"]
    assert [cid for _, cid in seen] == ["cid-500", anonymous.headers["x-correlation-id"]]
    assert all(rec.exc_info and "kaputt" in str(rec.exc_info[1]) for rec, _ in seen)


async def test_leave_id_beyond_int4_is_422():
    from services.dispatch.api_admin import router

    app = FastAPI()
    install_request_pipeline(app)
    app.include_router(router)
    staff = "00000000-0000-0000-0000-000000000001"
    async with _client(app) as c:
        paths = [p for p in app.openapi()["paths"] if p.endswith("/leave/{leave_id}")]
        r = await c.delete(paths[0].format(staff_id=staff, leave_id=2197691835))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["leave_id"]


async def test_chunked_json_body_over_the_limit_is_still_413():
    async def chunks():
        for _ in range(20):
            yield b" " * 65536  # 1.25 MiB in all, no Content-Length

    async with _client(_app()) as c:
        r = await c.patch("/v1/things", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["x-correlation-id"]
