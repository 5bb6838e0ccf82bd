"""A shift on the live inbox outlives many access tokens, and the officer is never logged out.

What was seen: after ~15 min on the live inbox the stream refreshed the token in memory, which
rotated the refresh token; the browser's cookie still held the spent one, the next click
presented it, identity's reuse detection revoked the whole session (a false
`refresh_token.reuse_detected` alarm) and the action was lost on the login page. Now the stream
never refreshes: it ends itself with `renew` once the token is due, and the reconnect (a
request whose response carries the cookie) refreshes. Here, with 66 s access tokens (due for
refresh 6 s after each one, REFRESH_MARGIN_SECONDS being 60), three token lifetimes of a real
console on a real socket, real identity and dispatch, and a click after each renewal."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from libs.common.auth import get_auth_settings
from libs.common.testing.infra import serve, services
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from services.identity.domain import DEMO_PASSWORD
from tests.integration.console_helpers import DOWN
from tests.unit.test_console_app import csrf_of

TTL_SECONDS = 66


async def _stream_until_renewal(client: httpx.AsyncClient) -> list[str]:
    """The event names one stream sent, up to its end."""
    names: list[str] = []
    async with asyncio.timeout(45):  # a keep-alive every 15 s: the due token is noticed within that
        async with client.stream("GET", "/counter/stream") as resp:
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    names.append(line.split(":", 1)[1].strip())
                    if names[-1] in ("renew", "login"):
                        break
    return names


async def test_an_officer_on_the_live_inbox_is_never_logged_out_across_token_lifetimes(infra, monkeypatch):
    monkeypatch.setattr(get_auth_settings(), "access_ttl_seconds", TTL_SECONDS)
    async with services(infra, "identity", "dispatch") as running:
        app = create_app(
            ConsoleSettings(),
            identity=running["identity"].url,
            dispatch=running["dispatch"].url,
            intake=DOWN,
            aid=DOWN,
            mediation=DOWN,
        )
        console = await serve("console", app)
        try:
            async with httpx.AsyncClient(base_url=console.url, timeout=30) as c:
                page = await c.get("/login")
                r = await c.post(
                    "/login",
                    data={
                        "csrf_token": csrf_of(page.text),
                        "username": "aid_140403",
                        "password": DEMO_PASSWORD,
                    },
                )
                assert r.status_code == 303 and r.headers["location"] != "/login", r.text
                for _ in range(3):
                    names = await _stream_until_renewal(c)
                    assert names[0] == "inbox" and names[-1] == "renew", names
                    # A click after the renewal: its page, not the login page.
                    page = await c.get("/counter")
                    assert page.status_code == 200 and 'name="username"' not in page.text
                    r = await c.post("/counter/duty/sign-in", headers={"X-CSRF-Token": csrf_of(page.text)})
                    assert r.status_code == 200, (r.status_code, r.headers.get("location"))
        finally:
            await console.stop()
        async with running["identity"].rt.sessionmaker() as session:
            actions = (
                await session.execute(
                    text(
                        "SELECT action, count(*) FROM audit_log WHERE action LIKE 'refresh_token.%' GROUP BY 1"
                    )
                )
            ).all()
    counts = dict(actions)
    assert counts.get("refresh_token.reuse_detected", 0) == 0, counts
    assert counts.get("refresh_token.rotated", 0) >= 3, counts  # the tokens really were renewed
