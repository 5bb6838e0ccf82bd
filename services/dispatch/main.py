"""Dispatch service: routes every work order to the right window and person."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI, Request

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.auth import Principal, decode_token
from libs.common.clock import Clock
from libs.common.db import asyncpg_dsn
from libs.common.db_figures import DatabaseFigures
from libs.common.events.topics import AID, MEDIATION, WORKORDER
from services.dispatch import api, api_admin, api_extensions, api_points, metrics
from services.dispatch.access import POLICY
from services.dispatch.handlers import build_handlers
from services.dispatch.models import inbox, outbox
from services.dispatch.network import announce_calendar_once
from services.dispatch.runtime import DispatchExtras, DispatchRuntime
from services.dispatch.stream import OfferHub
from services.dispatch.supervision import run_sweeper

# How often the sweeper looks for offer timeouts and clock breaches.
SWEEP_SECONDS = float(os.environ.get("LAWLINE_DISPATCH_SWEEP_SECONDS", "5"))
log = logging.getLogger(__name__)


async def _query_token(request: Request) -> Principal | None:
    """EventSource cannot send headers: the inbox stream also takes ?access_token=."""
    token = request.query_params.get("access_token")
    if token and request.url.path.endswith("/inbox/stream") and "authorization" not in request.headers:
        return decode_token(token)
    return None


async def _announce_calendar(rt: Runtime) -> None:
    """A new holiday copy elsewhere gets the years already entered (network.announce_calendar_once),
    off the start path. The claim commits with the events: if this fails, the next start tries again."""
    try:
        async with rt.sessionmaker() as session, session.begin():
            sent = await announce_calendar_once(session)
    except Exception:
        log.exception("could not announce the holiday years to the copies; the next start tries again")
        return
    if sent:
        log.info("announced %d holiday years to the services' copies", sent)


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: DispatchRuntime) -> None:
        hub = OfferHub(asyncpg_dsn(rt.db_url))
        rt.ext = DispatchExtras(offer_hub=hub)
        rt.spawn(hub.run(), "offer-listener")
        if SWEEP_SECONDS > 0:
            rt.spawn(run_sweeper(rt.sessionmaker, rt.clock.now, SWEEP_SECONDS), "sweeper")
        rt.spawn(_announce_calendar(rt), "calendar-announce")
        # Offers, waiting orders, 督办, overdue clocks from the database (services/dispatch/metrics.py).
        rt.metric_sources.append(DatabaseFigures(rt, metrics.figures))

    spec = ServiceSpec(
        service="dispatch",
        title="lawline dispatch",
        description="Service network, staff, rosters, routing, offers and supervision (派单、督办).",
        routers=[api.router, api_admin.router, api_extensions.router, api_points.router],
        outbox=outbox,
        inbox=inbox,
        # Work orders (keyed by county); case events only for who acted on which matter.
        consume=[WORKORDER, AID, MEDIATION],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    app = create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
    app.state.resolve_credentials = _query_token
    return app
