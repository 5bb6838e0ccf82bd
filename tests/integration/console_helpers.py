"""The console in-process (ASGI) against real running services, logged in with the dev login."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx

from libs.common.embedded import free_port
from services.console.main import create_app
from services.console.settings import ConsoleSettings

DOWN = f"http://127.0.0.1:{free_port()}"  # services a test does not start: unreachable


@asynccontextmanager
async def console_for(**urls: str):  # type: ignore[no-untyped-def]
    """`urls`: the running services the console should use (dispatch=…, mediation=…)."""
    base = dict.fromkeys(("intake", "dispatch", "aid", "mediation", "identity"), DOWN) | urls
    app = create_app(ConsoleSettings(LAWLINE_CONSOLE_DEV_LOGIN=True), **base)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            yield client
