"""HTTP hardening shared by every service: security headers, CORS limited to configured
origins, request size limits (413 problem+json) and the per-request audit context.

Stack traces never reach a client (problems.py answers 500 with a bare problem+json).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import compile_path

from libs.common.audit import RequestContext, request_context
from libs.common.problems import CONTROL_CHARS, control_char_error, control_char_fields, problem_response
from libs.common.routematch import takes_json_body


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
        self.limit = limit
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


# Routes that take a file (aid's document upload) get a larger body limit of their own: (method,
# path pattern) → bytes. Their handlers check the file's own size limit and answer it by field.
_LARGER_BODIES: dict[tuple[str, str], tuple[Any, int]] = {}


def allow_larger_body(method: str, path: str, limit: int) -> None:
    """Let `method path` (a route template, e.g. /v1/cases/{case_id}/uploads) carry `limit` bytes."""
    _LARGER_BODIES[(method, path)] = (compile_path(path)[0], limit)


def _body_limit(scope: dict, default: int) -> int:
    for (method, _), (pattern, limit) in _LARGER_BODIES.items():
        if scope.get("method") == method and pattern.match(scope.get("path", "")):
            return max(limit, default)
    return default


class HardeningMiddleware:
    """Pure ASGI: security headers, body size limit, and the audit request context."""

    def __init__(self, app: Any, settings: SecuritySettings | None = None) -> None:
        self.app = app
        self.settings = settings or get_security_settings()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = _body_limit(scope, self.settings.max_body_bytes)
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


# A control character in a query string is percent-encoded (%00 … %1F); in a JSON body it must be
# written \u00XX (JSON does not allow it raw): requests without either are let through unread.
_ENCODED_CONTROL = re.compile(rb"%[01][0-9a-fA-F]")
_JSON_ESCAPE = b"\\u00"


def _is_json(content_type: bytes | None) -> bool:
    # As FastAPI decides: no Content-Type, application/json or application/*+json is read as JSON.
    if not content_type:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _content_type(scope: dict) -> bytes | None:
    return next((v for k, v in scope.get("headers", ()) if k == b"content-type"), None)


async def buffered(receive: Any) -> tuple[bytes | None, Any]:
    """The whole request body (None when the client went away first) and a receive that gives it
    to the app again. May raise BodyTooLarge (from HardeningMiddleware's receive)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # disconnected: let the app see it
            body, replay = None, [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            body = b"".join(chunks)
            replay = [{"type": "http.request", "body": body, "more_body": False}]
            break

    async def replayed() -> dict:
        return replay.pop(0) if replay else await receive()

    return body, replayed


def _route_paths(app: Any) -> list[str]:
    routes = getattr(app, "routes", ())
    try:  # FastAPI ≥ 0.16x keeps included routers nested
        from fastapi.routing import iter_route_contexts

        return [rc.path for rc in iter_route_contexts(routes) if rc.path]
    except ImportError:
        return [r.path for r in routes if hasattr(r, "path")]


def _path_fields(scope: dict) -> list[str]:
    """The path parameters with a control character, by name, from the route template that
    matches (only looked for when the path holds one); ``path`` when none does."""
    path = scope.get("path", "")
    for template in _route_paths(scope.get("app")):
        if "{" not in template:
            continue
        match = compile_path(template)[0].match(path)
        if match:
            bad = [k for k, v in match.groupdict().items() if CONTROL_CHARS.search(v or "")]
            if bad:
                return bad
    return ["path"]


class ControlCharGuard:
    """Pure ASGI: a 422 naming the field for a control character (U+0000 …, not tab or newline)
    in a path, a query parameter or a JSON body, before it can reach SQL or JSONB.

    Cheap: the query string and the path are looked at with one regular expression; a JSON
    body is decoded only when it holds a ``\\u00`` escape, other bodies are not read here.
    Put it inside the correlation middleware, so the 422 carries the request's id."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields: list[str] = []
        if CONTROL_CHARS.search(scope.get("path", "")):
            fields += _path_fields(scope)
        qs: bytes = scope.get("query_string") or b""
        if _ENCODED_CONTROL.search(qs):
            pairs = parse_qsl(
                qs.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"
            )
            for k, v in pairs:
                if CONTROL_CHARS.search(k) or CONTROL_CHARS.search(v):
                    name = CONTROL_CHARS.sub("?", k)
                    if name not in fields:
                        fields.append(name)
        if scope.get("method") in _BODY_METHODS and _is_json(_content_type(scope)):
            try:
                body, receive = await buffered(receive)
            except BodyTooLarge as exc:  # raised by HardeningMiddleware's receive
                await _send_413(send, exc.limit)
                return
            if body is not None and _JSON_ESCAPE in body:
                try:
                    decoded = orjson.loads(body)
                except orjson.JSONDecodeError:
                    decoded = None  # FastAPI answers it with json_invalid
                fields += control_char_fields(decoded)
        if fields:
            errors = [control_char_error(f) for f in fields]
            await problem_response(422, errors=errors)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class MediaTypeGuard:
    """Pure ASGI: a 415 for a body that is not JSON sent to a route whose body FastAPI reads as
    JSON (it would have validated the raw bytes and answered a 422 "must be an object", which
    sends a client looking in the wrong place). Routes that take forms, uploads or read the
    request themselves (Open311's form-encoded POST) are left alone: the route decides, by its
    declared body, not by a list here.

    A body without Content-Type is read as JSON when it parses as JSON (FastAPI's strict content
    type would validate it as bytes: a 422), else it is a 415. JSON requests, the usual case, pass unread."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        content_type = _content_type(scope)
        if (
            scope["type"] != "http"
            or scope.get("method") not in _BODY_METHODS
            or (content_type and _is_json(content_type))
            or not takes_json_body(scope.get("app"), scope)
        ):
            await self.app(scope, receive, send)
            return
        try:
            body, receive = await buffered(receive)
        except BodyTooLarge as exc:
            await _send_413(send, exc.limit)
            return
        if body:  # an empty body is no body: the route's own 422 (required) or default applies
            if content_type is None and _parses_as_json(body):
                scope = {
                    **scope,
                    "headers": [*scope.get("headers", ()), (b"content-type", b"application/json")],
                }
            else:
                await unsupported_media_type(content_type)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _parses_as_json(body: bytes) -> bool:
    try:
        json.loads(body)  # the decoder FastAPI will use, so both agree on what is JSON
    except ValueError:
        return False
    return True


def unsupported_media_type(content_type: bytes | None) -> Any:
    sent = (content_type or b"").split(b";", 1)[0].strip().decode("latin-1") or "无 | none"
    return problem_response(
        415,
        detail=f"请以 application/json 提交（收到的是 {sent}）",
        detail_en=f"send application/json (this was {sent})",
        code="unsupported_media_type",
    )


class ProblemCORS(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is problem+json in both languages, not the
    plain-text "Disallowed CORS origin"."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        what = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in answer.headers.items() if k.lower().startswith("access-control-")}
        return problem_response(
            400,
            detail=f"跨域预检未通过：{what}",
            detail_en=f"CORS preflight refused: {what}",
            code="cors_refused",
            headers=headers,
        )


def install_hardening(app: FastAPI, settings: SecuritySettings | None = None) -> None:
    settings = settings or get_security_settings()
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORS,
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
