"""Console routes shared by every role: login, logout, language, home, the region picker."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from libs.common.auth import ROLES
from services.console import domain, i18n
from services.console import session as sess
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, expiry_of, redirect, render

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    """Ready when the services the screens call answer their own /healthz."""
    checks = await request.app.state.backends.health()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    s = sess.load(request)
    return redirect(request, domain.home_for(s.roles) if s.logged_in else "/login")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return render(request, "login.html", _login_ctx(request))


def _login_ctx(request: Request, **extra: object) -> dict:
    return {"dev_login": request.app.state.settings.dev_login, "roles": ROLES, **extra}


def _start_session(request: Request, body: dict, *, flash: str | None = None) -> Response:
    """A fresh session (new CSRF token: no fixation) holding the tokens and who the user is."""
    old = sess.load(request)
    s = sess.Session(lang=old.lang)
    s.access_token = body["access_token"]
    s.refresh_token = body.get("refresh_token")
    s.access_expires = (
        time.time() + float(body["expires_in"]) if body.get("expires_in") else expiry_of(s.access_token)
    )
    s.user = body.get("user") or {}
    request.state.session = s
    return redirect(request, domain.home_for(s.roles), flash=flash)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await check_csrf(request)
    username, password = form.get("username", ""), form.get("password", "")
    try:
        body = await backends(request).login(username, password)
    except Unavailable:
        return render(request, "login.html", _login_ctx(request, error_key="login.identity_down"), 503)
    except BackendError as exc:
        code = exc.body.get("code")
        if code == "password_change_required":
            # The temporary password was right: the person sets their own before anything else.
            s = sess.load(request)
            s.pending_change = {"username": username, "password": password, "at": time.time()}
            return redirect(request, "/password")
        if exc.status in (400, 401, 422) and code != "temporary_password_expired":
            return render(request, "login.html", _login_ctx(request, error_key="login.failed"), 401)
        # Disabled, temporary password expired, 429 after too many attempts: the identity
        # service's own words (they only come after a right password, or say when to retry).
        lang = sess.load(request).lang
        return render(request, "login.html", _login_ctx(request, error=exc.message(lang)), exc.status)
    return _start_session(request, body)


def _pending(s: sess.Session) -> dict:
    p = s.pending_change
    if p and time.time() - float(p.get("at", 0)) > sess.PENDING_CHANGE_SECONDS:
        s.pending_change = p = {}
    return p


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request) -> Response:
    s = sess.load(request)
    forced = _pending(s)
    if not forced and not s.logged_in:
        return redirect(request, "/login")
    username = forced.get("username") if forced else s.user.get("username", "")
    return render(request, "password.html", {"forced": bool(forced), "username": username})


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    """The person's own password: after a reset (the temporary one kept from the login a moment
    ago) or any time while logged in (with the current one)."""
    form = await check_csrf(request)
    s = sess.load(request)
    forced = _pending(s)
    if not forced and not s.logged_in:
        return redirect(request, "/login")
    username = str(forced.get("username") if forced else s.user.get("username", ""))
    current = str(forced.get("password") if forced else form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    ctx: dict = {"forced": bool(forced), "username": username}
    if new != form.get("new_password_repeat", ""):
        return render(request, "password.html", {**ctx, "error_key": "pw.mismatch"}, 422)
    try:
        body = await backends(request).change_password(username, current, new)
    except Unavailable:
        return render(request, "password.html", {**ctx, "error_key": "login.identity_down"}, 503)
    except BackendError as exc:
        if exc.status == 401 and not forced:
            return render(request, "password.html", {**ctx, "error_key": "pw.wrong"}, 401)
        if exc.status == 401 or exc.status == 403:
            s.pending_change = {}
            return render(request, "login.html", _login_ctx(request, error=exc.message(s.lang)), exc.status)
        errors = [m for _, m in exc.field_errors(s.lang)] or [exc.message(s.lang)]
        return render(request, "password.html", {**ctx, "error": "；".join(errors)}, exc.status)
    s.pending_change = {}
    return _start_session(request, body, flash=i18n.t("pw.done", s.lang))


@router.post("/login/dev", include_in_schema=False)
async def dev_login(request: Request) -> Response:
    """Test/demo only: mint a token locally. Refused unless LAWLINE_CONSOLE_DEV_LOGIN=1."""
    if not request.app.state.settings.dev_login:
        return Response(status_code=404)
    form = await check_csrf(request)
    from libs.common.auth import issue_access_token

    role = str(form.get("role")) if form.get("role") in ROLES else "operator"
    region = form.get("region") or "1404"
    staff_id = form.get("staff_id") or None
    name = form.get("name") or "演示用户"
    ttl = request.app.state.settings.session_hours * 3600
    token = issue_access_token(
        sub=staff_id or f"dev-{role}-{region}",
        roles=[role],
        region=region,
        name=name,
        staff_id=staff_id,
        ttl=ttl,
    )
    user = {"username": f"dev-{role}", "name": name, "roles": [role], "region": region, "staff_id": staff_id}
    return _start_session(request, {"access_token": token, "expires_in": ttl, "user": user})


@router.post("/logout")
async def logout(request: Request) -> Response:
    await check_csrf(request)
    s = sess.load(request)
    if s.access_token and not request.app.state.settings.dev_login:
        try:
            await backends(request).logout(s.access_token, s.refresh_token)
        except (Unavailable, BackendError):
            pass  # the local session ends regardless; the token expires on its own
    request.state.session = sess.Session(lang=s.lang)
    return redirect(request, "/login")


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    s = sess.load(request)
    s.lang = "en" if code == "en" else "zh"
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
    return redirect(request, safe_next)


@router.get("/regions/options", response_class=HTMLResponse)
async def region_options(request: Request, level: str, county: str = "", township: str = "") -> Response:
    """htmx: the next level of the region picker (county → township → village)."""
    parent = county if level == "township" else township
    options = domain.region_options(parent) if parent else []
    return render(request, "_region_options.html", {"level": level, "options": options})
