"""Issue #17 against a real intake on uvicorn and PostgreSQL: control characters are a 422
naming the field (not a 500 from the database), an unbounded before_seq is a 422, and an
unhandled error is a 500 with the client's correlation id, logged once (not again by uvicorn)."""

from __future__ import annotations

import logging

import pytest

from libs.common.auth import PUBLIC
from libs.common.logging import correlation_id
from libs.common.testing.auth import auth
from libs.common.testing.infra import free_port, serve
from tests.integration.intake_helpers import clock


@pytest.fixture(scope="module")
async def intake(infra):
    from services.intake.main import create_app

    url = await infra.fresh_database("intake")
    app = create_app(db_url=url, bootstrap=f"127.0.0.1:{free_port()}", clock=clock())

    async def boom() -> None:
        raise RuntimeError("forced for the test")

    app.add_api_route("/v1/test-boom", boom, methods=["GET"])
    app.state.policy["GET /v1/test-boom"] = PUBLIC
    running = await serve("intake", app, credentials="none")
    try:
        yield running
    finally:
        await running.stop()


async def test_nul_in_query_and_body_is_422_naming_the_field(intake):
    async with intake.client(headers=auth("operator", region="1404")) as c:
        r = await c.get("/v1/work-orders?q=a%00b", headers={"x-correlation-id": "nul-q"})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["q"]
        assert r.headers["x-correlation-id"] == "nul-q"
        r = await c.get("/v1/work-orders/a%00b")  # a path parameter of an included router
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["order_id"]
        r = await c.post("/v1/work-orders", json={"requester": {"name": "a\u0000b"}, "description": "x"})
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["requester.name"]
        assert errors[0]["message"] and errors[0]["message_en"]


async def test_before_seq_beyond_bigint_is_422(intake):
    async with intake.client(headers=auth("admin")) as c:
        r = await c.get("/v1/audit/entries", params={"before_seq": 2**63})
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["before_seq"]
        assert (await c.get("/v1/audit/entries", params={"before_seq": 2**63 - 1})).status_code == 200


async def test_unhandled_error_has_the_correlation_id_and_one_log_line(intake):
    seen: list[tuple[str, str, str | None]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # the broker is absent here: aiokafka's connection errors are not ours to count
            ours = record.exc_info and "forced for the test" in str(record.exc_info[1])
            if ours or record.name.startswith("uvicorn"):
                seen.append((record.name, record.getMessage(), correlation_id.get()))

    handler = Capture(level=logging.ERROR)
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        async with intake.client() as c:
            r = await c.get("/v1/test-boom", headers={"x-correlation-id": "boom-1"})
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-correlation-id"] == "boom-1"
    assert "forced" not in r.text
    assert len({(n, m) for n, m, _ in seen}) == len(seen) == 1, seen
    assert seen[0][2] == "boom-1"
