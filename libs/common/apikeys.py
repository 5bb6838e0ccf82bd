"""API keys for external systems, and the credential cache every service keeps.

Design (simplest robust): the identity service owns keys and sessions and announces
changes as events on the `identity` topic (key created — hash only —, key revoked,
access token revoked by jti). Every service runs one group-less consumer that reads the
topic from the beginning into an in-process `CredentialCache`; requests are checked
against memory, with no call to identity on the hot path and no shared table. The topic
keeps 7 days and identity announces a whole snapshot of its credentials (from its database)
at least once a day, so a restarting service rebuilds the cache from the topic alone, however
old a key is. Propagation is as fast as the outbox relay (NOTIFY-driven,
typically well under a second).

A broker that forgets (libs.common.broker_watch) must not make a revoked token valid again
nor a valid key invalid: the cache is never cleared, the feed reads the new log from its
start as soon as the epoch changes (or its position is beyond a partition's end), and the
identity service announces every live key and unexpired revocation again from its own
database at start-up and after every reset (services/identity/service.py `announce_all`);
its relay also republishes its outbox. Until a starting service has read the topic up to
the end it saw at start AND found a whole credential snapshot in it (`CredentialCache.ready`;
an empty log after a broker reset is not "caught up": it lacks what identity knows), requests
that need the cache get 503 with
Retry-After instead of a wrong answer — a revocation it has not read yet must not let a
token in, and a key it has not read yet must not be refused as invalid.

Key format: `llk_<key id>_<secret>`; only SHA-256(key) is stored or published (the key is
256 random bits, so a slow password hash adds nothing). Presented as `X-API-Key: …` or,
for Open311 GeoReport v2 clients, as the `api_key` query or form parameter.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import Request

from libs.common.aio import within
from libs.common.auth import Principal, credentials_loading
from libs.common.broker_watch import BrokerWatch
from libs.common.events.envelope import Envelope
from libs.common.events.identity import (
    API_KEY_CREATED,
    API_KEY_REVOKED,
    CREDENTIALS_SNAPSHOT,
    TOKEN_REVOKED_TYPES,
)
from libs.common.fetch_pace import FetchPace
from libs.common.kafka import client_security
from libs.common.partition_lanes import rewind
from libs.common.ratelimit import get_ratelimit_settings, hit

log = logging.getLogger(__name__)

KEY_PREFIX = "llk_"


def generate_key() -> tuple[str, str, str]:
    """(plaintext key — shown once —, key id, hash to store)."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key, key_id, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class KeyRecord:
    key_id: str
    name: str
    scopes: frozenset[str]
    region: str
    rate_limit: str


@dataclass
class CredentialCache:
    keys_by_hash: dict[str, KeyRecord] = field(default_factory=dict)
    revoked_keys: set[str] = field(default_factory=set)
    revoked_jtis: dict[str, datetime] = field(default_factory=dict)
    events_seen: int = 0
    # True once the feed has read the topic up to where it ended when the feed started and has
    # seen every page of at least one snapshot.
    ready: bool = False
    snapshot_pages: dict[str, set[int]] = field(default_factory=dict)  # snapshot id -> pages seen
    snapshot_complete: bool = False

    def apply(self, event: Envelope) -> None:
        data = event.data
        if event.type == API_KEY_CREATED:
            self._add_key(data)
        elif event.type == API_KEY_REVOKED:
            self._revoke_key(data["key_id"])
        elif event.type in TOKEN_REVOKED_TYPES:  # v1 records may still be on the topic (7 days)
            self._revoke_jti(data["jti"], data["expires_at"])
        elif event.type == CREDENTIALS_SNAPSHOT:
            seen = self.snapshot_pages.setdefault(data["snapshot_id"], set())
            seen.add(int(data["page"]))
            self.snapshot_complete |= len(seen) >= int(data["pages"])
            # Revocations first: a key listed as live by an older page never outlives its revocation.
            for key_id in data["revoked_key_ids"]:
                self._revoke_key(key_id)
            for token in data["revoked_tokens"]:
                self._revoke_jti(token["jti"], token["expires_at"])
            for key in data["keys"]:
                self._add_key(key)
        else:
            return
        self.events_seen += 1

    def _add_key(self, data: dict) -> None:  # type: ignore[type-arg]
        if data["key_id"] not in self.revoked_keys:  # revocation is for ever, whatever the order
            self.keys_by_hash[data["key_hash"]] = KeyRecord(
                data["key_id"], data["name"], frozenset(data["scopes"]), data["region"], data["rate_limit"]
            )

    def _revoke_key(self, key_id: str) -> None:
        self.revoked_keys.add(key_id)
        for h, rec in list(self.keys_by_hash.items()):
            if rec.key_id == key_id:
                del self.keys_by_hash[h]

    def _revoke_jti(self, jti: str, expires_at: str) -> None:
        self.revoked_jtis[jti] = datetime.fromisoformat(expires_at)
        if len(self.revoked_jtis) > 10_000:  # bounded: expired tokens are refused by their exp anyway
            now = datetime.now(UTC)
            self.revoked_jtis = {j: exp for j, exp in self.revoked_jtis.items() if exp > now}

    def key(self, plaintext: str) -> KeyRecord | None:
        return self.keys_by_hash.get(hash_key(plaintext))

    def jti_revoked(self, jti: str | None) -> bool:
        if not jti or jti not in self.revoked_jtis:
            return False
        if self.revoked_jtis[jti] < datetime.now(UTC):
            del self.revoked_jtis[jti]  # expired anyway: the signature check refuses it now
            return False
        return True


class IdentityFeed:
    """Reads the identity topic from the start, every partition, no consumer group; reads it
    again from the start whenever the broker forgot (a new epoch, a position past the end)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        cache: CredentialCache,
        *,
        watch: BrokerWatch | None = None,
        stale_after: float = 15.0,
    ) -> None:
        self.bootstrap, self.topic, self.cache, self.watch = bootstrap, topic, cache, watch
        self.stale_after = stale_after
        self.started = asyncio.Event()
        self.polled_at: float | None = None
        self.rereads = 0  # times the topic was read again from the start

    def health(self) -> str:
        if not self.cache.ready:
            if not self.cache.snapshot_complete:
                return "waiting for identity's credential snapshot"
            return "not caught up with the identity topic yet"
        if self.polled_at is None or time.monotonic() - self.polled_at > self.stale_after:
            return "identity feed not polling"
        return "ok"

    async def run(self) -> None:
        if self.watch is not None:
            await self.watch.known.wait()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            **client_security(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=200,
            retry_backoff_ms=200,
        )
        # Quiet for long spells (credentials change a few times a day): libs.common.fetch_pace.
        pace = FetchPace(consumer, busy_ms=200, poll_busy_ms=500)
        try:
            await consumer.start()
            await consumer.topics()  # fresh metadata: the partitions of the identity topic
            partitions = consumer.partitions_for_topic(self.topic)
            if not partitions:
                raise RuntimeError(f"topic {self.topic} not found")
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            for tp in tps:
                rewind(consumer, tp)
            epoch = self.watch.epoch if self.watch is not None else None
            # Ready once everything written before we started has been read.
            targets = await consumer.end_offsets(tps)
            self.started.set()
            while True:
                if self.watch is not None and self.watch.epoch != epoch:
                    epoch = self.watch.epoch
                    await self._reread(consumer, tps, "the broker's epoch changed")
                batches = await consumer.getmany(timeout_ms=pace.poll_ms, max_records=500)
                self.polled_at = time.monotonic()
                pace.saw(sum(len(records) for records in batches.values()))
                for records in batches.values():
                    for record in records:
                        try:
                            self.cache.apply(Envelope.from_kafka(record.headers, record.value))
                        except Exception as exc:  # one bad record must not blind the cache
                            log.warning("ignored identity event: %s", exc)
                await self._check_ends(consumer, tps)
                if (
                    not self.cache.ready
                    and self.cache.snapshot_complete
                    and await self._caught_up(consumer, targets)
                ):
                    self.cache.ready = True
                    log.info("credential cache ready (%d identity events read)", self.cache.events_seen)
        finally:
            await consumer.stop()

    async def _caught_up(self, consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
        for tp, end in targets.items():
            if await consumer.position(tp) < end:
                return False
        return True

    async def _check_ends(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        for tp in tps:
            hw = consumer.highwater(tp)
            if hw is None:
                continue
            with contextlib.suppress(Exception):
                if await within(consumer.position(tp), 0.5) > hw:
                    await self._reread(consumer, tps, f"position beyond the end of {tp}")
                    if self.watch is not None:
                        self.watch.poke()
                    return

    async def _reread(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition], why: str) -> None:
        """Keep what we know (revocations only ever add up) and read everything again."""
        self.rereads += 1
        log.warning("credential feed: %s; reading the identity topic again from its start", why)
        for tp in tps:
            rewind(consumer, tp)


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    return key.strip() if key else None


async def _form_key(request: Request) -> str | None:
    # Open311 clients may post api_key in the form body; starlette caches the parsed form.
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        value = (await request.form()).get("api_key")
        return value.strip() if isinstance(value, str) and value.strip() else None
    return None


def make_resolver(cache: CredentialCache):  # type: ignore[no-untyped-def]
    """`app.state.resolve_credentials`: an API key → Principal (or None: try the bearer token)."""
    from libs.common.problems import Problem

    async def resolve(request: Request) -> Principal | None:
        key = presented_key(request) or await _form_key(request)
        if key is None:
            return None
        record = cache.key(key)
        if record is None:
            if not cache.ready:
                raise credentials_loading()
            raise Problem(401, "API 密钥无效或已吊销", "invalid or revoked API key")
        await hit(record.rate_limit or get_ratelimit_settings().api_key_default, "apikey", record.key_id)
        return Principal(
            sub=f"apikey:{record.key_id}",
            kind="api_key",
            roles=frozenset({"external_system"}),
            region=record.region,
            name=record.name,
            scopes=record.scopes,
        )

    return resolve
