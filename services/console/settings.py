"""Console settings: where the other services live, and how the session is protected.

Service URLs use the plain names the brief and `make run` use (INTAKE_URL, …) and default to
127.0.0.1 with the ports `make run` gives them (<SERVICE>_PORT or libs/common/config.py's
defaults), so `make run` needs no configuration.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common.config import DEFAULT_PORTS, service_port


def _local(service: str, fallback: int) -> str:
    # <SERVICE>_PORT moves a service under `make run`: the console follows it.
    port = service_port(service) if service in DEFAULT_PORTS else fallback
    return f"http://127.0.0.1:{port}"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    intake_url: str = Field(default_factory=lambda: _local("intake", 8001), alias="INTAKE_URL")
    dispatch_url: str = Field(default_factory=lambda: _local("dispatch", 8002), alias="DISPATCH_URL")
    aid_url: str = Field(default_factory=lambda: _local("aid", 8003), alias="AID_URL")
    mediation_url: str = Field(default_factory=lambda: _local("mediation", 8004), alias="MEDIATION_URL")
    identity_url: str = Field(default_factory=lambda: _local("identity", 8005), alias="IDENTITY_URL")
    # Test/demo-only login that mints a token locally (libs.common.auth). OFF unless set explicitly.
    dev_login: bool = Field(default=False, alias="LAWLINE_CONSOLE_DEV_LOGIN")
    # Key for the encrypted session cookie; rotate by changing it (everyone logs in again).
    secret: str = Field(
        default="lawline-console-dev-secret-change-me-0123456789", alias="LAWLINE_CONSOLE_SECRET"
    )
    # Send the cookie only over HTTPS (production behind TLS); off for local http.
    secure_cookie: bool = Field(default=False, alias="LAWLINE_CONSOLE_SECURE_COOKIE")
    session_hours: int = Field(default=10, alias="LAWLINE_CONSOLE_SESSION_HOURS")
    backend_timeout: float = Field(default=8.0, alias="LAWLINE_CONSOLE_BACKEND_TIMEOUT")
    # 完成率: monthly target of closed orders per county (the city's is the sum).
    monthly_target_per_county: int = Field(default=300, alias="LAWLINE_CONSOLE_MONTHLY_TARGET")
    # How often the inbox relay asks dispatch when dispatch offers no stream of its own.
    inbox_poll_seconds: float = Field(default=1.0, alias="LAWLINE_CONSOLE_INBOX_POLL_SECONDS")


@lru_cache
def get_console_settings() -> ConsoleSettings:
    return ConsoleSettings()
