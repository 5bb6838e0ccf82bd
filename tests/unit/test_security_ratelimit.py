"""The reusable tracking rate limit (per IP and per order number), as intake mounts it."""

from __future__ import annotations

import httpx
from fastapi import Depends, FastAPI

from libs.common.problems import install_problem_handlers
from libs.common.ratelimit import get_ratelimit_settings, rate_limit, tracking_rate_limit


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/track/{number}", dependencies=[Depends(tracking_rate_limit)])
    async def track(number: str) -> dict[str, str]:
        return {"number": number}

    limited = rate_limit("unit", per_ip="2/minute")

    @app.get("/v1/other", dependencies=[Depends(limited)])
    async def other() -> dict[str, str]:
        return {}

    return app


def _client(app: FastAPI, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 1234)), base_url="http://t")


async def test_one_number_guessed_from_many_places_is_limited():
    app = _app()
    per_number = int(get_ratelimit_settings().track_per_number.split("/")[0])
    codes = []
    for i in range(per_number + 1):
        async with _client(app, f"10.9.0.{i}") as c:  # a different caller each time
            codes.append((await c.get("/v1/track/LW202611240001")).status_code)
    assert codes[:per_number] == [200] * per_number and codes[-1] == 429


async def test_many_numbers_from_one_place_are_limited_with_retry_after():
    app = _app()
    per_ip = int(get_ratelimit_settings().track_per_ip.split("/")[0])
    async with _client(app, "10.9.1.1") as c:
        responses = [await c.get(f"/v1/track/LW2026112499{i:03d}") for i in range(per_ip + 1)]
    assert [r.status_code for r in responses[:per_ip]] == [200] * per_ip
    last = responses[-1]
    assert last.status_code == 429 and last.headers["content-type"] == "application/problem+json"
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert last.json()["status"] == 429


async def test_custom_limits_are_per_client():
    app = _app()
    async with _client(app, "10.9.2.1") as a, _client(app, "10.9.2.2") as b:
        assert [(await a.get("/v1/other")).status_code for _ in range(3)] == [200, 200, 429]
        assert (await b.get("/v1/other")).status_code == 200
