"""HTTP hardening shared by every service: security headers, CORS limited to configured
origins, request size limits (413 problem+json) and the per-request audit context.

Stack traces never reach a client (problems.py answers 500 with a bare problem+json).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from libs.common.audit import RequestContext, request_context


class SecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_", extra="ignore")

    # Browsers may call the APIs only from these origins (the console); empty = no CORS at all.
    cors_origins: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    max_body_bytes: int = 1_048_576  # 1 MiB: no legitimate request of ours is bigger
    hsts: bool = False  # turn on behind TLS


@lru_cache
def get_security_settings() -> SecuritySettings:
    return SecuritySettings()


_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
]
# JSON APIs never need scripts or frames; HTML pages (docs, console) set their own policy.
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing re-raises it (as 413) instead of a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求内容超过 {limit} 字节上限（request body exceeds {limit} bytes）")


def _problem_413(limit: int) -> bytes:
    return orjson.dumps(
        {
            "type": "about:blank",
            "title": "请求体过大",
            "title_en": "Payload too large",
            "status": 413,
            "detail": f"请求内容超过 {limit} 字节上限",
            "detail_en": f"request body exceeds {limit} bytes",
        }
    )


class HardeningMiddleware:
    """Pure ASGI: security headers, body size limit, and the audit request context."""

    def __init__(self, app: Any, settings: SecuritySettings | None = None) -> None:
        self.app = app
        self.settings = settings or get_security_settings()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return
        client = scope.get("client")
        ctx_token = request_context.set(RequestContext(ip=client[0] if client else None))
        received = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # chunked bodies carry no Content-Length
                    raise BodyTooLarge(limit)
            return message

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                hdrs = message.setdefault("headers", [])
                names = {k.lower() for k, _ in hdrs}
                hdrs.extend(h for h in _API_HEADERS if h[0] not in names)
                content_type = next((v for k, v in hdrs if k.lower() == b"content-type"), b"")
                if b"content-security-policy" not in names and not content_type.startswith(b"text/html"):
                    hdrs.append(_API_CSP)
                if b"cache-control" not in names and scope.get("path", "").startswith("/v1/"):
                    hdrs.append((b"cache-control", b"no-store"))  # personal data must not sit in caches
                if self.settings.hsts:
                    hdrs.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _send_413(send, limit)
        finally:
            request_context.reset(ctx_token)


async def _send_413(send: Any, limit: int) -> None:
    body = _problem_413(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *_API_HEADERS,
                _API_CSP,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install_hardening(app: FastAPI, settings: SecuritySettings | None = None) -> None:
    settings = settings or get_security_settings()
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "X-Correlation-ID",
                "X-API-Key",
                "Last-Event-ID",
                "Accept-Language",
            ],
            expose_headers=["X-Correlation-ID", "Location", "Retry-After"],
            max_age=600,
        )
    # Added last = outermost: the size limit runs before anything reads the body.
    app.add_middleware(HardeningMiddleware, settings=settings)
