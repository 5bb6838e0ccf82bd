"""Sends due deliveries: every replica runs this loop (libs.common.periodic); each run claims a
batch with `FOR UPDATE SKIP LOCKED` and leases it (next_attempt_at moved `lease_seconds` ahead) in
one short transaction, so no two replicas ever send one delivery at the same time and no
transaction stays open across an HTTP call. One order's deliveries to one subscription go one at a
time, oldest first (accepted before assigned before closed), whichever replica sends them. A replica that dies mid-send leaves the lease to run
out: the delivery goes again (at least once; the receiver de-duplicates by X-Lawline-Event-Id).

Every attempt is a row (status code, latency, error, next attempt) and a log line. A failure
waits per the backoff (domain.retry_delay) until the delivery's 24 h are up (then `failed`); a
subscription all of whose deliveries have failed for 24 h is disabled — an ERROR log line, the
`lawline_webhook_subscriptions_disabled` counter on /metrics, and `disabled_at` / `disabled_reason`
in the API — until its owner enables it again."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.crypto import get_cipher
from services.intake.webhooks import domain, signing, targets
from services.intake.webhooks.models import Attempt, Delivery, Subscription
from services.intake.webhooks.settings import WebhookSettings

log = logging.getLogger(__name__)

CLAIM = text(
    """
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND s.enabled
          -- One order's events reach a receiver in the order they happened: a later one waits
          -- while an earlier one of the same order is pending (leased by a replica included).
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.subscription_id = d.subscription_id AND e.work_order_id = d.work_order_id
                AND e.status = 'pending' AND (e.created_at, e.id) < (d.created_at, d.id)
          )
        ORDER BY d.next_attempt_at
        LIMIT :batch
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET next_attempt_at = :lease_until, attempts = d.attempts + 1
    FROM due, webhook_subscriptions s
    WHERE d.id = due.id AND s.id = d.subscription_id
    RETURNING d.id, d.subscription_id, d.event_id, d.kind, d.body, d.attempts, d.deadline_at,
              s.url, s.secret_enc, s.previous_secret_enc, s.previous_until
    """
)


@dataclass
class WebhookStats:
    """This process's counters, for /metrics."""

    delivered: int = 0
    failed_attempts: int = 0
    gave_up: int = 0  # deliveries whose 24 h ran out
    disabled: int = 0  # subscriptions disabled after persistent failure
    runs: int = 0


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _secrets(row: Any, now: datetime) -> list[str]:
    cipher = get_cipher()
    out = [cipher.decrypt(row.secret_enc) or ""]
    if row.previous_secret_enc and row.previous_until and row.previous_until > now:
        out.append(cipher.decrypt(row.previous_secret_enc) or "")
    return out


class Sender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: WebhookSettings,
        stats: WebhookStats | None = None,
    ) -> None:
        self.sessionmaker, self.settings = sessionmaker, settings
        self.stats = stats or WebhookStats()
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Claim and send one batch; the number sent (successfully or not)."""
        self.stats.runs += 1
        now = _now()
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    CLAIM,
                    {
                        "now": now,
                        "batch": self.settings.batch,
                        "lease_until": now + timedelta(seconds=self.settings.lease_seconds),
                    },
                )
            ).all()
        if not rows:
            return 0
        async with httpx.AsyncClient(
            timeout=self.settings.timeout_seconds, follow_redirects=False, trust_env=False
        ) as client:
            outcomes = await asyncio.gather(*(self._send(client, r, now) for r in rows))
        for row, outcome in zip(rows, outcomes, strict=True):
            await self._record(row, outcome)
        return len(rows)

    async def _send(self, client: httpx.AsyncClient, row: Any, now: datetime) -> Outcome:
        body = row.body.encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "lawline-webhooks/1",
            signing.HEADER: signing.header(_secrets(row, now), stamp, body),
            "X-Lawline-Event-Id": row.event_id,
            "X-Lawline-Event-Type": row.kind,
            "X-Lawline-Delivery-Id": str(row.id),
            "X-Lawline-Attempt": str(row.attempts),
        }
        started = time.perf_counter()
        try:
            await targets.check(row.url, private_allowed=self.settings.private_allowed)
            response = await client.post(row.url, content=body, headers=headers)
        except targets.TargetRefused as exc:
            return Outcome(None, 0, f"refused target: {exc.en}")
        except httpx.HTTPError as exc:
            ms = int((time.perf_counter() - started) * 1000)
            return Outcome(None, ms, f"{type(exc).__name__}: {exc}"[:500])
        ms = int((time.perf_counter() - started) * 1000)
        error = None if domain.is_success(response.status_code) else f"HTTP {response.status_code}"
        return Outcome(response.status_code, ms, error)

    async def _record(self, row: Any, outcome: Outcome) -> None:
        now = _now()
        ok = domain.is_success(outcome.status_code)
        next_at = None if ok else self._next_attempt(row, now)
        async with self.sessionmaker() as session, session.begin():
            session.add(
                Attempt(
                    delivery_id=row.id,
                    attempt=row.attempts,
                    at=now,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    error=outcome.error,
                    next_attempt_at=next_at,
                )
            )
            values = _delivery_values(outcome, ok=ok, next_at=next_at, now=now)
            await session.execute(update(Delivery).where(Delivery.id == row.id).values(**values))
            gave_up_since = None
            if not ok and next_at is None:  # given up: when did its failing start?
                first = await session.scalar(
                    select(func.min(Attempt.at)).where(Attempt.delivery_id == row.id)
                )
                gave_up_since = first or now
            await self._subscription_after(
                session, row.subscription_id, ok=ok, now=now, gave_up_since=gave_up_since
            )
        self._count_and_log(row, outcome, ok=ok, next_at=next_at)

    def _next_attempt(self, row: Any, now: datetime) -> datetime | None:
        """When to try a failed delivery again; None once its deadline (24 h) would pass."""
        s = self.settings
        delay = domain.retry_delay(
            row.attempts,
            first=s.backoff_first_seconds,
            factor=s.backoff_factor,
            cap=s.backoff_cap_seconds,
            jitter=s.backoff_jitter,
        )
        return domain.next_attempt(now, delay, row.deadline_at)

    def _count_and_log(self, row: Any, outcome: Outcome, *, ok: bool, next_at: datetime | None) -> None:
        if ok:
            self.stats.delivered += 1
            log.info(
                "webhook delivery %s attempt %d: HTTP %s in %d ms",
                row.id,
                row.attempts,
                outcome.status_code,
                outcome.latency_ms,
            )
            return
        self.stats.failed_attempts += 1
        if next_at is None:
            self.stats.gave_up += 1
        log.warning(
            "webhook delivery %s attempt %d failed: %s (%s, %d ms); next attempt %s",
            row.id,
            row.attempts,
            outcome.error,
            outcome.status_code,
            outcome.latency_ms,
            next_at.isoformat() if next_at else "none: gave up after 24 h",
        )

    async def _subscription_after(
        self,
        session: AsyncSession,
        sub_id: uuid.UUID,
        *,
        ok: bool,
        now: datetime,
        gave_up_since: datetime | None,
    ) -> None:
        sub = await session.scalar(select(Subscription).where(Subscription.id == sub_id).with_for_update())
        if sub is None:
            return
        if ok:
            sub.failing_since = None
            return
        sub.failing_since = sub.failing_since or now
        after = timedelta(seconds=self.settings.disable_after_seconds)
        if sub.enabled and domain.should_disable(sub.failing_since, now, after, gave_up_since=gave_up_since):
            sub.enabled, sub.disabled_at, sub.updated_at = False, now, now
            sub.disabled_reason = (
                f"连续失败超过 {after.total_seconds() / 3600:g} 小时，已停用 | "
                f"every delivery failed for {after.total_seconds() / 3600:g} h since "
                f"{sub.failing_since.isoformat()}: disabled"
            )
            self.stats.disabled += 1
            log.error(
                "webhook subscription %s (%s, owner %s) disabled: every delivery failed since %s",
                sub.id,
                sub.url,
                sub.owner,
                sub.failing_since.isoformat(),
            )


def metric_source(stats: WebhookStats, service: str = "intake"):  # type: ignore[no-untyped-def]
    """The sender's figures for /metrics (libs.common.metrics)."""
    from prometheus_client.core import CounterMetricFamily

    def collect():  # type: ignore[no-untyped-def]
        out = []
        for name, help_, value in (
            ("deliveries_delivered", "Webhook deliveries accepted by the receiver (2xx)", stats.delivered),
            (
                "attempts_failed",
                "Webhook attempts that failed (non-2xx, timeout, refused)",
                stats.failed_attempts,
            ),
            (
                "deliveries_gave_up",
                "Webhook deliveries that failed for 24 h and were given up",
                stats.gave_up,
            ),
            (
                "subscriptions_disabled",
                "Webhook subscriptions disabled after persistent failure (alert on any increase)",
                stats.disabled,
            ),
        ):
            family = CounterMetricFamily(f"lawline_webhook_{name}", help_, labels=["service"])
            family.add_metric([service], value)
            out.append(family)
        return out

    return collect


async def purge(sessionmaker: async_sessionmaker[AsyncSession], settings: WebhookSettings) -> int:
    """Finished deliveries older than the retention (their attempts go with them: ON DELETE
    CASCADE); pending ones stay whatever their age (a disabled subscription's backlog)."""
    cutoff = _now() - timedelta(days=settings.retention_days)
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(Delivery)
            .where(Delivery.status.in_(("delivered", "failed")), Delivery.created_at < cutoff)
            .returning(Delivery.id)
        )
        n = len(result.all())
    if n:
        log.info("purged %d webhook deliveries older than %g days", n, settings.retention_days)
    return n


async def purge_loop(sender: Sender) -> None:
    from libs.common.periodic import every

    await every(
        sender.settings.purge_seconds,
        lambda: purge(sender.sessionmaker, sender.settings),
        name="webhook purge",
    )


async def sender_loop(sender: Sender) -> None:
    from libs.common.periodic import Periodic

    async def job() -> None:
        # A full batch: there may be more due right away.
        while await sender.run_once() >= sender.settings.batch:
            pass

    await Periodic(sender.settings.poll_seconds, job, name="webhook sender", wake=sender.wake).run()


def _delivery_values(
    outcome: Outcome, *, ok: bool, next_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """Pure: the delivery row after one attempt — delivered, pending a retry, or failed."""
    values: dict[str, Any] = {"last_status_code": outcome.status_code, "last_error": outcome.error}
    if ok:
        values |= {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
    else:
        values |= {"status": "pending" if next_at else "failed", "next_attempt_at": next_at}
    return values
