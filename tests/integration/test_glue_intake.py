"""Intake glue: the citizen tracking page is rate limited; unmasked contact details are read
with a reason, by front-desk roles only, inside the jurisdiction, and every read is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from libs.common.audit import AUDIT
from libs.common.ratelimit import get_ratelimit_settings, limiter
from libs.common.testing.auth import auth
from tests.integration.intake_helpers import clock, intake_without_broker, make_id, order

OP = auth("operator", region="1404", staff_id="00000000-0000-4000-8000-00000000a001")


@pytest.fixture(scope="module")
async def env(infra):
    async with intake_without_broker(infra, clock()) as svc:
        yield svc


@pytest.fixture
def fresh_limits():  # type: ignore[no-untyped-def]
    # The limiter's memory store is process-wide: start and leave it empty for other tests.
    limiter.cache_clear()
    yield
    limiter.cache_clear()


async def test_tracking_one_number_too_often_is_429(env, monkeypatch, fresh_limits):
    monkeypatch.setattr(get_ratelimit_settings(), "track_per_number", "3/minute")
    async with env.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "己某", "phone": "13811120001"}))
        ).json()
    async with env.client() as anon:
        url = f"/v1/track/{o['number']}"
        codes = [(await anon.get(url, params={"phone_suffix": "0001"})).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = await anon.get(url, params={"phone_suffix": "0001"})
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # The rating endpoint counts against the same number.
        rated = await anon.post(f"{url}/rating", params={"phone_suffix": "0001"}, json={"score": 5})
        assert rated.status_code == 429


async def test_unmasked_contact_is_role_limited_reasoned_and_audited(env):
    id_number = make_id(seq="031")
    async with env.client(headers=OP) as c:
        o = (
            await c.post(
                "/v1/work-orders",
                json=order(requester={"name": "庚某", "phone": "13811120002", "id_number": id_number}),
            )
        ).json()
        masked = (await c.get(f"/v1/work-orders/{o['id']}")).json()
        assert id_number not in str(masked) and "13811120002" not in str(masked)

        url = f"/v1/work-orders/{o['id']}/contact"
        r = await c.get(url, params={"reason": "回拨核实身份"})
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == "13811120002" and r.json()["id_number"] == id_number

        missing = await c.get(url)
        assert missing.status_code == 422 and "reason" in missing.text
        assert (await c.get(url, params={"reason": "看"})).status_code == 422
        blank = await c.get(url, params={"reason": "  看  "})
        assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"

    async with env.rt.sessionmaker() as s:
        rows = (
            await s.execute(
                select(AUDIT).where(AUDIT.c.subject == o["id"], AUDIT.c.action == "pii.unmasked_read")
            )
        ).all()
    assert len(rows) == 1  # the refused reads left no entry, the served one exactly one
    entry = rows[0]
    assert entry.actor == "00000000-0000-4000-8000-00000000a001" and "operator" in entry.roles
    assert entry.detail == {"fields": ["id_number", "phone"], "reason": "回拨核实身份"}

    # A lawyer may read the contact details of the orders they handle (issue #15), not of this one.
    async with env.client(headers=auth("lawyer", region="1404")) as lawyer:
        assert (await lawyer.get(url, params={"reason": "回拨核实身份"})).status_code == 404
    async with env.client(headers=auth("supervisor", region="140430")) as other_county:
        assert (await other_county.get(url, params={"reason": "回拨核实身份"})).status_code == 404
    async with env.client(headers=auth("counter_staff", region="140429")) as counter:
        assert (await counter.get(url, params={"reason": "窗口核验身份"})).status_code == 200
