"""Delivery of police-liaison reports to the configured webhook, retried until it is accepted.

One row of webhook_deliveries per report, written with the report. The loop takes one due row at
a time, locked (FOR UPDATE SKIP LOCKED: two replicas never post the same report at once), POSTs
it and records the answer in the same transaction: 2xx → delivered, never sent again; anything
else (or no answer) → retried later, backing off from webhook_retry_seconds, doubling up to the
maximum. Every POST of one report carries the same Idempotency-Key (the liaison id), so a
receiver that did take a report whose answer we never saw can drop the repeat. With a secret
configured, X-Lawline-Signature = "sha256=" + HMAC-SHA256(secret, body)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.periodic import every
from services.mediation.models import WebhookDelivery
from services.mediation.settings import MediationSettings

log = logging.getLogger(__name__)


def backoff(attempts: int, s: MediationSettings) -> timedelta:
    """After the n-th failed attempt: base · 2^(n-1), at most the maximum."""
    return timedelta(
        seconds=min(s.webhook_retry_seconds * 2 ** max(attempts - 1, 0), s.webhook_retry_max_seconds)
    )


def signed_headers(d: WebhookDelivery, body: bytes, s: MediationSettings) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": str(d.liaison_id),
        "X-Lawline-Event": "mediation.risk_reported",
        "X-Lawline-Attempt": str(d.attempts + 1),
    }
    if s.police_webhook_secret:
        mac = hmac.new(s.police_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Lawline-Signature"] = f"sha256={mac}"
    return headers


async def _post(
    client: httpx.AsyncClient, d: WebhookDelivery, s: MediationSettings
) -> tuple[int | None, str | None]:
    body = json.dumps(d.payload, ensure_ascii=False).encode()
    try:
        r = await client.post(d.url, content=body, headers=signed_headers(d, body, s))
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return r.status_code, None if 200 <= r.status_code < 300 else r.text[:500]


async def deliver_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    client: httpx.AsyncClient,
    s: MediationSettings,
) -> bool | None:
    """Attempt the next due delivery. None: nothing due; True: delivered; False: failed, rescheduled."""
    async with sessionmaker() as session, session.begin():
        d = await session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if d is None:
            return None
        status, error = await _post(client, d, s)
        d.attempts, d.last_attempt_at, d.last_status, d.last_error = d.attempts + 1, now, status, error
        if error is None:
            d.delivered_at = now
            return True
        d.next_attempt_at = now + backoff(d.attempts, s)
        log.warning(
            "police webhook attempt %d failed (%s); retry at %s", d.attempts, error, d.next_attempt_at
        )
        return False


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    client: httpx.AsyncClient,
    s: MediationSettings,
    limit: int = 50,
) -> dict[str, int]:
    """Every delivery due at `now` gets one attempt (a failed one is rescheduled past `now`)."""
    done = {"delivered": 0, "failed": 0}
    for _ in range(limit):
        result = await deliver_one(sessionmaker, now=now, client=client, s=s)
        if result is None:
            break
        done["delivered" if result else "failed"] += 1
    return done


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: Callable[[], datetime],
    s: MediationSettings,
    wake: asyncio.Event,
) -> None:
    """The service's delivery loop: every webhook_every_seconds, or at once when a report is made."""
    async with httpx.AsyncClient(timeout=s.police_webhook_timeout_seconds) as client:

        async def deliver() -> None:
            await deliver_due(sessionmaker, now=now(), client=client, s=s)

        # `wake` is cleared before each round: a report made during one wakes the next at once.
        await every(s.webhook_every_seconds, deliver, name="police webhook delivery", wake=wake)
