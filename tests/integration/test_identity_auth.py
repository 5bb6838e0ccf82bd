"""Identity end to end on real PostgreSQL + broker: login, refresh rotation, logout
revocation seen by another service, API keys (scopes, jurisdiction, revocation, rate limit)."""

from __future__ import annotations

import asyncio

import jwt
import pytest
from sqlalchemy import text

from libs.common.auth import get_auth_settings
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.identity.domain import DEMO_PASSWORD

ORDER = {
    "channel": "external",
    "requester": {"name": "李建国", "phone": "13912345678"},
    "region_code": "140430",
    "service_type": "consultation",
    "description": "邻居占用宅基地，想咨询怎么办。",
}


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "identity", "intake") as running:
        await consumers_ready(*running.values())
        yield running


async def login(client, username: str, password: str = DEMO_PASSWORD):
    return await client.post("/v1/auth/login", json={"username": username, "password": password})


async def test_login_issues_short_lived_jwt_and_user(svc):
    async with svc["identity"].client() as c:
        r = await login(c, "lawyer_140430")
        assert r.status_code == 200, r.text
        body = r.json()
        s = get_auth_settings()
        claims = jwt.decode(
            body["access_token"], s.jwt_secret, algorithms=s.jwt_algorithms, audience=s.jwt_audience
        )
        assert (
            claims["roles"] == ["lawyer"]
            and claims["region"] == "140430"
            and claims["sub"] == "lawyer_140430"
        )
        assert claims["exp"] - claims["iat"] == body["expires_in"] == s.access_ttl_seconds
        assert body["user"]["staff_id"] == claims["staff_id"] and body["user"]["roles"] == ["lawyer"]
        me = await c.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200 and me.json()["region"] == "140430"
        # Wrong password and unknown user look the same (no account enumeration).
        bad1, bad2 = await login(c, "lawyer_140430", "wrong"), await login(c, "nobody_here", "wrong")
        assert bad1.status_code == bad2.status_code == 401
        assert bad1.json()["detail"] == bad2.json()["detail"]
    async with svc["identity"].rt.sessionmaker() as session:
        stored = (
            await session.execute(text("SELECT password_hash FROM accounts WHERE username='admin'"))
        ).scalar()
        tokens = (await session.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars().all()
    assert stored.startswith("$argon2id$")
    assert body["refresh_token"] not in tokens and all(len(t) == 64 for t in tokens)


async def test_refresh_rotates_and_reuse_revokes_the_family(svc):
    async with svc["identity"].client() as c:
        first = (await login(c, "aid_140403")).json()
        r = await c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        replay = await c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401 and replay.json()["code"] == "refresh_reuse"
        # Theft assumed: the legitimate newer token of the same family is dead too.
        after = await c.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert after.status_code == 401


async def test_logout_revokes_access_token_in_other_services(svc):
    async with svc["identity"].client() as c:
        tokens = (await login(c, "op_140430")).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with svc["intake"].client(headers=bearer) as intake:
            assert (await intake.post("/v1/work-orders", json=ORDER)).status_code == 201
            r = await c.post(
                "/v1/auth/logout", headers=bearer, json={"refresh_token": tokens["refresh_token"]}
            )
            assert r.status_code == 204

            async def refused():
                r = await intake.post("/v1/work-orders", json=ORDER)
                return r if r.status_code == 401 else None

            r = await wait_for(refused, timeout=10, what="the revoked token to be refused by intake")
            assert r.json()["code"] == "token_revoked"
        again = await c.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert again.status_code == 401


async def _admin(c) -> dict[str, str]:
    return {"Authorization": f"Bearer {(await login(c, 'admin')).json()['access_token']}"}


async def _auditor(c) -> dict[str, str]:  # 三员分立: only the audit administrator reads the trail
    return {"Authorization": f"Bearer {(await login(c, 'auditadmin')).json()['access_token']}"}


async def _create_key(c, headers, **body):
    r = await c.post("/v1/api-keys", headers=headers, json={"name": "省12345热线", **body})
    assert r.status_code == 201, r.text
    return r.json()


async def test_api_keys_scopes_jurisdiction_revocation(svc):
    async with svc["identity"].client() as c:
        staff = {"Authorization": f"Bearer {(await login(c, 'supervisor_1404')).json()['access_token']}"}
        denied = await c.post(
            "/v1/api-keys", headers=staff, json={"name": "x", "scopes": ["a:b"], "region": "1404"}
        )
        assert denied.status_code == 403
        admin = await _admin(c)
        outside = await c.post(
            "/v1/api-keys", headers=admin, json={"name": "x", "scopes": ["a:b"], "region": "1405"}
        )
        assert outside.status_code == 403
        writer = await _create_key(c, admin, scopes=["workorders:write"], region="140430")
        assert writer["api_key"].startswith("llk_")
        listed = (await c.get("/v1/api-keys", headers=admin)).json()
        assert writer["key_id"] in {k["key_id"] for k in listed}
        assert all("api_key" not in k and "key_hash" not in k for k in listed)
    async with svc["identity"].rt.sessionmaker() as session:
        stored = (await session.execute(text("SELECT key_hash FROM api_keys"))).scalars().all()
    assert writer["api_key"] not in stored

    key = {"X-API-Key": writer["api_key"]}
    async with svc["intake"].client() as intake:

        async def accepted():
            r = await intake.post("/v1/work-orders", json=ORDER, headers=key)
            return r if r.status_code == 201 else None

        created = (await wait_for(accepted, timeout=10, what="the new key to reach intake")).json()
        # Jurisdiction: the key of 沁县 cannot file in 潞州区.
        r = await intake.post("/v1/work-orders", json={**ORDER, "region_code": "140403"}, headers=key)
        assert r.status_code == 404
        # Scope: no workorders:read → 403, via header or the Open311 api_key parameter alike.
        r = await intake.get(f"/v1/work-orders/{created['id']}", headers=key)
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
        r = await intake.get(f"/v1/work-orders/{created['id']}", params={"api_key": writer["api_key"]})
        assert r.status_code == 403
        assert (
            await intake.post("/v1/work-orders", json=ORDER, headers={"X-API-Key": "llk_bogus_x"})
        ).status_code == 401

        async with svc["identity"].client() as c:
            r = await c.delete(f"/v1/api-keys/{writer['key_id']}", headers=await _admin(c))
            assert r.status_code == 204

        async def refused():
            r = await intake.post("/v1/work-orders", json=ORDER, headers=key)
            return r if r.status_code == 401 else None

        await wait_for(refused, timeout=10, what="the revoked key to be refused")


async def test_api_key_rate_limit_answers_429_with_retry_after(svc):
    async with svc["identity"].client() as c:
        k = await _create_key(
            c, await _admin(c), scopes=["workorders:read"], region="1404", rate_limit="3/minute"
        )
    headers = {"X-API-Key": k["api_key"]}
    url = "/v1/work-orders/00000000-0000-4000-8000-000000000000"
    async with svc["intake"].client() as intake:

        async def known():
            r = await intake.get(url, headers=headers)
            return r if r.status_code != 401 else None

        await wait_for(known, timeout=10, what="the key to reach intake")
        statuses = [(await intake.get(url, headers=headers)) for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].headers["content-type"] == "application/problem+json"


async def test_login_brute_force_is_rate_limited(svc):
    async with svc["identity"].client() as c:
        ok = [(await login(c, "mediator_140426")).status_code for _ in range(11)]
        assert ok == [200] * 11  # successful logins never count
        codes = [(await login(c, "mediator_140426", "guess")).status_code for _ in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        locked = await login(c, "mediator_140426")  # now even the right password waits
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


async def test_identity_actions_are_audited_with_actor_and_ip(svc):
    async with svc["identity"].client() as c:
        await login(c, "counter_140430")
        r = await c.get("/v1/audit/entries", headers=await _auditor(c), params={"limit": 500})
        assert r.status_code == 200
        entries = r.json()
        logins = [
            e
            for e in entries
            if e["action"].endswith("session_started.v1") and e["actor"] == "counter_140430"
        ]
        assert logins and logins[0]["ip"] == "127.0.0.1" and logins[0]["correlation_id"]
        v = (await c.get("/v1/audit/verify", headers=await _auditor(c))).json()
        assert v["ok"] and v["entries"] >= len(entries)


async def test_rs256_tokens_verify_through_the_jwks_document(svc, monkeypatch):
    """What a province's OIDC provider needs: services verify by JWKS URL, no shared secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from libs.common.auth import AuthSettings, decode_token

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    async with svc["identity"].client() as c:
        assert (await c.get("/.well-known/jwks.json")).json() == {
            "keys": []
        }  # shared secret: nothing to publish
        monkeypatch.setenv("LAWLINE_AUTH_JWT_ALGORITHMS", '["RS256"]')
        monkeypatch.setenv("LAWLINE_AUTH_JWT_PRIVATE_KEY", pem)
        get_auth_settings.cache_clear()
        try:
            keys = (await c.get("/.well-known/jwks.json")).json()["keys"]
            token = (await login(c, "mediator_140403")).json()["access_token"]
            url = f"{svc['identity'].url}/.well-known/jwks.json"
            verifier = AuthSettings(jwt_algorithms=["RS256"], jwks_url=url)
            who = await asyncio.to_thread(decode_token, token, verifier)
        finally:
            monkeypatch.undo()
            get_auth_settings.cache_clear()
    assert keys[0]["kty"] == "RSA" and keys[0]["kid"] == "lawline-1" and "d" not in keys[0]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert who.sub == "mediator_140403" and who.roles == {"mediator"} and who.region == "140403"
    with pytest.raises(Exception) as err:  # the dev shared secret no longer verifies it
        decode_token(token)
    assert getattr(err.value, "status", None) == 401
