"""Logins follow dispatch's staff, by events, on the real stack (PostgreSQL + broker):
a staff member added in dispatch gets an account; renamed, given another role, moved to
another county, the account follows (keeping its password); made inactive, the account is
disabled — no login, its refresh token refused, its access token revoked in every service —
and made active again, enabled again."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from libs.common.events.dispatch import StaffChangedV1
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.identity.models import Account, StaffMember
from services.identity.staff_link import apply_staff_changed

ADMIN = auth("admin", region="1404")


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "identity", "dispatch") as running:
        await consumers_ready(*running.values())
        yield running


async def point_of(dispatch, county: str) -> dict:
    r = await dispatch.get("/v1/service-points", params={"county_code": county, "tier": "county"})
    assert r.status_code == 200, r.text
    return r.json()[0]


async def account_of(svc, code: str) -> Account | None:
    async with svc["identity"].rt.sessionmaker() as session:
        return await session.scalar(select(Account).where(Account.username == code))


async def until(svc, code: str, check, what: str) -> Account:  # type: ignore[no-untyped-def]
    async def ready():  # type: ignore[no-untyped-def]
        a = await account_of(svc, code)
        return a if a is not None and check(a) else None

    return await wait_for(ready, timeout=20, what=what)


async def test_a_staff_member_added_renamed_moved_and_disabled_in_dispatch(svc):
    code = f"T{uuid.uuid4().hex[:7].upper()}"
    async with (
        svc["dispatch"].client(headers=ADMIN) as dispatch,
        svc["identity"].client() as identity,
    ):
        qinxian = await point_of(dispatch, "140430")
        r = await dispatch.post(
            "/v1/staff",
            json={
                "code": code,
                "name": "韩志强",
                "role": "legal_worker",
                "skills": ["consultation"],
                "service_point_id": qinxian["id"],
            },
        )
        assert r.status_code == 201, r.text
        staff_id = r.json()["id"]

        # Appears in identity: username = staff code, linked, roles that can take offers, 沁县.
        made = await until(svc, code, lambda a: True, "the new staff member's account")
        assert made.staff_id == staff_id and made.name == "韩志强" and made.active
        assert made.roles == ["counter_staff"] and made.region == "140430"
        # No password until an admin hands out a temporary one; then the person sets their own.
        listed = (await identity.get("/v1/accounts", params={"q": code}, headers=ADMIN)).json()["items"]
        assert [a["username"] for a in listed] == [code] and listed[0]["has_password"] is False
        temp = (await identity.post(f"/v1/accounts/{made.id}/reset-password", headers=ADMIN)).json()
        r = await identity.post(
            "/v1/auth/password",
            json={
                "username": code,
                "current_password": temp["temporary_password"],
                "new_password": "Qinxian-Counter-7",
            },
        )
        assert r.status_code == 200, r.text
        password = "Qinxian-Counter-7"

        # Renamed, made a mediator, moved to 潞州区's centre: the account follows.
        luzhou = await point_of(dispatch, "140403")
        r = await dispatch.patch(
            f"/v1/staff/{staff_id}",
            json={"name": "韩志刚", "role": "mediator", "service_point_id": luzhou["id"]},
        )
        assert r.status_code == 200, r.text
        moved = await until(svc, code, lambda a: a.name == "韩志刚", "the rename")
        assert moved.roles == ["mediator"] and moved.region == "140403" and moved.staff_role == "mediator"

        # The password survived every update; the token says who they are now.
        r = await identity.post("/v1/auth/login", json={"username": code, "password": password})
        assert r.status_code == 200, r.text
        session = r.json()
        assert session["user"]["roles"] == ["mediator"] and session["user"]["region"] == "140403"
        bearer = {"Authorization": f"Bearer {session['access_token']}"}
        assert (await dispatch.get("/v1/staff", params={"q": code}, headers=bearer)).status_code == 200

        # Inactive in dispatch: the account is disabled and every session of it ends.
        r = await dispatch.patch(f"/v1/staff/{staff_id}", json={"active": False})
        assert r.status_code == 200, r.text
        gone = await until(svc, code, lambda a: not a.active, "the account to be disabled")
        assert gone.disabled_reason == "staff_inactive"
        r = await identity.post("/v1/auth/login", json={"username": code, "password": password})
        assert r.status_code == 403 and r.json()["code"] == "account_disabled"
        r = await identity.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert r.status_code == 401
        revoked = await wait_for(
            lambda: _status(dispatch, bearer), timeout=15, what="the access token revoked in dispatch"
        )
        assert revoked == 401
        # An admin cannot switch it back on behind dispatch's back…
        r = await identity.post(f"/v1/accounts/{gone.id}/enable", headers=ADMIN)
        assert r.status_code == 409
        # …but the person back at work is back in.
        r = await dispatch.patch(f"/v1/staff/{staff_id}", json={"active": True})
        assert r.status_code == 200
        await until(svc, code, lambda a: a.active, "the account to be enabled again")
        r = await identity.post("/v1/auth/login", json={"username": code, "password": password})
        assert r.status_code == 200, r.text
    async with svc["identity"].rt.sessionmaker() as session:
        actions = (
            await session.scalars(
                text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"), {"s": code}
            )
        ).all()
    assert "account.created_for_staff" in actions and "account.disabled_with_staff" in actions
    assert actions.count("account.updated_from_staff") >= 2  # the move, and back to active


async def _status(dispatch, bearer: dict) -> int | None:  # type: ignore[no-untyped-def]
    r = await dispatch.get("/v1/staff", params={"limit": 1}, headers=bearer)
    return r.status_code if r.status_code == 401 else None


async def test_an_old_change_arriving_late_changes_nothing(svc):
    """A move between counties puts the next change on another partition: the older one may
    be read after it. The staff record's own time decides."""
    async with svc["identity"].rt.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.username == "S00913"))
        assert account is not None and account.active
        staff = await session.get(StaffMember, account.staff_id)
    now = svc["identity"].rt.clock.now()
    base = dict(
        staff_id=staff.staff_id,
        code=staff.code,
        role=staff.role,
        service_point_id=staff.service_point_id,
        service_point_name=staff.service_point_name,
        tier=staff.tier,
        county_code=staff.county_code,
        region_code=staff.region_code,
        active=True,
    )
    async with svc["identity"].rt.sessionmaker() as session, session.begin():
        await apply_staff_changed(session, staff=StaffChangedV1(**base, name="新名字", changed_at=now))
        stale = StaffChangedV1(
            **{**base, "active": False}, name="旧名字", changed_at=now - timedelta(minutes=5)
        )
        await apply_staff_changed(session, staff=stale)
    after = await account_of(svc, "S00913")
    assert after.name == "新名字" and after.active


async def test_announcing_the_staff_again_makes_the_missing_logins(svc):
    """People who were in dispatch before identity followed it (or after identity lost its
    database) get their logins from one re-announcement; those who have one keep it as it is."""
    async with svc["identity"].rt.sessionmaker() as session, session.begin():
        gone = await session.scalar(select(Account).where(Account.username == "S00914"))
        keep = await session.scalar(select(Account).where(Account.username == "S00915"))
        await session.delete(gone)
    async with svc["dispatch"].client(headers=auth("admin", region="140430")) as dispatch:
        r = await dispatch.post("/v1/staff/announce")
        assert r.status_code == 200, r.text
        assert 50 < r.json()["announced"] < 200  # 沁县's people only
    back = await until(svc, "S00914", lambda a: True, "S00914's login made again")
    assert back.staff_id == gone.staff_id and back.roles == gone.roles and back.region == "140430"
    after = await account_of(svc, "S00915")
    assert after.password_hash == keep.password_hash and after.roles == keep.roles
