"""Rate limits with the `limits` library (moving window): 429 problem+json with Retry-After.

Storage is in-process by default (`async+memory://`); with several replicas point
LAWLINE_RATELIMIT_STORAGE at a shared store (e.g. `async+redis://host:6379`) so the limit is global.

Citizens' tracking endpoint (OWASP API4: resource consumption, and enumeration of order
numbers) — in intake's api.py:

    from libs.common.ratelimit import tracking_rate_limit

    @router.get("/track/{number}", dependencies=[Depends(tracking_rate_limit)])
    async def track(number: str, phone_suffix: str = Query(..., min_length=4, max_length=4)): ...

It limits per client IP (many numbers from one place) and per order number (one number
guessed from many places). Custom limits: `rate_limit("name", per_ip="…", per_param=("p", "…"))`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException


class RateLimitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_", extra="ignore")

    ratelimit_storage: str = "async+memory://"
    track_per_ip: str = "30/minute"
    track_per_number: str = "10/minute"
    login_per_ip_user: str = "10/minute"  # failed attempts only
    api_key_default: str = "120/minute"
    # Citizens filing on the web with no login (intake POST /v1/public/requests): a family may
    # file a few matters, nobody needs more than a handful an hour from one phone.
    public_request_per_phone: str = "5/hour"
    public_request_per_ip: str = "20/hour"


@lru_cache
def get_ratelimit_settings() -> RateLimitSettings:
    return RateLimitSettings()


@lru_cache
def limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(get_ratelimit_settings().ratelimit_storage))


@lru_cache
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


class TooManyRequests(HTTPException):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            f"请求过于频繁，请 {retry_after} 秒后再试（too many requests, retry in {retry_after} s）",
            headers={"Retry-After": str(retry_after)},
        )


async def hit(spec: str, *identifiers: str) -> None:
    """Count one request against `spec` (e.g. "10/minute") for these identifiers, or raise 429."""
    item = _item(spec)
    lim = limiter()
    if await lim.hit(item, *identifiers):
        return
    stats = await lim.get_window_stats(item, *identifiers)
    raise TooManyRequests(max(1, math.ceil(stats.reset_time - time.time())))


async def check(spec: str, *identifiers: str) -> None:
    """Raise 429 if the limit is already used up, without counting this request.
    With `hit` on failure only, it limits failed attempts (logins) and never a success."""
    item = _item(spec)
    lim = limiter()
    if await lim.test(item, *identifiers):
        return
    stats = await lim.get_window_stats(item, *identifiers)
    raise TooManyRequests(max(1, math.ceil(stats.reset_time - time.time())))


def client_ip(request: Request) -> str:
    # Behind a proxy run uvicorn with --proxy-headers/--forwarded-allow-ips: scope["client"] is then the caller.
    return request.client.host if request.client else "unknown"


def rate_limit(
    name: str, *, per_ip: str | None = None, per_param: tuple[str, str] | None = None
) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency enforcing per-IP and/or per-parameter (path or query) limits."""

    async def dependency(request: Request) -> None:
        if per_ip:
            await hit(per_ip, name, "ip", client_ip(request))
        if per_param:
            param, spec = per_param
            value = request.path_params.get(param) or request.query_params.get(param)
            if value:
                await hit(spec, name, param, str(value)[:64])

    return dependency


async def tracking_rate_limit(request: Request) -> None:
    s = get_ratelimit_settings()
    await rate_limit("track", per_ip=s.track_per_ip, per_param=("number", s.track_per_number))(request)
