"""Webhook tunables (env LAWLINE_WEBHOOK_*). Tests shorten the backoff and the give-up window."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common.crypto import PiiSettings


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_WEBHOOK_", extra="ignore")

    # Retries: first, ×factor after each failure, at most cap, ±jitter — the same policy shape as
    # libs.common.backoff.Backoff — for `give_up_seconds` (24 h) after the delivery was written.
    backoff_first_seconds: float = 30.0
    backoff_factor: float = 2.0
    backoff_cap_seconds: float = 3600.0
    backoff_jitter: float = 0.1
    give_up_seconds: float = 86400.0
    # A subscription whose deliveries have all failed for this long is disabled (with an alert).
    disable_after_seconds: float = 86400.0
    # After a rotation the old secret still signs (a second v1=) this long, so the receiver can
    # switch without losing deliveries.
    rotation_grace_seconds: float = 86400.0
    # The sender: how often it looks for due deliveries, how many per run, how long a claimed
    # delivery is leased to one replica (a crash mid-send: another replica sends it after this).
    sender_enabled: bool = True
    poll_seconds: float = 1.0
    batch: int = 50
    lease_seconds: float = 60.0
    timeout_seconds: float = 10.0
    # Delivered and failed deliveries (and their attempts) are kept this long, for replay and audit.
    retention_days: float = 30.0
    purge_seconds: float = 3600.0
    # SSRF: private, loopback and link-local targets only in development (None: by LAWLINE_ENV).
    allow_private_targets: bool | None = None

    @property
    def private_allowed(self) -> bool:
        if self.allow_private_targets is not None:
            return self.allow_private_targets
        return PiiSettings().env in ("development", "dev", "test")


@lru_cache
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()
