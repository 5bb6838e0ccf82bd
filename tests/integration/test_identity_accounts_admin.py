"""Account administration on the real stack: admins create, search, change, disable, reset
and link accounts — only inside their own jurisdiction, every step audited; a reset hands out
a one-time temporary password that must be replaced at the next login, under the policy."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.identity.domain import DEMO_PASSWORD
from services.identity.models import Account

CITY_ADMIN = auth("admin", region="1404")
LUZHOU_ADMIN = auth("admin", region="140403")  # 潞州区's own admin


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "identity") as running:
        yield running


async def actions_for(svc, subject: str) -> list[str]:
    async with svc["identity"].rt.sessionmaker() as session:
        rows = await session.scalars(
            text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"), {"s": subject}
        )
        return list(rows.all())


async def test_create_then_first_login_must_set_a_password_that_meets_the_policy(svc):
    name = f"clerk{uuid.uuid4().hex[:6]}"
    async with svc["identity"].client() as c:
        r = await c.post(
            "/v1/accounts",
            json={"username": name, "name": "李窗口", "roles": ["counter_staff"], "region": "140403"},
            headers=CITY_ADMIN,
        )
        assert r.status_code == 201, r.text
        created = r.json()
        temp = created["temporary_password"]
        assert created["account"]["must_change_password"] and created["account"]["region_name"].endswith(
            "潞州区"
        )
        # Stored as argon2, never as the password.
        async with svc["identity"].rt.sessionmaker() as session:
            stored = await session.scalar(select(Account.password_hash).where(Account.username == name))
        assert stored.startswith("$argon2id$") and temp not in stored

        # Login says a change is required, and issues no token.
        r = await c.post("/v1/auth/login", json={"username": name, "password": temp})
        assert r.status_code == 403 and r.json()["code"] == "password_change_required"
        assert "access_token" not in r.json() and "新密码" in r.json()["detail"]

        change = {"username": name, "current_password": temp}
        for bad, why in (("short-1", "至少"), (f"{name}-2026!", "用户名"), ("abcdefghijkl", "两种")):
            r = await c.post("/v1/auth/password", json={**change, "new_password": bad})
            assert r.status_code == 422, r.text
            error = r.json()["errors"][0]
            assert error["field"] == "new_password" and why in error["message"] and error["message_en"]
        wrong = {**change, "current_password": "wrong-one-123", "new_password": "Window-Seven-77"}
        r = await c.post("/v1/auth/password", json=wrong)
        assert r.status_code == 401
        r = await c.post("/v1/auth/password", json={**change, "new_password": "Window-Seven-77"})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["roles"] == ["counter_staff"]
        # The temporary password is spent; the new one logs in without further ado.
        assert (await c.post("/v1/auth/login", json={"username": name, "password": temp})).status_code == 401
        r = await c.post("/v1/auth/login", json={"username": name, "password": "Window-Seven-77"})
        assert r.status_code == 200
    assert await actions_for(svc, name) == [
        "account.created",
        "login.refused.change_required",
        "password_change.failed",  # the wrong current password
        "account.password_changed",
        "login.failed",  # the spent temporary password
    ]


async def test_reset_ends_every_session_and_forces_a_change(svc):
    async with svc["identity"].client() as c:
        r = await c.post("/v1/auth/login", json={"username": "S00913", "password": DEMO_PASSWORD})
        assert r.status_code == 200
        session = r.json()
        account = (await c.get("/v1/accounts", params={"q": "S00913"}, headers=CITY_ADMIN)).json()["items"][0]
        r = await c.post(f"/v1/accounts/{account['id']}/reset-password", headers=CITY_ADMIN)
        assert r.status_code == 200, r.text
        temp = r.json()["temporary_password"]
        assert r.json()["expires_at"] and r.json()["account"]["must_change_password"]
        r = await c.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert r.status_code == 401  # the old session is over
        assert (
            await c.post("/v1/auth/login", json={"username": "S00913", "password": DEMO_PASSWORD})
        ).status_code == 401
        r = await c.post("/v1/auth/login", json={"username": "S00913", "password": temp})
        assert r.json()["code"] == "password_change_required"
    async with svc["identity"].rt.sessionmaker() as session:
        revoked = await session.scalar(text("SELECT count(*) FROM revoked_tokens WHERE account = 'S00913'"))
        detail = await session.scalar(
            text(
                "SELECT detail::text FROM audit_log WHERE action = 'account.password_reset' AND subject = 'S00913'"
            )
        )
    assert revoked == 1  # the access token issued at that login, revoked in every service
    assert temp not in detail  # the audit never sees a password


async def test_search_filters_and_keyset_pages(svc):
    async with svc["identity"].client(headers=CITY_ADMIN) as c:
        r = await c.get("/v1/accounts", params={"role": "aid_officer", "region": "140430", "limit": 2})
        assert r.status_code == 200, r.text
        first = r.json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = (
            await c.get(
                "/v1/accounts",
                params={"role": "aid_officer", "region": "140430", "cursor": first["next_cursor"]},
            )
        ).json()
        every = first["items"] + rest["items"]
        assert rest["next_cursor"] is None
        assert len({a["username"] for a in every}) == len(every) == 3  # 2 officers + aid_140430
        assert all(a["roles"] == ["aid_officer"] and a["region"] == "140430" for a in every)
        names = [a["username"] for a in every]
        assert names == sorted(names)
        unlinked = (await c.get("/v1/accounts", params={"linked": "false", "limit": 200})).json()["items"]
        assert {a["username"] for a in unlinked} >= {"admin", "supervisor_1404", "op_140430"}
        assert all(a["staff_id"] is None for a in unlinked)
        by_name = (await c.get("/v1/accounts", params={"q": "沁县督办"})).json()["items"]
        assert [a["username"] for a in by_name] == ["supervisor_140430"]


async def test_a_county_admin_sees_and_changes_only_their_county(svc):
    async with svc["identity"].client() as c:
        mine = (await c.get("/v1/accounts", params={"limit": 200}, headers=LUZHOU_ADMIN)).json()
        assert mine["items"] and all(a["region"].startswith("140403") for a in mine["items"])
        qinxian = (await c.get("/v1/accounts", params={"q": "lawyer_140430"}, headers=CITY_ADMIN)).json()
        other = qinxian["items"][0]["id"]
        for method, path in (
            ("GET", f"/v1/accounts/{other}"),
            ("PATCH", f"/v1/accounts/{other}"),
            ("POST", f"/v1/accounts/{other}/disable"),
            ("POST", f"/v1/accounts/{other}/reset-password"),
        ):
            r = await c.request(method, path, json={} if method != "GET" else None, headers=LUZHOU_ADMIN)
            assert r.status_code == 404, (method, path, r.text)  # outside looks like nothing there
        r = await c.post(
            "/v1/accounts",
            json={"username": "luzhou_grab", "name": "越权", "roles": ["lawyer"], "region": "140430"},
            headers=LUZHOU_ADMIN,
        )
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "region"
        r = await c.post(
            "/v1/accounts",
            json={"username": "nowhere", "name": "无辖区", "roles": ["lawyer"], "region": "149999"},
            headers=CITY_ADMIN,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region"
        r = await c.post(
            "/v1/accounts",
            json={"username": "machine", "name": "机器", "roles": ["external_system"], "region": "1404"},
            headers=CITY_ADMIN,
        )
        assert r.status_code == 422  # machines get API keys, never a login


async def test_roles_disable_enable_and_link_are_audited_and_take_effect(svc):
    async with svc["identity"].client() as c:
        find = await c.get("/v1/accounts", params={"q": "counter_140403"}, headers=CITY_ADMIN)
        counter = find.json()["items"][0]
        staff_id, code = counter["staff_id"], counter["staff_code"]
        r = await c.patch(
            f"/v1/accounts/{counter['id']}",
            json={"roles": ["counter_staff", "supervisor"]},
            headers=LUZHOU_ADMIN,
        )
        assert r.status_code == 200 and r.json()["roles"] == ["counter_staff", "supervisor"]
        r = await c.post("/v1/auth/login", json={"username": "counter_140403", "password": DEMO_PASSWORD})
        assert r.json()["user"]["roles"] == ["counter_staff", "supervisor"]
        refresh = r.json()["refresh_token"]

        r = await c.post(f"/v1/accounts/{counter['id']}/disable", json={"note": "调岗"}, headers=LUZHOU_ADMIN)
        assert r.status_code == 200 and r.json()["active"] is False and r.json()["disabled_reason"] == "admin"
        assert (await c.post("/v1/auth/refresh", json={"refresh_token": refresh})).status_code == 401
        r = await c.post("/v1/auth/login", json={"username": "counter_140403", "password": DEMO_PASSWORD})
        assert r.status_code == 403 and r.json()["code"] == "account_disabled"
        r = await c.post(f"/v1/accounts/{counter['id']}/enable", headers=LUZHOU_ADMIN)
        assert r.status_code == 200 and r.json()["active"] is True

        # One person, one login: the staff member's own account (their code) already has them.
        r = await c.delete(f"/v1/accounts/{counter['id']}/staff", headers=LUZHOU_ADMIN)
        assert r.status_code == 200 and r.json()["staff_id"] is None
        assert r.json()["roles"] == ["supervisor"]  # what the link granted goes with it
        own = (await c.get("/v1/accounts", params={"q": code}, headers=LUZHOU_ADMIN)).json()["items"][0]
        assert own["username"] == code and own["staff_id"] == staff_id
        r = await c.put(
            f"/v1/accounts/{counter['id']}/staff", json={"staff_id": staff_id}, headers=LUZHOU_ADMIN
        )
        assert r.status_code == 409 and code in r.json()["errors"][0]["message"]
        await c.delete(f"/v1/accounts/{own['id']}/staff", headers=LUZHOU_ADMIN)
        r = await c.put(
            f"/v1/accounts/{counter['id']}/staff", json={"staff_id": staff_id}, headers=LUZHOU_ADMIN
        )
        assert r.status_code == 200, r.text
        assert r.json()["roles"] == ["counter_staff", "supervisor"] and r.json()["staff_code"] == code
        # Nobody locks themselves out.
        me = (await c.get("/v1/accounts", params={"q": "admin"}, headers=CITY_ADMIN)).json()["items"][0]
        r = await c.post("/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        self_token = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await c.post(f"/v1/accounts/{me['id']}/disable", headers=self_token)).status_code == 409
        r = await c.patch(f"/v1/accounts/{me['id']}", json={"roles": ["supervisor"]}, headers=self_token)
        assert r.status_code == 409
    assert await actions_for(svc, "counter_140403") == [
        "account.updated",
        "account.disabled",
        "login.refused.disabled",
        "account.enabled",
        "account.unlinked",
        "account.linked",
    ]
