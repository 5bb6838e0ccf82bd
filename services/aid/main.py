"""The aid service (法律援助)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from libs.common.app import ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.db_figures import DatabaseFigures
from libs.common.events.topics import DISPATCH
from libs.common.hardening import allow_larger_body
from services.aid import api, metrics
from services.aid.access import POLICY
from services.aid.handlers import build_handlers
from services.aid.models import inbox, outbox
from services.aid.runtime import AidExtras, AidRuntime
from services.aid.settings import get_rules
from services.aid.sweeper import run_forever
from services.aid.uploads import api as uploads_api
from services.aid.uploads.rules import UploadLimits
from services.aid.uploads.store import document_store


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: AidRuntime) -> None:
        rt.ext = AidExtras(rules=get_rules(), documents=document_store(rt.sessionmaker), upload_limits=limits)
        # Statutory clocks are swept periodically (AID_SWEEP_SECONDS; 0 disables, e.g. in tests).
        every = float(os.environ.get("AID_SWEEP_SECONDS", "60"))
        if every > 0:
            rt.spawn(run_forever(rt.sessionmaker, rt.clock, every), "clock-sweeper")
        # Cases by state and overdue clocks from the database (services/aid/metrics.py).
        rt.metric_sources.append(DatabaseFigures(rt, metrics.figures))

    # A document upload is larger than any JSON body: its route gets its own request limit.
    limits = UploadLimits.from_env()
    allow_larger_body("POST", uploads_api.UPLOAD_PATH, limits.body_bytes)
    spec = ServiceSpec(
        service="aid",
        title="lawline aid",
        description="法律援助 cases under 中华人民共和国法律援助法.",
        routers=[api.router, uploads_api.router],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
        # Default group "lawline-aid"; a separate group lets a second deployment (or a test) read
        # the dispatch topic on its own.
        consumer_group=os.environ.get("AID_CONSUMER_GROUP") or None,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
