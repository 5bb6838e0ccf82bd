"""Channels normalised into one work order, classification stored with its evidence, resident
IDs encrypted, and field-level errors for bad input of every field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from libs.common.crypto import get_cipher
from libs.common.testing.auth import auth
from services.intake.models import WorkOrder, outbox
from tests.integration.intake_helpers import clock, intake_without_broker, make_id, order

OP = auth("operator", region="1404")


@pytest.fixture(scope="module")
async def intake(infra):
    async with intake_without_broker(infra, clock()) as svc:
        yield svc


async def events(svc, order_id) -> list[str]:
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.event).where(outbox.c.key.isnot(None)))).scalars().all()
    return [e["type"] for e in rows if e.get("subject") == str(order_id)]


async def test_hotline_order_keeps_call_details_and_classifies_missing_type(intake):
    body = order(
        channel="hotline",
        service_type=None,
        requester={"name": "王秀英", "phone": "+86 138 3456 7890", "id_number": make_id()},
        hotline={
            "call_id": "CALL-1",
            "caller_number": "0355-2021234",
            "operator_id": "op-017",
            "call_started_at": "2026-11-24T09:30:00+08:00",
            "call_ended_at": "2026-11-24T09:36:00+08:00",
        },
    )
    async with intake.client(headers=OP) as c:
        r = await c.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["service_type"] == "legal_aid" and created["domain"] == "labor"
        got = (await c.get(f"/v1/work-orders/{created['id']}")).json()
    assert got["channel_details"]["hotline"]["call_id"] == "CALL-1"
    assert got["channel_details"]["hotline"]["caller_number"] == "0355-2021234"
    assert got["channel_details"]["region_path"] == {
        "village": None,
        "township": "140429003",
        "county": "140429",
    }
    assert got["classification"]["by"] == "auto" and got["classification"]["evidence"]["service_type"]
    assert "migrant_worker" in got["special_groups"] and "elderly" in got["special_groups"]  # born 1965 → 61
    assert got["requester_id_masked"].startswith("1404") and "*" in got["requester_id_masked"]
    assert [t["kind"] for t in got["tasks"]] == ["callback"]
    async with intake.rt.sessionmaker() as s:
        row = await s.get(WorkOrder, created["id"])
    assert make_id() not in row.requester_id_enc  # ciphertext at rest
    assert get_cipher().decrypt(row.requester_id_enc) == make_id()
    assert row.requester_id_bidx == get_cipher().blind_index(make_id())
    types = await events(intake, created["id"])
    assert "cn.lawline.workorder.created.v1" in types and "cn.lawline.workorder.classified.v2" in types


async def test_answered_on_call_is_closed_at_once_and_not_dispatched(intake):
    body = order(
        channel="hotline",
        service_type="consultation",
        requester={"name": "赵敏", "phone": "13900001111"},
        description="想了解遗嘱怎么写才有效？",
        hotline={
            "call_id": "CALL-2",
            "operator_id": "op-1",
            "call_started_at": "2026-11-24T09:30:00+08:00",
            "answered_on_call": True,
            "answer_summary": "告知自书遗嘱须亲笔书写、签名并注明年月日（民法典 1134 条）。",
        },
    )
    async with intake.client(headers=OP) as c:
        r = await c.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        got = (await c.get(f"/v1/work-orders/{r.json()['id']}")).json()
        listed = (await c.get("/v1/work-orders", params={"status": "closed", "channel": "hotline"})).json()
    assert got["status"] == "closed" and got["answer_summary"].startswith("告知") and got["tasks"] == []
    assert got["id"] in [i["id"] for i in listed["items"]]  # still counted
    types = await events(intake, got["id"])
    assert "cn.lawline.workorder.created.v1" not in types  # never dispatched
    assert {"cn.lawline.workorder.answered_on_call.v1", "cn.lawline.workorder.closed.v1"} <= set(types)


async def test_counter_and_external_channels_and_external_idempotency(intake):
    async with intake.client(headers=OP) as c:
        r = await c.post(
            "/v1/work-orders",
            json=order(
                channel="counter",
                counter={"service_point_id": "sp-140429-county", "staff_id": "s-1"},
                requester={"name": "李四", "phone": "13900002222"},
            ),
        )
        assert r.status_code == 201 and r.json()["status"] == "received"
        ext = order(
            channel="external",
            service_type=None,
            requester={"name": "李建国", "phone": "0355-2021234"},
            region_code="140403",
            description="邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
            external={"source": "12345", "reference": "12345-0077"},
        )
        first = await c.post("/v1/work-orders", json=ext)
        again = await c.post("/v1/work-orders", json=ext)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
        assert first.json()["service_type"] == "mediation" and first.json()["domain"] == "neighbor"
        other = await c.post(
            "/v1/work-orders", json=dict(ext, external={"source": "court", "reference": "12345-0077"})
        )
        assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_old_body_without_new_fields_still_works(intake):
    async with intake.client(headers=OP) as c:
        r = await c.post("/v1/work-orders", json=order(requester={"name": "周", "phone": "13700003333"}))
    assert r.status_code == 201 and r.json()["number"].startswith("LW20261124")


BAD = [
    ({"channel": "fax"}, "channel"),
    ({"requester": {"name": " ", "phone": "13834567890"}}, "requester.name"),
    ({"requester": {"name": "王", "phone": "12345"}}, "requester.phone"),
    ({"requester": {"name": "王", "phone": "0355-12"}}, "requester.phone"),
    (
        {"requester": {"name": "王", "phone": "13834567890", "id_number": "14043019650215002"}},
        "requester.id_number",
    ),
    (
        {"requester": {"name": "王", "phone": "13834567890", "id_number": "140430196502150029"}},
        "requester.id_number",
    ),
    (
        {"requester": {"name": "王", "phone": "13834567890", "id_number": "140430196502300020"}},
        "requester.id_number",
    ),
    (
        {"requester": {"name": "王", "phone": "13834567890", "id_number": "990430196502150020"}},
        "requester.id_number",
    ),
    ({"region_code": "140499"}, "region_code"),
    ({"region_code": "140400"}, "region_code"),
    ({"service_type": "divorce"}, "service_type"),
    ({"domain": "tax"}, "domain"),
    ({"special_groups": ["rich"]}, "special_groups"),
    ({"urgency": "asap"}, "urgency"),
    ({"description": " "}, "description"),
    ({"parent_id": "not-a-uuid"}, "parent_id"),
    ({"hotline": {"call_id": "c"}, "channel": "hotline"}, "hotline.operator_id"),
    ({"counter": {"service_point_id": "x", "staff_id": "y"}}, "counter"),
    ({"external": {"source": "mars", "reference": "1"}, "channel": "external"}, "external.source"),
    ({"web": {"portal": "fax"}}, "web.portal"),
    ({"surprise": 1}, "surprise"),
    (
        {
            "channel": "hotline",
            "hotline": {
                "call_id": "c",
                "operator_id": "o",
                "call_started_at": "2026-11-24T10:00:00+08:00",
                "call_ended_at": "2026-11-24T09:00:00+08:00",
            },
        },
        "hotline.call_ended_at",
    ),
    (
        {
            "channel": "hotline",
            "hotline": {
                "call_id": "c",
                "operator_id": "o",
                "call_started_at": "2026-11-24T10:00:00+08:00",
                "answered_on_call": True,
            },
        },
        "hotline.answer_summary",
    ),
    ({"parent_id": "6f1c0a8e-6a55-4f3e-9b8e-0d6f0f9f2a11"}, "parent_id"),
]


async def test_bad_input_of_every_field_gets_422_naming_it(intake):
    async with intake.client(headers=OP) as c:
        for over, field in BAD:
            r = await c.post("/v1/work-orders", json=order(**over))
            assert r.status_code == 422, (over, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            errors = r.json()["errors"]
            assert field in [e["field"] for e in errors], (over, errors)
            assert all(e["message"] and e["message_en"] for e in errors)


async def test_staff_correction_emits_updated_with_masked_values(intake):
    async with intake.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "更正", "phone": "13900005555"}))
        ).json()
        r = await c.patch(
            f"/v1/work-orders/{o['id']}",
            json={"requester_phone": "0355-2029999", "region_code": "140429001", "reason": "来电人更正"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["requester_phone_masked"] == "0355-***9999" and r.json()["region_code"] == "140429001"
        far = await c.patch(f"/v1/work-orders/{o['id']}", json={"region_code": "140403", "reason": "搬家"})
        assert far.status_code == 422 and far.json()["errors"][0]["field"] == "region_code"
        bad = await c.patch(f"/v1/work-orders/{o['id']}", json={"requester_phone": "1", "reason": "xx"})
        assert bad.json()["errors"][0]["field"] == "requester_phone"
    async with intake.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.event))).scalars().all()
    (upd,) = [e for e in rows if e["type"] == "cn.lawline.workorder.updated.v1" and e["subject"] == o["id"]]
    assert upd["data"]["changed"]["requester_phone"] == "0355-***9999"
