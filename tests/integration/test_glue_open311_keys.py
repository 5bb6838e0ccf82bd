"""Open311 with real API keys: identity issues a key with an open311 scope, intake learns it from
the identity topic, a GeoReport client files a request with the `api_key` form field; a read-only
key cannot file, and a revoked key is refused in Open311's own error format."""

from __future__ import annotations

import pytest

from libs.common.testing.infra import consumers_ready, services, wait_for
from services.identity.domain import DEMO_PASSWORD

# 沁源县: a county no other test asserts an inbox in (this order does reach the shared broker).
FORM = {
    "service_code": "consultation",
    "address_id": "140431001",
    "first_name": "秀兰",
    "last_name": "赵",
    "phone": "13834561311",
    "description": "邻居占用宅基地，想咨询怎么办。",
}


def spec_errors(r) -> list[dict]:  # type: ignore[no-untyped-def]
    body = r.json()
    # The spec's shape: a list of {code, description} (extra keys such as lawline_code are allowed).
    assert isinstance(body, list) and body and all({"code", "description"} <= set(e) for e in body), body
    return body


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "identity", "intake") as running:
        await consumers_ready(*running.values())
        yield running


async def _admin(c) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await c.post("/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _key(c, admin, scopes: list[str]) -> dict:  # type: ignore[no-untyped-def]
    r = await c.post(
        "/v1/api-keys", headers=admin, json={"name": "省12345热线", "scopes": scopes, "region": "140431"}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_open311_client_files_with_api_key_and_revocation_is_spec_shaped(svc):
    async with svc["identity"].client() as c:
        admin = await _admin(c)
        writer = await _key(c, admin, ["open311:write"])
        reader = await _key(c, admin, ["open311:read"])

    async with svc["intake"].client() as intake:

        async def known():
            # Discovery needs no key any more (GeoReport v2): ask a route that still does.
            token = "00000000-0000-4000-8000-000000000000"
            r = await intake.get(f"/open311/v2/tokens/{token}.json", params={"api_key": reader["api_key"]})
            return r if r.status_code != 401 else None

        await wait_for(known, timeout=10, what="the keys to reach intake's credential cache")

        async def filed():
            r = await intake.post("/open311/v2/requests.json", data={**FORM, "api_key": writer["api_key"]})
            return r if r.status_code != 401 else None

        r = await wait_for(filed, timeout=10, what="the write key to reach intake")
        assert r.status_code == 201, r.text
        (created,) = r.json()
        assert created["service_request_id"].startswith("LW")
        (one,) = (
            await intake.get(
                f"/open311/v2/requests/{created['service_request_id']}.json",
                params={"api_key": reader["api_key"]},
            )
        ).json()
        assert one["service_code"] == "consultation" and one["status"] == "open"

        # Read-only key: discovery yes, filing no — in the spec's error array.
        r = await intake.post("/open311/v2/requests.json", data={**FORM, "api_key": reader["api_key"]})
        assert r.status_code == 403 and spec_errors(r)[0]["code"] == 403

        async with svc["identity"].client() as c:
            assert (await c.delete(f"/v1/api-keys/{writer['key_id']}", headers=admin)).status_code == 204

        async def refused():
            r = await intake.post("/open311/v2/requests.json", data={**FORM, "api_key": writer["api_key"]})
            return r if r.status_code == 401 else None

        r = await wait_for(refused, timeout=10, what="the revoked key to be refused")
        assert spec_errors(r)[0]["code"] == 401
