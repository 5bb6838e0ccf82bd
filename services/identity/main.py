"""Identity service: staff login, tokens, accounts (following dispatch's staff), API keys."""

from __future__ import annotations

import logging
import os
import time

from fastapi import FastAPI

from libs.common.app import Runtime, ServiceSpec, create_service_app
from libs.common.backoff import Backoff, retry
from libs.common.clock import Clock
from libs.common.events.topics import DISPATCH
from libs.common.transient import is_transient
from services.identity import api, api_accounts, service
from services.identity.access import POLICY
from services.identity.handlers import build_handlers
from services.identity.models import inbox, outbox

log = logging.getLogger(__name__)


# Also once a day: the identity topic keeps 7 days (deploy/k8s), so a service starting at any
# time finds a whole snapshot in it, however old the keys are.
SNAPSHOT_EVERY_SECONDS = float(os.environ.get("LAWLINE_IDENTITY_SNAPSHOT_SECONDS", "86400"))


async def announce_loop(rt: Runtime) -> None:
    """Announce the credential state at start-up, again after every broker reset (the broker's
    epoch changed) and once a day: every service's cache can be rebuilt from the topic alone."""
    if rt.watch is None:
        raise RuntimeError("identity's announcements need the broker watch (start_pipeline)")
    watch = rt.watch
    announced: str | None = None
    due = 0.0

    async def announce() -> tuple[str | None, int]:
        epoch = watch.epoch  # the latest: a retry announces for the epoch it finds
        async with rt.sessionmaker() as session, session.begin():
            return epoch, await service.announce_credentials(session, now=rt.clock.now())

    def failed(exc: BaseException, _tries: int, _delay: float) -> None:
        if not is_transient(exc):  # the database away is expected: tried again quietly
            log.error("credential snapshot failed", exc_info=exc)

    while True:
        epoch = await watch.wait_change(announced, timeout=max(1.0, due - time.monotonic()))
        if epoch is None or (epoch == announced and time.monotonic() < due):
            continue
        announced, pages = await retry(announce, backoff=Backoff(first=2.0, cap=2.0), on_retry=failed)
        due = time.monotonic() + SNAPSHOT_EVERY_SECONDS
        log.info("credential snapshot announced for broker epoch %s (%d pages)", announced, pages)


def create_app(
    *, db_url: str | None = None, bootstrap: str | None = None, clock: Clock | None = None
) -> FastAPI:
    async def startup(rt: Runtime) -> None:
        rt.spawn(announce_loop(rt), "credential-snapshot")

    spec = ServiceSpec(
        service="identity",
        title="lawline identity",
        description=(
            "Staff login (argon2 + short-lived JWT + rotating refresh tokens), an account for every "
            "staff member (following dispatch's staff records), account administration and API keys "
            "(身份认证)."
        ),
        routers=[api.router, api_accounts.router, api.wellknown],
        outbox=outbox,
        inbox=inbox,
        # dispatch.staff_changed: every staff member's login follows their record (staff_link.py).
        consume=[DISPATCH],
        handlers=build_handlers,
        on_startup=startup,
        policy=POLICY,
    )
    return create_service_app(spec, db_url=db_url, bootstrap=bootstrap, clock=clock)
