"""The sender: sends the due messages of the SMS outbox and marks them, so that a crash never
sends one twice and never loses one.

One run: (1) claim — in one short transaction, the due rows FOR UPDATE SKIP LOCKED (several
intake processes share the work), each number's opt-out and rate limit decided under an
advisory lock on the number (two senders cannot both give it its fourth message of the hour),
and each claimed row marked `sending` with a lease; commit. (2) For each, the provider call
with the message id as its idempotency key. (3) The marks — sent, retry later, or failed — of
the whole batch in one transaction and one statement (#21: one commit per batch, not per
message); a slow provider flushes them early, at half the lease, so a sent message is marked
before its lease could run out.

A sender killed between (2) and (3) leaves the batch's rows `sending`; when its lease runs out it is
claimed again *in doubt*: the gateway is asked whether the message already went (the file
provider: its id in the file; Aliyun: QuerySendDetails by OutId) and it is marked sent without
a second send if so. Transient provider errors retry with backoff (libs.common.backoff) up to
`max_attempts`; permanent ones are recorded as failed with the provider's code."""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import DateTime, String, Uuid, bindparam, column, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.backoff import Backoff
from libs.common.clock import Clock
from libs.common.crypto import PiiCipher, get_cipher
from services.intake.sms import policy
from services.intake.sms.gateway import (
    OutgoingSms,
    PermanentSmsError,
    SmsGateway,
    TransientSmsError,
)
from services.intake.sms.models import (
    DUE,
    FAILED,
    LIMITED,
    OPTED_OUT,
    PENDING,
    SENDING,
    SENT,
    SmsMessage,
    SmsOptOut,
)
from services.intake.sms.settings import SmsSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    message: OutgoingSms
    in_doubt: bool
    attempts: int


@dataclass(frozen=True)
class Mark:
    """What became of one claimed message: its new status and the columns that change with it
    (None: the column keeps its value)."""

    id: str
    status: str
    counted: str
    sent_at: datetime | None = None
    provider: str | None = None
    provider_id: str | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


_MARK_COLUMNS = ("sent_at", "provider", "provider_id", "last_error", "next_attempt_at")


def retry_delay(attempts: int, s: SmsSettings) -> float:
    """The wait before try `attempts + 1`: the shared policy's delays, doubling to the cap."""
    b = Backoff(first=s.retry_first_seconds, cap=s.retry_cap_seconds, jitter=0.1)
    for _ in range(max(attempts - 1, 0)):
        b.next()
    return b.next()


class SmsSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        gateway: SmsGateway,
        settings: SmsSettings,
    ) -> None:
        self.sessionmaker, self.clock, self.gateway, self.s = sessionmaker, clock, gateway, settings
        self.limit = policy.RateLimit(per_hour=settings.per_hour, per_day=settings.per_day)
        self.counts: dict[str, int] = defaultdict(int)  # outcomes since start, for logs and tests

    async def run_once(self) -> int:
        """Every due message, a batch at a time; how many were handled."""
        total = 0
        while True:
            claimed = await self.claim()
            marks: list[Mark] = []
            since = time.monotonic()
            for c in claimed:
                marks.append(await self.deliver(c))
                if time.monotonic() - since > self.s.lease_seconds / 2:
                    await self._mark_all(marks)
                    marks, since = [], time.monotonic()
            await self._mark_all(marks)
            total += len(claimed)
            if len(claimed) < self.s.batch:
                return total

    async def claim(self) -> list[Claimed]:
        now = self.clock.now()
        cipher = get_cipher()
        out: list[Claimed] = []
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.scalars(
                    select(SmsMessage)
                    .where(SmsMessage.status.in_(DUE), SmsMessage.next_attempt_at <= now)
                    # Oldest due first; messages due at the same instant in the order they were
                    # written (then by id), so a batch's order never depends on where rows lie.
                    .order_by(SmsMessage.next_attempt_at, SmsMessage.created_at, SmsMessage.id)
                    .limit(self.s.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return out
            numbers = sorted({m.phone_bidx for m in rows})
            # In one order (the sorted array, unnest's scan order): two senders never wait on each
            # other in a cycle. One statement for the batch's numbers, not one per number.
            await session.execute(
                text(
                    "SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(CAST(:keys AS text[])) AS k"
                ),
                {"keys": [f"sms:{bidx}" for bidx in numbers]},
            )
            # An opt-out is kept as a blind index only: one recorded before a LAWLINE_CRYPTO switch
            # has the other algorithm's index, so each number is looked up under both.
            keys = {m.id: {m.phone_bidx, *cipher.lookup_indexes(cipher.decrypt(m.phone_enc))} for m in rows}
            opted = await _opted_out(session, set().union(*keys.values()))
            history = await _sent_last_day(session, numbers, now)
            for m in rows:
                claimed = self._claim_one(m, bool(keys[m.id] & opted), history, now, cipher)
                if claimed is not None:
                    out.append(claimed)
        return out

    def _claim_one(
        self,
        m: SmsMessage,
        opted_out: bool,
        history: dict[str, list[datetime]],
        now: datetime,
        cipher: PiiCipher,
    ) -> Claimed | None:
        """The message leased for sending, or marked opted out / limited (None)."""
        in_doubt = m.status == SENDING
        if opted_out:
            m.status, m.last_error = OPTED_OUT, "号码已退订 | the number opted out"
            self.counts[OPTED_OUT] += 1
            return None
        if not in_doubt:  # a message in doubt was counted when it was first claimed
            reason = policy.limited(history[m.phone_bidx], now, self.limit)
            if reason is not None:
                m.status, m.last_error = LIMITED, reason
                self.counts[LIMITED] += 1
                log.info("sms %s to %s limited: %s", m.id, m.phone_masked, reason)
                return None
            history[m.phone_bidx].append(now)
            m.claimed_at = now
        m.status, m.attempts = SENDING, m.attempts + 1
        m.next_attempt_at = now + timedelta(seconds=self.s.lease_seconds)
        phone = cipher.decrypt(m.phone_enc) or ""
        message = OutgoingSms(str(m.id), phone, m.template, dict(m.params), m.text)
        return Claimed(message, in_doubt, m.attempts)

    async def deliver(self, c: Claimed) -> Mark:
        """The provider call; what it did to the message, to be marked with the batch."""
        try:
            provider_id = await self.gateway.find_sent(c.message) if c.in_doubt else None
            if provider_id is None:
                provider_id = await self.gateway.send(c.message)
        except TransientSmsError as exc:
            return self._retry(c, exc, in_doubt=exc.maybe_sent)
        except PermanentSmsError as exc:
            return Mark(c.message.id, FAILED, FAILED, last_error=str(exc))
        except Exception as exc:  # the gateway's own bug: whether it sent is unknown
            log.exception("sms %s: the gateway failed", c.message.id)
            return self._retry(c, exc, in_doubt=True)
        return Mark(
            c.message.id,
            SENT,
            SENT,
            sent_at=self.clock.now(),
            provider=self.gateway.name,
            provider_id=provider_id,
        )

    def _retry(self, c: Claimed, exc: Exception, *, in_doubt: bool) -> Mark:
        if c.attempts >= self.s.max_attempts:
            return Mark(
                c.message.id, FAILED, FAILED, last_error=f"gave up after {c.attempts} attempts: {exc}"
            )
        delay = retry_delay(c.attempts, self.s)
        log.warning("sms %s: attempt %d failed (%s); again in %.0f s", c.message.id, c.attempts, exc, delay)
        return Mark(
            c.message.id,
            SENDING if in_doubt else PENDING,
            "retry",
            last_error=str(exc),
            next_attempt_at=self.clock.now() + timedelta(seconds=delay),
        )

    async def _mark_all(self, marks: list[Mark]) -> None:
        """The marks in one statement; a row no longer `sending` (another sender found it in
        doubt and marked it) is left as that sender marked it."""
        if not marks:
            return
        params: dict[str, list] = {
            "ids": [uuid.UUID(m.id) for m in marks],
            "statuses": [m.status for m in marks],
        }
        params |= {name: [getattr(m, name) for m in marks] for name in _MARK_COLUMNS}
        async with self.sessionmaker() as session, session.begin():
            await session.execute(_mark_statement(), params)
        for m in marks:
            self.counts[m.counted] += 1


@cache
def _mark_statement():  # type: ignore[no-untyped-def]
    """UPDATE sms_messages … FROM unnest(the batch's columns): each row its own values."""
    table = SmsMessage.__table__
    stamp = DateTime(timezone=True)
    types = {
        "sent_at": stamp,
        "provider": String(),
        "provider_id": String(),
        "last_error": String(),
        "next_attempt_at": stamp,
    }
    given = (
        func.unnest(
            bindparam("ids", type_=ARRAY(Uuid())),
            bindparam("statuses", type_=ARRAY(String())),
            *(bindparam(name, type_=ARRAY(types[name])) for name in _MARK_COLUMNS),
        )
        .table_valued(
            column("id", Uuid()), column("status", String()), *(column(n, types[n]) for n in _MARK_COLUMNS)
        )
        .render_derived()
    )
    return (
        update(table)
        .where(table.c.id == given.c.id, table.c.status == SENDING)
        .values(
            status=given.c.status,
            **{name: func.coalesce(given.c[name], table.c[name]) for name in _MARK_COLUMNS},
        )
    )


async def order_messages(session: AsyncSession, order_id: object) -> list[SmsMessage]:
    rows = await session.scalars(
        select(SmsMessage).where(SmsMessage.work_order_id == order_id).order_by(SmsMessage.created_at)
    )
    return list(rows.all())


async def _opted_out(session: AsyncSession, indexes: set[str]) -> set[str]:
    """The blind indexes among these that opted out."""
    return set(
        (
            await session.scalars(
                select(SmsOptOut.phone_bidx).where(SmsOptOut.phone_bidx.in_(sorted(indexes)))
            )
        ).all()
    )


async def _sent_last_day(
    session: AsyncSession, numbers: list[str], now: datetime
) -> dict[str, list[datetime]]:
    """When each number was last sent to (claimed) in the past day: the rate limit's history."""
    history: dict[str, list[datetime]] = defaultdict(list)
    for bidx, at in await session.execute(
        select(SmsMessage.phone_bidx, SmsMessage.claimed_at).where(
            SmsMessage.phone_bidx.in_(numbers),
            SmsMessage.status.in_((SENDING, SENT)),
            SmsMessage.claimed_at > now - timedelta(days=1),
        )
    ):
        if at is not None:  # a sending or sent row was always claimed
            history[bidx].append(at)
    return history
