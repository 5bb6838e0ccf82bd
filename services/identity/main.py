"""Identity service: staff login, tokens, API keys for external systems."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from services.identity import api
from services.identity.access import POLICY
from services.identity.models import inbox, outbox


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: Runtime) -> None:
        rt.extras["clock"] = clock or Clock()

    spec = ServiceSpec(
        service="identity",
        title="lawline identity",
        description="Staff login (argon2 + short-lived JWT + rotating refresh tokens) and API keys (身份认证).",
        routers=[api.router, api.wellknown],
        outbox=outbox,
        inbox=inbox,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap)
