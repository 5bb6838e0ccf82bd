"""API keys for external systems, and the credential cache every service keeps.

Design (simplest robust): the identity service owns keys and sessions and announces
changes as events on the `identity` topic (key created — hash only —, key revoked,
access token revoked by jti). Every service runs one group-less consumer that reads the
topic from the beginning into an in-process `CredentialCache`; requests are checked
against memory, with no call to identity on the hot path and no shared table. In
production the topic is compacted (key = key id / jti), so a restarting service rebuilds
the cache from the topic alone. Propagation is as fast as the outbox relay (NOTIFY-driven,
typically well under a second); until a new replica has read the topic its keys answer 401.

Key format: `llk_<key id>_<secret>`; only SHA-256(key) is stored or published (the key is
256 random bits, so a slow password hash adds nothing). Presented as `X-API-Key: …` or,
for Open311 GeoReport v2 clients, as the `api_key` query or form parameter.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from fastapi import Request

from libs.common.auth import Principal
from libs.common.events.envelope import Envelope
from libs.common.events.identity import API_KEY_CREATED, API_KEY_REVOKED, TOKEN_REVOKED
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

    def apply(self, event: Envelope) -> None:
        data = event.data
        if event.type == API_KEY_CREATED:
            if data["key_id"] not in self.revoked_keys:
                self.keys_by_hash[data["key_hash"]] = KeyRecord(
                    data["key_id"],
                    data["name"],
                    frozenset(data["scopes"]),
                    data["region"],
                    data["rate_limit"],
                )
        elif event.type == API_KEY_REVOKED:
            self.revoked_keys.add(data["key_id"])
            for h, rec in list(self.keys_by_hash.items()):
                if rec.key_id == data["key_id"]:
                    del self.keys_by_hash[h]
        elif event.type == TOKEN_REVOKED:
            self.revoked_jtis[data["jti"]] = datetime.fromisoformat(data["expires_at"])
            if len(self.revoked_jtis) > 10_000:  # bounded: expired tokens are refused by their exp anyway
                now = datetime.now(UTC)
                self.revoked_jtis = {j: exp for j, exp in self.revoked_jtis.items() if exp > now}
        else:
            return
        self.events_seen += 1

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
    """Reads the identity topic from the start, every partition, no consumer group."""

    def __init__(self, bootstrap: str, topic: str, cache: CredentialCache) -> None:
        self.bootstrap, self.topic, self.cache = bootstrap, topic, cache
        self.started = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
            retry_backoff_ms=200,
        )
        try:
            await consumer.start()
            self.started.set()
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                for records in batches.values():
                    for record in records:
                        try:
                            self.cache.apply(Envelope.from_kafka(record.headers, record.value))
                        except Exception as exc:  # one bad record must not blind the cache
                            log.warning("ignored identity event: %s", exc)
        finally:
            await consumer.stop()


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
