"""The console's account screen in-process: only admins open it (and only admins see it in the
menu); with identity down it says so instead of failing; the forced password change keeps
the temporary password in the encrypted session only, and only for a few minutes."""

from __future__ import annotations

import time

from services.console import session as sess
from tests.unit.test_console_app import console, csrf_of, dev_login


async def test_only_admins_open_account_administration_and_see_it_in_the_menu():
    async with console(dev_login=True) as c:
        await dev_login(c, "supervisor")
        page = await c.get("/supervisor")
        assert 'href="/accounts"' not in page.text
        for path in ("/accounts", "/accounts/new", "/accounts/staff-options?staff_q=S009"):
            r = await c.get(path)
            assert r.status_code == 403, path
    async with console(dev_login=True) as c:
        await dev_login(c, "admin", region="140430")
        r = await c.get("/accounts")
        assert r.status_code == 200 and 'href="/accounts"' in r.text and "账号管理" in r.text
        # identity is down here: a clear state, and the filters still render with Chinese labels.
        assert "此功能暂不可用" in r.text and "法律援助工作人员" in r.text
        # The county admin's region picker offers their county and its townships, nothing else.
        new = await c.get("/accounts/new")
        assert 'value="140430"' in new.text and 'value="140430001"' in new.text
        assert 'value="140403"' not in new.text and 'value="1404"' not in new.text
        r = await c.post(
            "/accounts",
            data={"csrf_token": csrf_of(new.text), "username": "x1", "name": "某", "roles": ["lawyer"]},
        )
        assert r.status_code == 503 and "此功能暂不可用" in r.text and 'value="x1"' in r.text


async def test_forced_password_change_keeps_the_temporary_password_briefly_and_encrypted():
    async with console() as c:
        r = await c.get("/password")
        assert r.status_code == 303 and r.headers["location"] == "/login"  # nothing pending, not logged in
        codec = sess.SessionCodec("x" * 32, 3600)
        s = sess.Session(
            pending_change={"username": "S00913", "password": "Abcd-2345-efgh", "at": time.time()}
        )
        blob = codec.encode(s)
        assert "Abcd-2345-efgh" not in blob and codec.decode(blob).pending_change["username"] == "S00913"
        # An old pending change (older than PENDING_CHANGE_SECONDS) is forgotten.
        stale = time.time() - sess.PENDING_CHANGE_SECONDS - 1
        app_codec = c._transport.app.state.codec  # type: ignore[attr-defined]
        c.cookies.set(
            sess.COOKIE,
            app_codec.encode(
                sess.Session(pending_change={"username": "S00913", "password": "p", "at": stale})
            ),
        )
        r = await c.get("/password")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        c.cookies.set(
            sess.COOKIE,
            app_codec.encode(
                sess.Session(pending_change={"username": "S00913", "password": "p", "at": time.time()})
            ),
        )
        r = await c.get("/password")
        assert r.status_code == 200 and 'data-testid="password-forced"' in r.text
        assert 'name="current_password"' not in r.text  # not asked twice
        r = await c.post(
            "/password",
            data={
                "csrf_token": csrf_of(r.text),
                "new_password": "Tiger-Lily-2026",
                "new_password_repeat": "other",
            },
        )
        assert r.status_code == 422 and "两次输入的新密码不一致" in r.text
