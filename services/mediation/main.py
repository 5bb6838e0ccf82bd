"""The mediation service (人民调解)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.clock import Clock
from libs.common.db_figures import DatabaseFigures
from libs.common.events.topics import DISPATCH
from libs.common.periodic import every
from services.mediation import api, api_liaison, api_workflow, metrics, outcome, webhook
from services.mediation.access import POLICY
from services.mediation.handlers import build_handlers
from services.mediation.models import inbox, outbox
from services.mediation.runtime import MediationExtras, MediationRuntime
from services.mediation.settings import MediationSettings, get_mediation_settings

log = logging.getLogger(__name__)


async def sweep_loop(rt: Runtime, interval: float) -> None:
    """Supervision of the mediation clocks, first one interval after start; tests call
    outcome.sweep_deadlines directly."""

    async def sweep() -> None:
        async with rt.sessionmaker() as session, session.begin():
            breached = await outcome.sweep_deadlines(session, now=rt.clock.now())
        if breached:
            log.info("mediation deadline sweep: %d cases breached", len(breached))

    await every(interval, sweep, name="mediation deadline sweep", run_first=False)


def create_app(
    *,
    db_url: str | None = None,
    bootstrap: str | None = None,
    clock: Clock | None = None,
    settings: MediationSettings | None = None,
) -> FastAPI:
    """`settings`: tests pass their own (e.g. a webhook URL); by default from LAWLINE_MEDIATION_*.
    Holiday years arrive as dispatch.calendar_year_updated events into our calendar_years table."""

    async def startup(rt: MediationRuntime) -> None:
        s = settings or get_mediation_settings()
        rt.ext = MediationExtras(settings=s)
        # Cases by state and overdue clocks from the database (services/mediation/metrics.py).
        rt.metric_sources.append(DatabaseFigures(rt, metrics.figures))
        if s.sweep_seconds > 0:
            rt.spawn(sweep_loop(rt, s.sweep_seconds), "deadline-sweeper")
        if s.webhook_every_seconds > 0:
            rt.spawn(
                webhook.run_forever(rt.sessionmaker, rt.clock.now, s, rt.ext.webhook_wake),
                "police-webhook",
            )

    spec = ServiceSpec(
        service="mediation",
        title="lawline mediation",
        description="人民调解 cases under 中华人民共和国人民调解法.",
        routers=[api.router, api_workflow.router, api_liaison.router],
        outbox=outbox,
        inbox=inbox,
        consume=[DISPATCH],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
