"""Dispatch service: routes every work order to the right window and person."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.events.topics import WORKORDER
from services.dispatch import api
from services.dispatch.access import POLICY
from services.dispatch.handlers import build_handlers
from services.dispatch.models import inbox, outbox


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: Runtime) -> None:
        rt.extras["clock"] = clock or Clock()

    spec = ServiceSpec(
        service="dispatch",
        title="lawline dispatch",
        description="Service network, staff, rosters, routing, offers and supervision (派单、督办).",
        routers=[api.router],
        outbox=outbox,
        inbox=inbox,
        consume=[WORKORDER],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap)
