"""Mediation risk reaches a person (issue #15 item 6; 人民调解法 Art 25): a risk report lands in the
police-liaison queue, a supervisor acknowledges it (who, when, which unit, what was done), and the
configured webhook — a real HTTP server started here — receives it exactly once although it
refused the first attempt. Real PostgreSQL and broker; the retry waits on the injected clock."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.events import mediation as ev
from libs.common.testing.auth import auth
from libs.common.testing.infra import serve, wait_for
from services.mediation.main import create_app
from services.mediation.models import WebhookDelivery, outbox
from services.mediation.settings import MediationSettings
from tests.integration.console_helpers import console_for
from tests.unit.test_console_app import csrf_of, dev_login

NOW = datetime(2026, 11, 24, 21, 40, tzinfo=CHINA_TZ)  # a Tuesday night
SECRET = "police-webhook-test-secret"
MEDIATOR = auth("mediator", region="140403", staff_id="00000000-0000-4000-8000-0000000000a1")
SUPERVISOR = auth("supervisor", region="140403", staff_id="00000000-0000-4000-8000-00000000005a")


class Receiver:
    """The police system's endpoint: refuses the first POST (503), takes the rest; remembers all."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, dict]] = []  # (headers, body) of every attempt
        self.accepted: dict[str, dict] = {}  # Idempotency-Key -> body, what it took
        self.app = FastAPI()

        @self.app.post("/risk")
        async def risk(request: Request) -> Response:
            raw = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.posts.append((headers, json.loads(raw)))
            expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            if headers.get("x-lawline-signature") != expected:
                return Response(status_code=401)
            if len(self.posts) == 1:
                return Response("busy", status_code=503)
            key = headers["idempotency-key"]
            self.accepted.setdefault(key, json.loads(raw))
            return Response(status_code=202)


@pytest.fixture
async def stack(infra):
    receiver = Receiver()
    target = await serve("police-receiver", receiver.app)
    clock = FrozenClock(NOW)
    settings = MediationSettings(
        police_webhook_url=f"{target.url}/risk",
        police_webhook_secret=SECRET,
        webhook_retry_seconds=30,
        webhook_every_seconds=0.1,
        sweep_seconds=0,
    )
    url = await infra.fresh_database("mediation")
    app = await serve(
        "mediation", create_app(db_url=url, bootstrap=infra.bootstrap, clock=clock, settings=settings)
    )
    try:
        yield app, receiver, clock
    finally:
        await app.stop()
        await target.stop()


async def new_case(api) -> dict:  # type: ignore[no-untyped-def]
    rows = (await api.get("/v1/committees", params={"region_code": "140403001"})).json()
    body = {
        "committee_id": next(c for c in rows if c["region_code"] == "140403001")["id"],
        "dispute_type": "neighbour",
        "summary": "宅基地边界纠纷，双方多次争吵。",
        "claims": "请求确认边界",
        "parties": [
            {"side": "applicant", "name": "刘长海", "phone": "13800005555"},
            {"side": "respondent", "name": "马成", "phone": "13900006666"},
        ],
    }
    r = await api.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_risk_report_is_queued_acknowledged_and_posted_once(stack):
    app, receiver, clock = stack
    async with app.client(headers=MEDIATOR) as api, app.client(headers=SUPERVISOR) as sup:
        case = await new_case(api)
        r = await api.post(
            f"/v1/cases/{case['id']}/risk",
            json={"risk_kind": "violence", "description": "被申请人扬言持刀报复，电话 13900006666"},
        )
        assert r.status_code == 200, r.text

        # In the queue at once, for the county's supervisor; masked (no phone number).
        (item,) = (await sup.get("/v1/police-liaisons", params={"status": "open"})).json()
        assert item["case_number"] == case["number"] and item["risk_kind"] == "violence"
        assert "13900006666" not in item["description"] and item["allowed_actions"] == ["acknowledge"]
        other = auth("supervisor", region="140430")
        async with app.client(headers=other) as elsewhere:
            assert (await elsewhere.get("/v1/police-liaisons")).json() == []
            r = await elsewhere.post(
                f"/v1/police-liaisons/{item['id']}/acknowledge",
                json={"police_unit": "沁县公安局", "action_taken": "不属本辖区"},
            )
            assert r.status_code == 404

        # The report wakes the delivery loop: the first POST goes at once — and is refused.
        await wait_for(lambda: _n(receiver.posts, 1), timeout=10, what="the first webhook attempt")
        async with app.rt.sessionmaker() as s:
            d = await s.scalar(select(WebhookDelivery))
        assert d.attempts == 1 and d.last_status == 503 and d.delivered_at is None
        assert d.next_attempt_at == NOW + timedelta(seconds=30)  # backoff on the injected clock
        await asyncio.sleep(0.5)
        assert len(receiver.posts) == 1  # not before the retry is due

        clock.advance(seconds=31)
        await wait_for(lambda: _n(receiver.accepted, 1), timeout=10, what="the retried webhook")
        clock.advance(minutes=30)
        await asyncio.sleep(0.5)  # several more rounds of the loop: nothing is sent again
        assert len(receiver.posts) == 2 and len(receiver.accepted) == 1
        (first_h, first_b), (second_h, second_b) = receiver.posts
        assert first_h["idempotency-key"] == second_h["idempotency-key"] == item["id"]
        assert second_h["x-lawline-attempt"] == "2" and first_b == second_b
        body = receiver.accepted[item["id"]]
        assert body["case_number"] == case["number"] and body["risk_kind_zh"] == "可能激化为暴力"
        assert "13900006666" not in json.dumps(body, ensure_ascii=False)

        # A person acknowledges: who, when, which police unit, what was done.
        ack = {
            "police_unit": "潞州区公安分局城东派出所",
            "action_taken": "已电话通报值班民警王警官，民警已出警到场处置",
        }
        r = await sup.post(f"/v1/police-liaisons/{item['id']}/acknowledge", json=ack)
        assert r.status_code == 200, r.text
        done = r.json()
        assert (
            done["status"] == "acknowledged"
            and done["acknowledged_by"] == "00000000-0000-4000-8000-00000000005a"
        )
        assert datetime.fromisoformat(done["acknowledged_at"]) == clock.now()
        assert done["police_unit"] == ack["police_unit"] and done["webhook"] == "delivered"
        assert done["allowed_actions"] == []
        r = await sup.post(f"/v1/police-liaisons/{item['id']}/acknowledge", json=ack)
        assert r.status_code == 409
        assert (await sup.get("/v1/police-liaisons", params={"status": "open"})).json() == []

    async with app.rt.sessionmaker() as s:
        types = [e["type"] for e in (await s.execute(select(outbox.c.event))).scalars()]
    assert ev.RISK_REPORTED in types and ev.RISK_ACKNOWLEDGED in types


async def _n(items, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(items) >= n


async def test_the_console_lists_the_report_in_chinese_and_records_the_acknowledgement(stack):
    app, _receiver, _clock = stack
    async with app.client(headers=MEDIATOR) as api:
        case = await new_case(api)
        r = await api.post(
            f"/v1/cases/{case['id']}/risk",
            json={"risk_kind": "mass_incident", "description": "多户村民聚集欲堵路"},
        )
        assert r.status_code == 200, r.text
    async with console_for(mediation=app.url) as c:
        await dev_login(c, "supervisor", region="140403", staff_id="00000000-0000-4000-8000-00000000005a")
        page = await c.get("/liaison")
        assert page.status_code == 200 and "矛盾激化风险警情通报" in page.text
        assert "可能引发群体性事件" in page.text and case["number"] in page.text and "确认已通报" in page.text
        (liaison_id,) = re.findall(r'hx-post="/liaison/([0-9a-f-]+)/acknowledge"', page.text)
        r = await c.post(
            f"/liaison/{liaison_id}/acknowledge",
            data={
                "police_unit": "潞州区公安分局城东派出所",
                "action_taken": "已通报值班民警，民警已到场疏导",
            },
            headers={"X-CSRF-Token": csrf_of(page.text)},
        )
        assert r.status_code == 200 and "已确认通报" in r.text, r.text
        page = await c.get("/liaison")
        assert "暂无待确认的风险通报" in page.text and "城东派出所" in page.text
        assert "确认已通报" not in page.text  # no action left once acknowledged
