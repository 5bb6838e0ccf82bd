"""Shared plumbing of the console routes: rendering, the logged-in user, CSRF, token refresh."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from services.console import domain, i18n
from services.console import session as sess
from services.console.service import BackendError, Backends, Unavailable

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(label=i18n.label, pct=domain.pct, region_label=domain.region_label, D=domain)
templates.env.filters["local"] = domain.local_time


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    pass


class CsrfFailed(Exception):
    pass


def backends(request: Request) -> Backends:
    return request.app.state.backends


def _globals(request: Request, s: sess.Session) -> dict[str, Any]:
    """What every template may use: the session, its language and the label helpers in it."""
    lang = s.lang
    return {
        "request": request,
        "s": s,
        "lang": lang,
        "t": lambda key: i18n.t(key, lang),
        "lb": lambda kind, code: i18n.label(kind, code, lang),
        "pick": lambda text: i18n.pick(text, lang),
        "rule_label": lambda rule: i18n.rule_label(rule, lang),
        "csrf": s.csrf,
    }


def render(
    request: Request, template: str, ctx: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    s = sess.load(request)
    base = {**_globals(request, s), "screens": domain.screens_for(s.roles)}
    resp = templates.TemplateResponse(request, template, {**base, **(ctx or {})}, status_code=status)
    if s.flash:
        s.flash = None
    sess.save(request, resp, s)
    return resp


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    s = sess.load(request)
    if flash:
        s.flash = flash
    if request.headers.get("hx-request"):
        resp: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        resp = RedirectResponse(url, status_code=303)
    sess.save(request, resp, s)
    return resp


def require(request: Request, screen: str) -> sess.Session:
    s = sess.load(request)
    if not s.logged_in:
        raise LoginRequired
    if not s.has_role(*domain.SCREENS[screen]):
        raise Forbidden
    return s


async def check_csrf(request: Request, multi: tuple[str, ...] = ()) -> dict[str, Any]:
    """Parse the form and check its CSRF token (field or htmx header); returns the form as a dict.

    Fields named in `multi` (and special_groups) are lists (checkbox groups); others the last value."""
    form = await request.form()
    s = sess.load(request)
    submitted = request.headers.get(sess.CSRF_HEADER) or form.get(sess.CSRF_FIELD)
    if not sess.csrf_ok(s, str(submitted) if submitted else None):
        raise CsrfFailed
    out: dict[str, Any] = {}
    for k in form.keys():
        values = form.getlist(k)
        out[k] = values if k in ("special_groups", *multi) else (values[-1] if values else "")
    out.pop(sess.CSRF_FIELD, None)
    return out


# An access token with less than this left is refreshed by the next request that needs it.
REFRESH_MARGIN_SECONDS = 60.0


def token_expiring(s: sess.Session) -> bool:
    return bool(s.access_expires) and s.access_expires - time.time() < REFRESH_MARGIN_SECONDS


async def token(request: Request) -> str:
    """The user's access token, refreshed through the identity service shortly before it expires.

    A refresh rotates the refresh token: the response must carry the session cookie (render,
    redirect and `streaming` save it), or the browser presents the spent one next time and
    identity's reuse detection ends the whole session."""
    s = sess.load(request)
    if not s.access_token:
        raise LoginRequired
    if token_expiring(s):
        if not s.refresh_token:
            raise LoginRequired
        try:
            body = await backends(request).refresh(s.refresh_token)
        except (Unavailable, BackendError) as exc:
            raise LoginRequired from exc
        s.access_token = body["access_token"]
        s.refresh_token = body.get("refresh_token", s.refresh_token)
        s.access_expires = time.time() + float(body.get("expires_in", 900))
    return s.access_token


def streaming(
    request: Request, body: AsyncIterator[Any], *, media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    """A streamed response carrying the session cookie. Its headers leave before its body, so
    whatever the body does, the cookie is the one of the moment it starts: a token refreshed
    while preparing it goes out here; one refreshed later never could (the live inbox therefore
    never refreshes inside its stream: services.console.api_counter)."""
    resp = StreamingResponse(body, media_type=media_type, headers=headers)
    sess.save(request, resp, sess.load(request))
    return resp


def expiry_of(access_token: str) -> float:
    try:
        return float(jwt.decode(access_token, options={"verify_signature": False}).get("exp", 0))
    except jwt.PyJWTError:
        return 0.0


def problem_ctx(exc: Exception, lang: str) -> dict[str, Any]:
    """What a partial needs to show a failed backend call: unavailable, or the service's message."""
    if isinstance(exc, Unavailable):
        return {"unavailable": True, "why": f"{exc.service}: {exc.why}"}
    if isinstance(exc, BackendError):
        return {
            "error": exc.message(lang),
            "field_errors": exc.field_errors(lang),
            "status": exc.status,
            # A case step's 409 (libs.common.workflow) lists what is possible now in allowed_actions;
            # dispatch's and intake's order 409s say `allowed`.
            "allowed": exc.body.get("allowed_actions") or exc.body.get("allowed") or [],
        }
    raise exc


def render_str(request: Request, template: str, ctx: dict[str, Any]) -> str:
    """A partial as a string (for server-sent events), with the same globals as `render`."""
    s = sess.load(request)
    return templates.get_template(template).render({**_globals(request, s), **ctx})
