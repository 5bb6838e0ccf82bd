"""Status push-back to external systems (issue #19 item 3) against a real HTTP receiver started
here and intake's real database: every stage of an order filed with an API key reaches the
system's URL signed (HMAC-SHA256 over `t.body`), in our format and in the 12345 办结反馈 format;
a failing receiver is retried with backoff and every attempt is logged; one delivery or all since
a time can be sent again; 24 h of failure (shortened here) disables the subscription with an
ERROR line, a metric and the API; a crash between the write and the send loses nothing, and two
senders never send one delivery twice; the API's errors are bilingual and name the field."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from libs.common.apikeys import KeyRecord, generate_key
from libs.common.events import dispatch as dispatch_events
from libs.common.events.envelope import make_event
from libs.common.testing.auth import auth
from libs.common.testing.infra import wait_for
from services.intake.handlers import build_handlers
from services.intake.webhooks import record, signing
from services.intake.webhooks.models import Delivery, Subscription
from services.intake.webhooks.sender import CLAIM, Sender, purge
from services.intake.webhooks.settings import WebhookSettings, get_webhook_settings
from tests.integration.intake_helpers import clock, intake_without_broker, order
from tests.integration.webhook_receiver import receiver

OP = auth("operator", region="1404")
FAST = {  # the 24 h of the real settings, in seconds
    "BACKOFF_FIRST_SECONDS": "0.2",
    "BACKOFF_FACTOR": "2",
    "BACKOFF_CAP_SECONDS": "1",
    "BACKOFF_JITTER": "0",
    "GIVE_UP_SECONDS": "2.5",
    "DISABLE_AFTER_SECONDS": "2.5",
    "POLL_SECONDS": "0.05",
}


def _env(values: dict[str, str]):  # type: ignore[no-untyped-def]
    saved = {k: os.environ.get(f"LAWLINE_WEBHOOK_{k}") for k in values}
    os.environ.update({f"LAWLINE_WEBHOOK_{k}": v for k, v in values.items()})
    get_webhook_settings.cache_clear()

    def restore() -> None:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(f"LAWLINE_WEBHOOK_{k}", None)
            else:
                os.environ[f"LAWLINE_WEBHOOK_{k}"] = v
        get_webhook_settings.cache_clear()

    return restore


@pytest.fixture(scope="module")
async def env(infra):
    restore = _env(FAST)
    try:
        async with receiver() as rec, intake_without_broker(infra, clock()) as svc:
            yield svc, rec
    finally:
        restore()


def external_system(svc, name: str = "长治市12345热线") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An API key as identity would announce it, put in the service's credential cache."""
    key, key_id, key_hash = generate_key()
    svc.app.state.credentials.keys_by_hash[key_hash] = KeyRecord(
        key_id, name, frozenset({"workorders:write", "workorders:read"}), "1404", ""
    )
    return {"X-API-Key": key}


def external_order(ref: str) -> dict:
    # A phone of its own per order: the same requester on the same matter would be an urge (并单).
    phone = f"138{int(uuid.uuid5(uuid.NAMESPACE_URL, ref)) % 10**8:08d}"
    return order(
        channel="external",
        region_code="140403",
        service_type="mediation",
        description="邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
        requester={"name": "李建国", "phone": phone},
        external={"source": "12345", "reference": ref},
    )


async def subscribe(c, url: str, **over) -> dict:  # type: ignore[no-untyped-def]
    r = await c.post("/v1/webhooks/subscriptions", json={"url": url, **over})
    assert r.status_code == 201, r.text
    return r.json()


async def arrived(rec, path: str, n: int, timeout: float = 10.0) -> list:  # type: ignore[no-untyped-def]
    async def enough():  # type: ignore[no-untyped-def]
        got = rec.at(path)
        return got if len(got) >= n else None

    return await wait_for(enough, timeout=timeout, what=f"{n} requests at {path}")


def verified(req, secret: str) -> dict:  # type: ignore[no-untyped-def]
    assert signing.verify(secret, req.headers["x-lawline-signature"], req.body, now=int(time.time()))
    assert not signing.verify(
        secret, req.headers["x-lawline-signature"], req.body + b" ", now=int(time.time())
    )
    body = json.loads(req.body)
    assert req.headers["x-lawline-event-id"] in (body.get("id"), body.get("event_id"))
    return body


async def fold_assigned(svc, order_id: str, point: str) -> None:  # type: ignore[no-untyped-def]
    """dispatch.assigned through intake's own consumer handler (the fold), in one transaction."""
    payload = dispatch_events.AssignedV1(
        assignment_id=str(uuid.uuid4()),
        work_order_id=order_id,
        county_code="140403",
        region_code="140403",
        service_type="mediation",
        staff_id=str(uuid.uuid4()),
        staff_name="张某",
        service_point_id=str(uuid.uuid4()),
        service_point_name=point,
        requester_name="李某",
        description="…",
        accepted_at=datetime.now(UTC),
    )
    event = make_event(
        dispatch_events.ASSIGNED, source=dispatch_events.SOURCE, payload=payload, subject=order_id
    )
    handle = build_handlers(svc.rt).get(event.type)
    async with svc.rt.sessionmaker() as session, session.begin():
        await handle(session, event)
    async with svc.rt.sessionmaker() as session, session.begin():  # the same event again (a replayed
        await record.on_event(session, event)  # fold, a redelivery): still one delivery per subscription


async def test_every_stage_reaches_the_system_signed_in_both_formats(env):
    svc, rec = env
    key = external_system(svc)
    async with svc.client(headers=key) as c:
        ours = await subscribe(c, rec.url + "/lawline")
        feedback = await subscribe(c, rec.url + "/12345", format="12345", events=["closed", "rated"])
        assert ours["secret"].startswith("whsec_") and ours["enabled"] is True
        listed = (await c.get("/v1/webhooks/subscriptions")).json()
        assert {s["id"] for s in listed} == {ours["id"], feedback["id"]}
        assert all("secret" not in s for s in listed)  # shown once
        r = await c.post("/v1/work-orders", json=external_order("12345-2026-1124-00077"))
        assert r.status_code == 201, r.text
        o = r.json()
    # Another system's order is not ours to hear about.
    async with svc.client(headers=external_system(svc, "法院")) as c:
        assert (await c.post("/v1/work-orders", json=external_order("court-1"))).status_code == 201

    accepted = verified((await arrived(rec, "/lawline", 1))[0], ours["secret"])
    assert accepted["type"] == "accepted" and accepted["order"]["number"] == o["number"]
    assert accepted["order"]["external_reference"] == "12345-2026-1124-00077"
    assert "李建国" not in json.dumps(accepted, ensure_ascii=False)  # no personal data

    await fold_assigned(svc, o["id"], "潞州区东街街道人民调解委员会")
    assigned = verified((await arrived(rec, "/lawline", 2))[1], ours["secret"])
    assert assigned["type"] == "assigned"
    assert assigned["detail"]["handler_unit"] == "潞州区东街街道人民调解委员会"
    assert assigned["order"]["agency_responsible"] == "潞州区东街街道人民调解委员会"

    async with svc.client(headers=OP) as c:
        task = (await c.get(f"/v1/work-orders/{o['id']}")).json()["tasks"][0]
        r = await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached", "note": "已告知"})
        assert r.status_code == 200, r.text
        r = await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "双方达成调解协议"})
        assert r.status_code == 200, r.text
        assert (await c.post(f"/v1/work-orders/{o['id']}/rating", json={"score": 3})).status_code == 200

    bodies = [verified(r, ours["secret"]) for r in await arrived(rec, "/lawline", 5)]
    assert [b["type"] for b in bodies] == ["accepted", "assigned", "answered", "closed", "rated"]
    assert bodies[3]["detail"]["result"] == "双方达成调解协议" and bodies[3]["order"]["status"] == "closed"
    assert bodies[4]["detail"]["satisfaction"] == "基本满意"
    closed, rated = [verified(r, feedback["secret"]) for r in await arrived(rec, "/12345", 2)]
    assert closed["ticket_no"] == "12345-2026-1124-00077" and closed["stage_name"] == "办结"
    assert closed["handler_unit"] == "潞州区东街街道人民调解委员会" and closed["finished_at"]
    assert closed["result"] == "双方达成调解协议"
    assert rated["satisfaction"] == "基本满意" and rated["score"] == 3
    async with svc.rt.sessionmaker() as session:  # the assigned event seen twice: one delivery each
        n = await session.scalar(select(func.count()).where(Delivery.kind == "assigned"))
    assert n == 1

    # Open311: the system reads the same status by the request id.
    got = (await svc.client().get(f"/open311/v2/requests/{o['number']}.json")).json()[0]
    assert got["status"] == "closed" and got["status_notes"] == "已办结"
    assert got["agency_responsible"] == "潞州区东街街道人民调解委员会" and got["updated_datetime"]


async def test_a_request_merged_into_an_open_order_follows_it(env):
    """并单: 12345 forwards a repeat call as a new ticket; intake merges it into the open order
    a court filed. Each system hears the order under its own number and ticket."""
    svc, rec = env
    court, hotline = external_system(svc, "法院"), external_system(svc, "12345 热线")
    body = external_order("merge-a")
    async with svc.client(headers=court) as c:
        await subscribe(c, rec.url + "/court", events=["accepted", "closed"])
        a = (await c.post("/v1/work-orders", json=body)).json()
    async with svc.client(headers=hotline) as c:
        await subscribe(c, rec.url + "/hotline", format="12345", events=["accepted", "closed"])
        again = {**body, "external": {"source": "12345", "reference": "12345-2026-1124-00099"}}
        b = (await c.post("/v1/work-orders", json=again)).json()
    assert b["status"] == "merged" and b["duplicate_of"] == a["id"], b
    async with svc.client(headers=OP) as staff:
        r = await staff.post(f"/v1/work-orders/{a['id']}/cancel", json={"reason": "当事人已自行和解"})
        assert r.status_code == 200, r.text
    court_got = [json.loads(r.body) for r in await arrived(rec, "/court", 2)]
    assert [(x["type"], x["order"]["number"]) for x in court_got] == [
        ("accepted", a["number"]),
        ("closed", a["number"]),
    ]
    accepted, closed = [json.loads(r.body) for r in await arrived(rec, "/hotline", 2)]
    assert accepted["stage"] == "accepted" and accepted["ticket_no"] == "12345-2026-1124-00099"
    assert accepted["lawline_number"] == b["number"] and accepted["merged_into_number"] == a["number"]
    assert closed["stage"] == "closed" and closed["ticket_no"] == "12345-2026-1124-00099"
    assert "和解" in closed["result"] and closed["status_name"] == "已撤销"


async def test_retries_with_backoff_every_attempt_logged_then_replay(env):
    svc, rec = env
    async with svc.client(headers=external_system(svc, "公安局")) as c:
        sub = await subscribe(c, rec.url + "/retry", events=["accepted"])
        rec.fail_next = 2
        o = (await c.post("/v1/work-orders", json=external_order("police-77"))).json()
        assert o["status"] == "received", o
        await arrived(rec, "/retry", 3)

        async def delivered():  # type: ignore[no-untyped-def]
            rows = (await c.get(f"/v1/webhooks/subscriptions/{sub['id']}/deliveries")).json()
            return rows if rows and rows[0]["status"] == "delivered" else None

        [d] = await wait_for(delivered, interval=0.3, what="delivered after two failures")
        log = d["attempt_log"]
        assert [a["status_code"] for a in log] == [500, 500, 204] and d["attempts"] == 3
        assert log[0]["error"] == "HTTP 500" and log[2]["next_attempt_at"] is None
        assert all(a["latency_ms"] >= 0 for a in log)
        at = [datetime.fromisoformat(a["at"]) for a in log]
        assert (at[1] - at[0]).total_seconds() >= 0.2 and (at[2] - at[1]).total_seconds() >= 0.4  # ×2
        ids = {r.headers["x-lawline-event-id"] for r in rec.at("/retry")}
        assert len(ids) == 1 and [r.headers["x-lawline-attempt"] for r in rec.at("/retry")] == ["1", "2", "3"]

        r = await c.post(f"/v1/webhooks/deliveries/{d['id']}/redeliver")
        assert r.status_code == 202 and r.json()["status"] == "pending"
        await arrived(rec, "/retry", 4)
        assert rec.at("/retry")[3].body == rec.at("/retry")[0].body  # the same bytes, same event id
        r = await c.post(
            f"/v1/webhooks/subscriptions/{sub['id']}/replay", json={"since": "2026-01-01T00:00:00+08:00"}
        )
        assert r.status_code == 202 and r.json() == {"queued": 1}
        await arrived(rec, "/retry", 5)
        # Rotation: both secrets sign during the grace period.
        rotated = (await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/rotate-secret")).json()
        await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/replay", json={"since": "2026-01-01T00:00:00Z"})
        last = (await arrived(rec, "/retry", 6))[5]
        verified(last, rotated["secret"])
        verified(last, sub["secret"])  # the old one still signs in its grace period
    assert o["number"]


async def test_persistent_failure_disables_with_an_alert(env, caplog):
    svc, rec = env
    caplog.set_level(logging.ERROR, logger="services.intake.webhooks.sender")
    async with svc.client(headers=external_system(svc, "中级人民法院")) as c:
        sub = await subscribe(c, rec.url + "/dead", events=["accepted"])
        assert (await c.post("/v1/work-orders", json=external_order("court-dead-1"))).status_code == 201

        async def disabled():  # type: ignore[no-untyped-def]
            async with svc.rt.sessionmaker() as session:  # the database, not the rate-limited API
                return await session.scalar(
                    select(Subscription.disabled_at).where(Subscription.id == uuid.UUID(sub["id"]))
                )

        await wait_for(disabled, timeout=15, interval=0.2, what="subscription disabled")
        got = (await c.get(f"/v1/webhooks/subscriptions/{sub['id']}")).json()
        assert got["enabled"] is False
        assert got["disabled_at"] and "disabled" in got["disabled_reason"] and got["failing_since"]
        assert got["deliveries"] == {"failed": 1}
        tries = len(rec.at("/dead"))
        assert tries >= 3  # retried with backoff until its (shortened) 24 h ran out
        assert any("disabled" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
        metrics = (await svc.client().get("/metrics")).text
        line = next(
            x for x in metrics.splitlines() if x.startswith("lawline_webhook_subscriptions_disabled_total")
        )
        assert float(line.split()[-1]) >= 1
        # Nothing more is sent while disabled; re-enabled, its owner replays what it missed.
        await asyncio.sleep(0.3)
        assert len(rec.at("/dead")) == tries
        r = await c.patch(
            f"/v1/webhooks/subscriptions/{sub['id']}", json={"enabled": True, "url": rec.url + "/alive"}
        )
        assert r.status_code == 200 and r.json()["enabled"] and r.json()["disabled_reason"] is None
        await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/replay", json={"since": "2026-01-01T00:00:00Z"})
        await arrived(rec, "/alive", 1)


async def test_errors_are_bilingual_and_name_the_field(env):
    svc, rec = env
    async with svc.client(headers=external_system(svc, "某系统")) as c:
        for body, field in (
            ({"url": "ftp://example.com/hook"}, "url"),
            ({"url": "http://user:pw@example.com/hook"}, "url"),
            ({"url": rec.url, "events": []}, "events"),
            ({"url": rec.url, "events": ["exploded"]}, "events"),
            ({"url": rec.url, "format": "xml"}, "format"),
        ):
            r = await c.post("/v1/webhooks/subscriptions", json=body)
            assert r.status_code == 422, (body, r.text)
            err = r.json()["errors"][0]
            assert err["field"].startswith(field) and err["message"] and err["message_en"], err
            assert err["message"] != err["message_en"]
        restore = _env({**FAST, "ALLOW_PRIVATE_TARGETS": "false"})  # as in production
        try:
            for url in (rec.url + "/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/"):
                r = await c.post("/v1/webhooks/subscriptions", json={"url": url})
                assert r.status_code == 422, r.text
                err = r.json()["errors"][0]
                assert err["field"] == "url" and "内网" in err["message"] and "private" in err["message_en"]
        finally:
            restore()
        mine = await subscribe(c, rec.url + "/x")
        bad = await c.post(
            f"/v1/webhooks/subscriptions/{mine['id']}/replay", json={"since": "2026-01-01T00:00:00"}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    async with svc.client(headers=external_system(svc, "另一系统")) as other:
        r = await other.get(f"/v1/webhooks/subscriptions/{mine['id']}")
        assert r.status_code == 404 and r.json()["detail"] and r.json()["detail_en"]
    async with svc.client(headers=OP) as staff:  # not an external system
        assert (await staff.post("/v1/webhooks/subscriptions", json={"url": rec.url})).status_code == 403


async def test_a_crash_between_write_and_send_loses_nothing_and_two_senders_send_once(infra):
    restore = _env({**FAST, "SENDER_ENABLED": "false"})
    try:
        async with receiver() as rec:
            async with intake_without_broker(infra, clock()) as svc:
                url = svc.rt.db_url
                async with svc.client(headers=external_system(svc)) as c:
                    await subscribe(c, rec.url + "/later", events=["accepted", "closed"])
                    orders = []
                    for i in range(8):
                        r = await c.post("/v1/work-orders", json=external_order(f"crash-{i}"))
                        assert r.status_code == 201
                        orders.append(r.json())
                async with svc.client(headers=OP) as staff:  # filed in error: 撤销 (a closed event)
                    r = await staff.post(
                        f"/v1/work-orders/{orders[0]['id']}/cancel", json={"reason": "登记有误"}
                    )
                    assert r.status_code == 200, r.text
            # intake is gone before any send: the deliveries were committed with the orders.
            assert rec.requests == []
            engine = create_async_engine(url)
            try:
                maker = async_sessionmaker(engine, expire_on_commit=False)
                settings = WebhookSettings(batch=3, backoff_jitter=0)
                async with maker() as session, session.begin():  # what a pick takes now (undone)
                    now = datetime.now(UTC)
                    params = {"now": now, "batch": 50, "lease_until": now}
                    picked = (await session.execute(CLAIM, params)).all()
                    await session.rollback()
                assert sorted(r.kind for r in picked) == ["accepted"] * 8  # closed waits for accepted
                a, b = Sender(maker, settings), Sender(maker, settings)
                while sum(await asyncio.gather(a.run_once(), b.run_once())):
                    pass
                async with maker() as session:
                    states = (await session.execute(select(Delivery.status, Delivery.attempts))).all()
                # Finished deliveries go after the retention (attempts with them); none is due yet.
                assert await purge(maker, WebhookSettings(retention_days=1)) == 0
                assert await purge(maker, WebhookSettings(retention_days=0)) == 9
            finally:
                await engine.dispose()
            assert len(states) == 9 and all(s == ("delivered", 1) for s in states)
            ids = [r.headers["x-lawline-event-id"] for r in rec.at("/later")]
            assert len(ids) == 9 and len(set(ids)) == 9  # each once, none twice
            first = [
                json.loads(r.body)["type"] for r in rec.at("/later") if orders[0]["number"] in r.body.decode()
            ]
            assert first == ["accepted", "closed"]  # one order's events in the order they happened
            cancelled = json.loads(next(r.body for r in rec.at("/later") if b'"closed"' in r.body))
            assert (
                cancelled["detail"]["closed_as"] == "cancelled"
                and "登记有误" in cancelled["detail"]["result"]
            )
            assert a.stats.delivered and b.stats.delivered  # both replicas took a share
    finally:
        restore()
