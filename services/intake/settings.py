"""Intake's tunables (env LAWLINE_INTAKE_*): provincial rules and practice differ, so none
of these is a constant in the code."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.intake.domain import ReconcilePolicy


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_INTAKE_", extra="ignore")

    # 并单: the same requester on the same matter within this window is an urge, not a new order.
    duplicate_window_hours: float = 72.0
    duplicate_similarity: float = 0.3  # classify.similarity: mean of word Jaccard and bigram Dice
    # A request about an order closed this recently is a follow-up that goes back to its handler.
    follow_up_window_days: float = 30.0
    # Hotline clocks (Shandong 2017 rule, DOMAIN.md): tell the caller the result within 5 working days.
    callback_workdays: int = 5
    urgent_callback_hours: float = 24.0
    return_visit_workdays: int = 3
    # Stripe keeps idempotency keys 24 h; we keep them at least that long.
    idempotency_ttl_hours: float = 48.0
    idempotency_cleanup_seconds: float = 3600.0
    max_page_size: int = 200
    # Reconciliation (issue #14): an order announced to dispatch with no word from dispatch after
    # this long is announced again (workorder.routing_requested), then after 2, 4, 8 … minutes
    # (backoff doubling, capped) for as long as it stays unacknowledged. The sweep runs every
    # interval and re-announces at most `batch` orders per run.
    reconcile_after_seconds: float = 120.0
    reconcile_backoff_seconds: float = 120.0
    reconcile_backoff_max_seconds: float = 1800.0
    reconcile_interval_seconds: float = 15.0
    reconcile_batch: int = 200

    @property
    def reconcile_policy(self) -> ReconcilePolicy:
        return ReconcilePolicy(
            after=timedelta(seconds=self.reconcile_after_seconds),
            backoff=timedelta(seconds=self.reconcile_backoff_seconds),
            backoff_max=timedelta(seconds=self.reconcile_backoff_max_seconds),
        )


@lru_cache
def get_intake_settings() -> IntakeSettings:
    return IntakeSettings()
