"""SMS tunables (env LAWLINE_SMS_*): the provider, its credentials and templates, the limits.
Its own settings class, beside intake's (services/intake/settings.py), so the provider is
chosen by configuration alone: `LAWLINE_SMS_PROVIDER=aliyun` with the Aliyun keys, or the
development file (the default) that `make run` and the tests read."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INBOUND_TOKEN = "dev-sms-inbound-token"


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_SMS_", extra="ignore")

    enabled: bool = True  # False: no message is written for an order's events
    provider: Literal["file", "aliyun"] = "file"
    outbox_file: str = "var/sms/outbox.jsonl"  # the development provider's file
    # The citizen tracking page (services/console/api_citizen.py: GET /citizen/track).
    public_base_url: str = "http://127.0.0.1:8000"
    # Per number (the keyed hash of its digits): at most so many messages an hour and a day.
    # Ours sits under Aliyun's own default flow control (for notifications, 50 a day per number and
    # template; for verification codes 1 a minute, 5 an hour, 10 a day), so a message over a limit
    # is stopped here and recorded as limited, not refused by the provider (isv.BUSINESS_LIMIT_CONTROL).
    per_hour: int = 3
    per_day: int = 10
    send_interval_seconds: float = 1.0
    batch: int = 50
    # A message claimed but not marked sent after this long is in doubt (its sender died between
    # the provider call and the mark): it is tried again with the same id, which the provider
    # dedupes (file), or checked with the provider first (Aliyun: QuerySendDetails by OutId).
    lease_seconds: float = 60.0
    retry_first_seconds: float = 5.0
    retry_cap_seconds: float = 900.0
    max_attempts: int = 8
    # The MO (上行) callback is called by the provider, not by staff: it carries this token.
    inbound_token: str = DEV_INBOUND_TOKEN  # refused when the provider is a real one: set your own

    # Aliyun dysmsapi (SendSms, API version 2017-05-25).
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_sign_name: str = "12348法律服务"
    aliyun_region: str = "cn-hangzhou"
    aliyun_timeout_seconds: float = 5.0
    # Our template → the template code Aliyun approved for it (each text registered as in templates.py).
    aliyun_template_order_received: str = "SMS_000000001"
    aliyun_template_callback_missed: str = "SMS_000000002"
    aliyun_template_rate_request: str = "SMS_000000003"


@lru_cache
def get_sms_settings() -> SmsSettings:
    return SmsSettings()
