"""Issue #17 against a real intake on uvicorn and PostgreSQL: control characters are a 422
naming the field (not a 500 from the database), an unbounded before_seq is a 422, and an
unhandled error is a 500 with the client's correlation id, logged once (not again by uvicorn);
the framework's own 404, 405, 400 and 415 are bilingual problem+json."""

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
    async with intake.client(headers=auth("audit_admin")) as c:
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


async def test_framework_errors_are_bilingual_problems(intake):
    """The framework's own answers (#17) on a real service: an unknown path, a method the path
    lacks (Allow names GET and PATCH, two routes), malformed JSON, a body that is not JSON."""
    async with intake.client(headers=auth("operator", region="1404")) as c:
        r = await c.get("/v1/no-such-thing", headers={"x-correlation-id": "fw-404"})
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "没有这个地址：/v1/no-such-thing" and r.json()["detail_en"]
        assert r.headers["x-correlation-id"] == "fw-404"

        r = await c.delete("/v1/work-orders/LW1")
        assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH"
        assert "DELETE" in r.json()["detail"] and "GET, PATCH" in r.json()["detail_en"]

        r = await c.post(
            "/v1/work-orders", content=b'{"description": ', headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert (error["field"], error["code"]) == ("body", "json_invalid") and "character 17" in error[
            "message_en"
        ]

        r = await c.post("/v1/work-orders", content=b"description=x", headers={"content-type": "text/plain"})
        assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
        assert r.json()["detail_en"] == "send application/json (this was text/plain)"

        r = await c.post("/v1/work-orders", json=[1])  # JSON of the wrong shape: still a field error
        assert r.status_code == 422


async def test_open311_still_takes_its_form_encoded_post(intake):
    # The Open311 POST reads a form itself (the GeoReport v2 spec): never a 415, whatever is sent.
    async with intake.client() as c:
        for sent in ({"data": {"service_code": "mediation"}}, {"json": {"service_code": "mediation"}}):
            r = await c.post("/open311/v2/requests.json", **sent)
            assert r.status_code not in (415, 500), r.text
