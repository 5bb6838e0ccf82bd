"""Intake service: the front door for every channel."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.db_figures import DatabaseFigures
from libs.common.events.topics import AID, DISPATCH, MEDIATION
from libs.common.periodic import every
from libs.common.retention import get_retention_settings
from services.intake import (
    api,
    api_contact,
    api_loop,
    api_pipeline,
    api_public,
    api_rights,
    api_stats,
    classify,
    metrics,
    open311,
    reconcile,
    retention,
    service,
)
from services.intake.access import POLICY
from services.intake.handlers import build_handlers
from services.intake.knowledge import api as knowledge_api
from services.intake.knowledge import text as knowledge_text
from services.intake.models import inbox, outbox
from services.intake.runtime import IntakeExtras, IntakeRuntime
from services.intake.settings import get_intake_settings
from services.intake.sms import api as sms_api
from services.intake.sms.loop import sender_loop as sms_sender_loop
from services.intake.webhooks import access as webhook_access
from services.intake.webhooks import api as webhook_api
from services.intake.webhooks import runner as webhook_runner

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
        await asyncio.to_thread(knowledge_text.warm_up)  # the knowledge base's own tokenizer
        rt.spawn(purge_loop(rt), "idempotency-purge")
        # PIPL Art 19: finished orders' personal fields anonymised after the retention period
        # (libs.common.retention; a period below a statutory floor refuses to start here).
        policy = get_retention_settings()
        rt.spawn(retention.purge_loop(rt.sessionmaker, clock=rt.clock, policy=policy), "retention")
        # Counters of the dispatch reconciliation (services/intake/reconcile.py), for metrics.
        rt.metric_sources.append(reconcile.metric_source(rt.ext.reconcile))
        # Orders, overdue, callbacks, ratings from the database (services/intake/metrics.py).
        rt.metric_sources.append(DatabaseFigures(rt, metrics.figures))
        rt.spawn(reconcile.reconcile_loop(rt), "reconcile")
        webhook_runner.start(rt)  # status push-back to external systems (services/intake/webhooks)
        rt.spawn(sms_sender_loop(rt), "sms-sender")

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
            api_rights.router,
            knowledge_api.router,
            open311.router,
            webhook_api.router,
            sms_api.router,
        ],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH, AID, MEDIATION],
        handlers=build_handlers,
        on_startup=startup,
        policy={**POLICY, **sms_api.POLICY, **webhook_access.POLICY, **api_rights.POLICY},
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
