"""Intake service: the front door for every channel."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.events.topics import AID, DISPATCH, MEDIATION
from libs.common.periodic import every
from services.intake import (
    api,
    api_contact,
    api_loop,
    api_pipeline,
    api_public,
    api_stats,
    classify,
    open311,
    reconcile,
    service,
)
from services.intake.access import POLICY
from services.intake.handlers import build_handlers
from services.intake.models import inbox, outbox
from services.intake.runtime import IntakeExtras, IntakeRuntime
from services.intake.settings import get_intake_settings

log = logging.getLogger(__name__)


async def purge_loop(rt: Runtime) -> None:
    """Idempotency keys are kept ≥ 24 h (setting), then removed so the table stays small."""
    s = get_intake_settings()

    async def purge() -> None:
        async with rt.sessionmaker() as session, session.begin():
            cutoff = rt.clock.now() - timedelta(hours=s.idempotency_ttl_hours)
            n = await service.purge_idempotency_keys(session, before=cutoff)
        if n:
            log.info("purged %d idempotency keys", n)

    await every(s.idempotency_cleanup_seconds, purge, name="idempotency key purge")


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: IntakeRuntime) -> None:
        rt.ext = IntakeExtras()
        await asyncio.to_thread(classify.warm_up)  # jieba's dictionary: once, off the event loop
        rt.spawn(purge_loop(rt), "idempotency-purge")
        # Counters of the dispatch reconciliation (services/intake/reconcile.py), for metrics.
        rt.metric_sources.append(reconcile.metric_source(rt.ext.reconcile))
        rt.spawn(reconcile.reconcile_loop(rt), "reconcile")

    spec = ServiceSpec(
        service="intake",
        title="lawline intake",
        description="Work orders from every channel (受理), duplicates (并单), the closed loop (回拨/回访/评价), Open311.",
        routers=[
            api.router,
            api_contact.router,
            api_loop.router,
            api_pipeline.router,
            api_public.router,
            api_stats.router,
            open311.router,
        ],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH, AID, MEDIATION],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
