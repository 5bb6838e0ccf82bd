"""The console app itself, over HTTP in-process: session cookie, CSRF, roles, dev-login switch,
security headers, and clear 'not available' states when the services behind it are down."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

from libs.common.embedded import free_port
from services.console import session as sess
from services.console.main import create_app
from services.console.settings import ConsoleSettings

DOWN = f"http://127.0.0.1:{free_port()}"  # nothing listens here: every backend is unreachable


@asynccontextmanager
async def console(**settings):  # type: ignore[no-untyped-def]
    app = create_app(
        ConsoleSettings(**settings),
        intake=DOWN,
        dispatch=DOWN,
        aid=DOWN,
        mediation=DOWN,
        identity=DOWN,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def dev_login(
    client: httpx.AsyncClient, role: str, region: str = "1404", staff_id: str = ""
) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login/dev",
        data={
            "csrf_token": csrf_of(page.text),
            "role": role,
            "region": region,
            "staff_id": staff_id,
            "name": "测",
        },
    )


async def test_login_page_is_chinese_with_a_protected_cookie_and_strict_headers():
    async with console() as c:
        r = await c.get("/login")
        assert r.status_code == 200 and "工作人员登录" in r.text
        cookie = r.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
        assert "/login/dev" not in r.text  # the dev login is off unless switched on
        assert (await c.get("/static/htmx.min.js")).status_code == 200


async def test_dev_login_is_refused_unless_explicitly_enabled():
    async with console() as c:
        r = await dev_login(c, "supervisor")
        assert r.status_code == 404
        assert (await c.get("/supervisor")).headers["location"] == "/login"


async def test_posts_without_the_session_csrf_token_are_refused():
    async with console(dev_login=True) as c:
        await c.get("/login")
        r = await c.post("/login/dev", data={"role": "supervisor"})
        assert r.status_code == 403 and "页面已过期" in r.text
        r = await c.post("/login/dev", data={"role": "supervisor", "csrf_token": "forged"})
        assert r.status_code == 403
        assert (await c.get("/supervisor")).status_code == 303


async def test_each_role_lands_on_its_screen_and_cannot_open_the_others():
    async with console(dev_login=True) as c:
        r = await dev_login(c, "operator")
        assert r.status_code == 303 and r.headers["location"] == "/operator"
        assert (await c.get("/operator")).status_code == 200
        r = await c.get("/supervisor")
        assert r.status_code == 403 and "无权" in r.text


async def test_a_tampered_session_cookie_is_just_logged_out():
    async with console(dev_login=True) as c:
        await dev_login(c, "supervisor")
        value = c.cookies[sess.COOKIE]
        c.cookies.set(sess.COOKIE, value[:-6] + ("AAAAAA" if not value.endswith("AAAAAA") else "BBBBBB"))
        r = await c.get("/supervisor")
        assert r.status_code == 303 and r.headers["location"] == "/login"


async def test_screens_say_not_available_when_the_services_are_down():
    async with console(dev_login=True) as c:
        await dev_login(c, "supervisor")
        r = await c.get("/supervisor")
        assert r.status_code == 200
        assert r.text.count('data-testid="unavailable"') >= 3 and 'data-testid="tile-aid-na"' in r.text
        r = await c.get("/supervisor/export.csv", params={"dataset": "aid_cases"})
        assert r.status_code == 503 and "此功能暂不可用" in r.text
        r = await c.get("/orders", params={"status": "received", "channel": "hotline"})
        assert r.status_code == 200 and "此功能暂不可用" in r.text and 'value="hotline" selected' in r.text
        page = await c.get("/operator")
        token = csrf_of(page.text)
        r = await c.get("/operator/lookup", params={"phone": "13834567890"})
        assert "此功能暂不可用" in r.text
        r = await c.post(
            "/operator/orders",
            data={
                "csrf_token": token,
                "phone": "13834567890",
                "name": "王",
                "county": "140430",
                "service_type": "legal_aid",
                "description": "欠薪",
            },
        )
        assert r.status_code == 200 and "此功能暂不可用" in r.text


async def test_password_login_reports_an_unreachable_identity_service():
    async with console() as c:
        page = await c.get("/login")
        r = await c.post("/login", data={"csrf_token": csrf_of(page.text), "username": "a", "password": "b"})
        assert r.status_code == 503 and "统一身份认证服务暂时无法连接" in r.text


async def test_language_switch_keeps_the_page_and_refuses_open_redirects():
    async with console() as c:
        r = await c.get("/lang/en", params={"next": "/login"})
        assert r.headers["location"] == "/login"
        assert "Staff login" in (await c.get("/login")).text
        r = await c.get("/lang/zh", params={"next": "//evil.example/phish"})
        assert r.headers["location"] == "/"


async def test_region_picker_walks_county_township_village():
    async with console() as c:
        r = await c.get("/regions/options", params={"level": "township", "county": "140430"})
        assert 'value="140430001"' in r.text and "hx-swap-oob" in r.text
        r = await c.get("/regions/options", params={"level": "village", "township": "140430001"})
        assert 'value="140430001001"' in r.text and "hx-swap-oob" not in r.text


async def test_readyz_reports_each_backend(monkeypatch):
    """/readyz says which backend is unreachable (none run here) with 503; /healthz stays up."""
    import httpx

    from services.console.main import create_app

    app = create_app(intake="http://127.0.0.1:9", dispatch="http://127.0.0.1:9")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        async with app.router.lifespan_context(app):
            assert (await c.get("/healthz")).status_code == 200
            r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["intake"].startswith("unreachable")
