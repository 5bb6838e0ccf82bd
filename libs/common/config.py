"""Settings shared by every service (pydantic-settings, read from the environment).

Each service reads `LAWLINE_*` variables plus its own prefix, e.g. `INTAKE_DATABASE_URL`.
`DATABASE_URL` names a server; each service uses its own database on it
(`lawline_<service>`) unless `<SERVICE>_DATABASE_URL` names one explicitly.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_PORTS = {
    "console": 8000,
    "intake": 8001,
    "dispatch": 8002,
    "aid": 8003,
    "mediation": 8004,
    "identity": 8005,
}
SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: os.environ.get(
            "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        )
    )
    kafka_bootstrap_servers: str = Field(
        default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    topic_prefix: str = ""
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    # Outbox relay: how long to wait for a NOTIFY before polling anyway (a safety net, not the
    # path: every outbox row is written with its NOTIFY). At 1 s the five relays' polls were
    # most of an idle PostgreSQL's CPU (1.1 % of a core, bench/idle.py).
    outbox_poll_seconds: float = 5.0
    # Audit entries are hash-chained after the commit that wrote them (the outbox NOTIFY);
    # this is how soon at the latest (entries with no outbox row: libs.common.audit.chain_forever).
    audit_chain_seconds: float = 5.0
    # Inbox consumer: attempts before a message goes to the dead-letter topic.
    consumer_max_attempts: int = 3
    # Inbox consumer: records handled at once, across partitions (one transaction each).
    consumer_concurrency: int = 8
    # Pooled DB connections for HTTP requests and background jobs; the service's pool holds
    # consumer_concurrency more (libs.common.app), so the consumer never starves requests.
    db_pool_size: int = 10
    # Delivery under faults (libs.common.broker_watch, outbox, inbox):
    # how often each process checks that the broker still holds its topics and its epoch;
    broker_check_seconds: float = 2.0
    # how long published outbox rows are kept, and republished after a broker reset
    # (Kafka's default retention: 7 days);
    outbox_retention_hours: float = 168.0
    # how long consumed event ids are kept to de-duplicate redeliveries (0: for good); never less
    # than twice the outbox retention plus a day, why in libs.common.inbox;
    inbox_retention_hours: float = 720.0
    # the longest wait between two retries of a record on a transient error;
    consumer_retry_max_seconds: float = 10.0
    # /readyz turns red when the consumer has not polled, or has had no partitions, for this long,
    # or a record has waited this long on a transient error,
    ready_consumer_seconds: float = 15.0
    # or the oldest unpublished outbox row has waited this long.
    ready_outbox_seconds: float = 30.0
    # /metrics: how long the business figures read from the database are kept between scrapes
    # (libs.common.db_figures; intake's grouped count over every order is the dearest of them).
    figures_ttl_seconds: float = 15.0


def service_database_url(service: str, settings: CommonSettings | None = None) -> str:
    """The asyncpg URL of one service's own database."""
    explicit = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if explicit:
        return _asyncpg(explicit)
    settings = settings or get_settings()
    url = make_url(_asyncpg(settings.database_url))
    return url.set(database=f"lawline_{service}").render_as_string(hide_password=False)


def service_port(service: str) -> int:
    return int(os.environ.get(f"{service.upper()}_PORT", DEFAULT_PORTS[service]))


def _asyncpg(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


@lru_cache
def get_settings() -> CommonSettings:
    return CommonSettings()
