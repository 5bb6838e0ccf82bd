"""The console: server-rendered screens (Jinja2 + htmx) over the other services' APIs.

It owns no database and consumes no events: every figure and list comes from the services,
called with the logged-in user's token, so jurisdiction and role checks stay where they are
enforced — in each service. Wired here, nothing connects at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from libs.common import tracing
from libs.common.clock import Clock
from libs.common.http_metrics import install_http_metrics, plain_metrics_router
from libs.common.logging import configure_logging
from services.console import (
    api,
    api_accounts,
    api_cases,
    api_citizen,
    api_clocks,
    api_counter,
    api_documents,
    api_knowledge,
    api_operator,
    api_order_edit,
    api_orders,
    api_supervisor,
    api_uploads,
)
from services.console.service import Backends
from services.console.session import SessionCodec
from services.console.settings import ConsoleSettings, get_console_settings
from services.console.web import HERE, CsrfFailed, Forbidden, LoginRequired, redirect, render

# Everything the pages load is ours (htmx, ECharts vendored under /static): no CDN, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


ROUTERS = (
    api.router,
    api_operator.router,
    api_knowledge.router,
    api_order_edit.router,
    api_documents.router,
    api_counter.router,
    api_orders.router,
    # Before api_cases: its POST /cases/{service}/{case_id}/{action} would take /uploads.
    api_uploads.router,
    api_cases.router,
    api_supervisor.router,
    api_accounts.router,
    api_clocks.router,
    api_citizen.router,
)


def create_app(settings: ConsoleSettings | None = None, clock: Any = None, **urls: str) -> FastAPI:
    """`urls` overrides service base URLs (intake=…, dispatch=…): tests point at their own servers."""
    settings = settings or get_console_settings()
    base = {
        "intake": settings.intake_url,
        "dispatch": settings.dispatch_url,
        "aid": settings.aid_url,
        "mediation": settings.mediation_url,
        "identity": settings.identity_url,
    }
    base.update({k: v for k, v in urls.items() if v})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backends = Backends(base, timeout=settings.backend_timeout)
        try:
            yield
        finally:
            await app.state.backends.aclose()

    configure_logging("console")
    app = FastAPI(title="lawline console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    if tracing.install("console"):  # server spans here, client spans on the calls to the services
        tracing.instrument_app(app, "console")
    app.state.settings = settings
    app.state.codec = SessionCodec(settings.secret, settings.session_hours * 3600)
    app.state.clock = clock or Clock()
    for r in ROUTERS:
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    _error_pages(app)
    app.add_middleware(SecurityHeaders)
    # HTTP rate / errors / latency per route on GET /metrics, as on every service (outermost).
    app.include_router(plain_metrics_router(install_http_metrics(app, "console")))
    return app


class SecurityHeaders:
    """Pure ASGI (BaseHTTPMiddleware would get in the way of the SSE stream's disconnect detection)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static")

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", CSP.encode()))
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_pages(app: FastAPI) -> None:
    """Pages, not problem+json, for a session that ran out (to the login), a forbidden step and a
    failed CSRF check: the console is read by people."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: Exception) -> Response:
        return redirect(request, "/login")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _: Exception) -> Response:
        return render(request, "unavailable.html", {"message_key": "common.forbidden"}, 403)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: Exception) -> Response:
        return render(request, "unavailable.html", {"message_key": "common.csrf"}, 403)
