"""Intake service: the front door for every channel."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.events.topics import AID, DISPATCH, MEDIATION
from services.intake import api
from services.intake.access import POLICY
from services.intake.handlers import build_handlers
from services.intake.models import inbox, outbox


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: Runtime) -> None:
        rt.extras["clock"] = clock or Clock()

    spec = ServiceSpec(
        service="intake",
        title="lawline intake",
        description="Work orders from every channel (受理).",
        routers=[api.router],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH, AID, MEDIATION],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap)
