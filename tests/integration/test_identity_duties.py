"""三员分立 on the real identity service (等保 2.0 level 3): only the audit administrator reads and
verifies the audit trail; one account holds one of the three duties; a holder of one grants
neither of the others; nobody grants a role to themselves. Refusals are bilingual problem+json."""

from __future__ import annotations

import uuid

import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import services

ADMIN = auth("admin", region="1404")
SECURITY = auth("security_admin", region="1404")  # sub: test-security_admin-1404


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "identity") as running:
        yield running


async def _create(c, roles: list[str], *, username: str | None = None, headers=ADMIN):  # type: ignore[no-untyped-def]
    body = {
        "username": username or f"u{uuid.uuid4().hex[:8]}",
        "name": "管理员",
        "roles": roles,
        "region": "1404",
    }
    return await c.post("/v1/accounts", json=body, headers=headers)


def _refused(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    error = r.json()["errors"][0]
    assert error["field"] == "roles" and error["message"] and error["message_en"]
    return error


async def test_only_the_audit_administrator_reads_the_audit_trail(svc):
    async with svc["identity"].client() as c:
        for role in ("admin", "system_admin", "security_admin", "supervisor"):
            assert (await c.get("/v1/audit/verify", headers=auth(role))).status_code == 403
        assert (await c.get("/v1/audit/entries", headers=auth("admin"))).status_code == 403
        v = await c.get("/v1/audit/verify", headers=auth("audit_admin"))
        assert v.status_code == 200 and v.json()["ok"]


async def test_the_three_duties_stay_apart(svc):
    async with svc["identity"].client() as c:
        # The installation's admin appoints them, one duty per account.
        for duty in ("system_admin", "security_admin", "audit_admin"):
            assert (await _create(c, [duty])).status_code == 201
        error = _refused(await _create(c, ["security_admin", "audit_admin"]), 409)
        assert "三员分立" in error["message"] and "separation of duties" in error["message_en"]

        # The security administrator gives case-work roles, not the auditor's nor all rights.
        assert (await _create(c, ["lawyer"], headers=SECURITY)).status_code == 201
        _refused(await _create(c, ["audit_admin"], headers=SECURITY), 403)
        _refused(await _create(c, ["admin"], headers=SECURITY), 403)
        clerk = (await _create(c, ["counter_staff"], headers=SECURITY)).json()["account"]
        r = await c.patch(f"/v1/accounts/{clerk['id']}", json={"roles": ["system_admin"]}, headers=SECURITY)
        _refused(r, 403)

        # Nor anything to their own account.
        me = (await _create(c, ["security_admin"], username="test-security_admin-1404")).json()["account"]
        r = await c.patch(
            f"/v1/accounts/{me['id']}", json={"roles": ["security_admin", "supervisor"]}, headers=SECURITY
        )
        assert "自己" in _refused(r, 403)["message"]
        r = await c.get(f"/v1/accounts/{me['id']}", headers=ADMIN)
        assert r.json()["roles"] == ["security_admin"]
