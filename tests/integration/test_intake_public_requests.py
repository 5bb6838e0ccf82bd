"""网络平台: a citizen files a request with no login (POST /v1/public/requests) — channel web,
citizen fields only, the staff API's validation and duplicate handling, one order per
Idempotency-Key, and limits per phone and per IP (the console's X-Forwarded-For, trusted from
127.0.0.1 by uvicorn's proxy headers)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from libs.common.ratelimit import get_ratelimit_settings, limiter
from libs.common.testing.auth import auth
from services.intake.models import WorkOrder
from tests.integration.intake_helpers import clock, intake_without_broker

OP = auth("operator", region="1404")
URL = "/v1/public/requests"


def request(phone: str, **over) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "requester": {"name": "赵某某", "phone": phone},
        "region_code": "140429003",
        "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
        "special_groups": ["migrant_worker"],
    }
    body.update(over)
    return body


@pytest.fixture(scope="module")
async def env(infra):
    async with intake_without_broker(infra, clock()) as svc:
        yield svc


@pytest.fixture(autouse=True)
def fresh_limits():  # type: ignore[no-untyped-def]
    # The limiter's memory store is process-wide: start and leave it empty for other tests.
    limiter.cache_clear()
    yield
    limiter.cache_clear()


async def staff_view(svc, number: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.client(headers=OP) as c:
        return (await c.get("/v1/work-orders", params={"q": number})).json()["items"]


async def test_a_citizen_files_without_login_on_the_web_channel(env):
    async with env.client() as anon:
        r = await anon.post(URL, json=request("13811130001"), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "received" and out["phone_suffix"] == "0001"
    assert out["tracking_code"] == f"{out['number']}-0001"
    assert "赵某某" not in r.text and "13811130001" not in r.text
    async with env.client(headers=OP) as c:
        rows = await staff_view(env, out["number"])
        assert len(rows) == 1 and rows[0]["channel"] == "web"
        full = (await c.get(f"/v1/work-orders/{rows[0]['id']}")).json()
    # Classified from the text like any order; who filed is the portal, not a person.
    assert full["service_type"] == "legal_aid" and "migrant_worker" in full["special_groups"]
    assert full["channel_details"]["web"] == {"portal": "portal"}
    async with env.rt.sessionmaker() as session:
        filed_by = await session.scalar(select(WorkOrder.created_by).where(WorkOrder.number == out["number"]))
    assert filed_by == "citizen-web-portal"
    async with env.client() as anon:
        tracked = await anon.get(f"/v1/track/{out['number']}", params={"phone_suffix": "0001"})
    assert tracked.status_code == 200 and tracked.json()["timeline"][0]["kind"] == "received"


async def test_field_errors_name_the_field_in_both_languages_and_staff_blocks_are_refused(env):
    async with env.client() as anon:
        bad = await anon.post(URL, json=request("12345", region_code="999999"))
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        errors = {e["field"]: e for e in bad.json()["errors"]}
        assert set(errors) == {"requester.phone", "region_code"}
        assert "电话号码格式不正确" in errors["requester.phone"]["message"]
        assert "invalid phone" in errors["requester.phone"]["message_en"]
        # A citizen cannot pick the channel or pose as an operator (API3: mass assignment).
        for extra in ({"channel": "hotline"}, {"hotline": {"call_id": "x"}}, {"service_type": "legal_aid"}):
            r = await anon.post(URL, json=request("13811130002", **extra))
            assert r.status_code == 422, extra
            assert r.json()["errors"][0]["code"] == "extra_forbidden"
    async with env.client(headers=OP) as c:
        assert (await c.post("/v1/caller-lookup", json={"phone": "13811130002"})).json() == []


async def test_a_retry_and_a_double_submit_make_one_order_and_the_same_matter_again_is_an_urge(env):
    body = request("13811130003", description="公司拖欠我两个月工资八千元，老板一直不给。")
    key = {"Idempotency-Key": "portal-form-3"}
    async with env.client() as anon:
        both = await asyncio.gather(
            anon.post(URL, json=body, headers=key), anon.post(URL, json=body, headers=key)
        )
        again = await anon.post(URL, json=body, headers=key)
        assert {r.status_code for r in (*both, again)} == {201}, [r.text for r in both]
        assert len({r.json()["number"] for r in (*both, again)}) == 1
        assert again.headers["Idempotent-Replayed"] == "true"
        # The same key with another body is refused, not silently answered with the first order.
        other = await anon.post(
            URL, json={**body, "description": "另一件事情，邻居占了我家的地"}, headers=key
        )
        assert other.status_code == 409
        # Same person, same matter, new key: the staff API's 并单 — merged as an urge, no new dispatch.
        urge = await anon.post(
            URL,
            json={**body, "description": "公司拖欠我两个月工资八千元还没给，怎么还没人联系我？"},
            headers={"Idempotency-Key": "portal-form-4"},
        )
    number = again.json()["number"]
    assert len(await staff_view(env, number)) == 1
    assert urge.status_code == 201 and urge.json()["status"] == "merged"
    assert urge.json()["duplicate_of_number"] == number
    assert [n["code"] for n in urge.json()["notices"]] == ["duplicate"]


async def test_too_many_from_one_phone_or_one_ip_is_429_with_retry_after(env, monkeypatch):
    limits = get_ratelimit_settings()
    monkeypatch.setattr(limits, "public_request_per_phone", "2/hour")
    topics = ["邻居占了我家的宅基地", "装修把楼下墙震裂了", "网购的冰箱坏了商家不退"]
    async with env.client() as anon:
        codes = [
            (await anon.post(URL, json=request("13811130005", description=d))).status_code for d in topics
        ]
        assert codes == [201, 201, 429]
    async with env.client() as anon:
        limited = await anon.post(URL, json=request("13811130005", description="又一件事"))
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert "请求过于频繁" in limited.json()["detail"]

    # Per IP: the console passes each citizen's address; one address is limited, another is not.
    monkeypatch.setattr(limits, "public_request_per_ip", "4/hour")

    def from_ip(ip: str) -> dict:
        return {"X-Forwarded-For": ip}

    async with env.client() as anon:
        phones = [f"1381113010{i}" for i in range(3)]
        codes = [
            (await anon.post(URL, json=request(p), headers=from_ip("203.0.113.7"))).status_code
            for p in phones
        ]
        # Invalid attempts count too: a form hammered with garbage is still one address.
        codes.append((await anon.post(URL, json=request("123"), headers=from_ip("203.0.113.7"))).status_code)
        assert codes == [201, 201, 201, 422]
        blocked = await anon.post(URL, json=request("13811130200"), headers=from_ip("203.0.113.7"))
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        elsewhere = await anon.post(URL, json=request("13811130201"), headers=from_ip("203.0.113.8"))
        assert elsewhere.status_code == 201, elsewhere.text
