"""The aid service (法律援助)."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.events.topics import DISPATCH
from services.aid import api
from services.aid.access import POLICY
from services.aid.handlers import build_handlers
from services.aid.models import inbox, outbox


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: Runtime) -> None:
        rt.extras["clock"] = clock or Clock()

    spec = ServiceSpec(
        service="aid",
        title="lawline aid",
        description="法律援助 cases.",
        routers=[api.router],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap)
