"""How long each class of data is kept (env LAWLINE_RETENTION_*), in one place.

PIPL Art 19: personal information is kept for the shortest time the purpose needs; Art 47(1)
obliges deletion when that time is over. Other laws set floors that no setting may go below:
the Cybersecurity Law Art 21(3) wants network logs kept no less than six months, and 等保 2.0
level 3 (GB/T 22239-2019, 安全审计) wants audit records protected and kept. A setting below a
floor is refused at start-up (a ValidationError when the settings are first read), not quietly
raised: an operator who asked for 30 days of audit should learn that the law says otherwise.

What each class's purge is (and what is not built yet) is listed in README, "Retention and
citizens' rights".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Cybersecurity Law Art 21(3): 留存相关的网络日志不少于六个月 — taken as 180 days.
LOG_FLOOR_DAYS = 180.0


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_RETENTION_", extra="ignore")

    # Closed (办结), merged and cancelled orders keep the requester's name, phone, ID number and
    # the matter's text for three years after closing, then are anonymised; the statistics
    # columns (type, region, channel, dates, rating score) stay. Three years: the general
    # limitation period (民法典 Art 188) in which a complaint about the service (or a claim the
    # record must answer) can still come; after it the purpose of PIPL Art 19 is spent.
    closed_order_personal_days: float = Field(default=3 * 365.0, gt=0)
    # Legal-aid case files (法律援助案卷) and people's-mediation records (人民调解法 Art 27:
    # 调解登记、工作记录、调解协议书 立卷归档) are statutory records: an order linked to one is
    # not erased on request while its file is kept. The length is set by the archive keeping
    # rules (档案保管期限) of the province — no single article gives a number; 10 years is the
    # default here, set it to your archive schedule.
    case_file_years: float = Field(default=10.0, gt=0)
    # The audit trail (全程留痕). Cybersecurity Law Art 21(3) and 等保 2.0 level 3: ≥ 180 days.
    # Nothing purges the audit log yet (the hash chain would need an anchored start); this is the
    # floor any future purge must respect.
    audit_days: float = 3 * 365.0
    # Application logs go to stdout and the platform's collector keeps them: this is the figure
    # the collector must be configured with (Cybersecurity Law Art 21(3): ≥ six months).
    log_days: float = 180.0
    # Dead letters once replayed or discarded (libs.common.dead_letter_retention): the whole
    # event, names included, kept 30 days for a look back, then deleted (PIPL Art 19). Open ones
    # stay until someone resolves them.
    dead_letter_days: float = Field(default=30.0, gt=0)
    # The purge jobs: how often they run and how many rows one transaction takes (each
    # batch is short so that a busy table is never locked for long).
    interval_seconds: float = Field(default=86400.0, gt=0)
    batch: int = Field(default=500, ge=1, le=10000)

    @model_validator(mode="after")
    def _floors(self) -> RetentionSettings:
        for name in ("audit_days", "log_days"):
            if getattr(self, name) < LOG_FLOOR_DAYS:
                raise ValueError(
                    f"LAWLINE_RETENTION_{name.upper()} = {getattr(self, name):g}: 网络安全法第二十一条要求"
                    f"日志至少留存六个月 (Cybersecurity Law Art 21: keep at least {LOG_FLOOR_DAYS:g} days)"
                )
        return self

    @property
    def closed_order_personal(self) -> timedelta:
        return timedelta(days=self.closed_order_personal_days)

    @property
    def case_file(self) -> timedelta:
        return timedelta(days=365.0 * self.case_file_years)


def anonymise_before(now: datetime, policy: RetentionSettings) -> datetime:
    """Orders closed before this moment lose their personal fields."""
    return now - policy.closed_order_personal


def case_file_kept_until(last_case_event: datetime, policy: RetentionSettings) -> datetime:
    """A case file is kept for the keeping period from the case's last recorded step (the file is
    closed at the end of the case; intake knows the case by its events only)."""
    return last_case_event + policy.case_file


@lru_cache
def get_retention_settings() -> RetentionSettings:
    return RetentionSettings()
