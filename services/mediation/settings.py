"""Mediation settings. The court-referral periods are practice rules, not statute text
(DOMAIN.md: provincial/unverified rules are settings, not constants)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.mediation.domain import ClockRule


class MediationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_MEDIATION_", extra="ignore")

    default_months: int = 1
    pre_filing_days: int = 30
    post_filing_ordinary_days: int = 15
    post_filing_summary_days: int = 7
    sweep_seconds: float = 300.0  # how often the deadline sweeper runs; 0 disables the loop
    # 人民调解法 Art 25: where the police (or a 110 联动 platform) take risk reports over HTTP,
    # every report is POSTed there as JSON, retried until it is accepted (2xx). Empty = no webhook:
    # the police-liaison queue in the console is then the only route.
    police_webhook_url: str | None = None
    police_webhook_secret: str | None = None  # HMAC-SHA256 of the body in X-Lawline-Signature
    police_webhook_timeout_seconds: float = 5.0
    webhook_retry_seconds: float = 5.0  # first retry after this, doubling up to the maximum
    webhook_retry_max_seconds: float = 600.0
    webhook_every_seconds: float = 2.0  # how often the delivery loop looks for due posts; 0 disables


@lru_cache
def get_mediation_settings() -> MediationSettings:
    return MediationSettings()


def clock_rules(s: MediationSettings | None = None) -> dict[str, ClockRule]:
    s = s or get_mediation_settings()
    return {
        "default": ClockRule(months=s.default_months, basis_zh=f"一般纠纷 {s.default_months} 个月内调结"),
        "pre_filing": ClockRule(days=s.pre_filing_days, basis_zh=f"立案前委派调解 {s.pre_filing_days} 日"),
        "post_filing_ordinary": ClockRule(
            days=s.post_filing_ordinary_days,
            basis_zh=f"立案后委托调解（普通程序）{s.post_filing_ordinary_days} 日",
        ),
        "post_filing_summary": ClockRule(
            days=s.post_filing_summary_days,
            basis_zh=f"立案后委托调解（简易程序）{s.post_filing_summary_days} 日",
        ),
    }
