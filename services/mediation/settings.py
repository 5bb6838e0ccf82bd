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
