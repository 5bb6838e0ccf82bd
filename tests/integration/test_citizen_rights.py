"""A citizen's copy and deletion at intake (PIPL Art 45, 47) on the real database: the export holds
everything, unmasked, and is audited without the personal data; erasure anonymises the finished
orders and keeps, with the reason and the statute, an open order and one whose legal-aid case
file is still within its keeping period (PIPL Art 47 para 2); nothing erasable is a 409; only a
supervisor (or admin) of the jurisdiction may do either."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from libs.common.testing.auth import auth
from services.intake.models import TimelineEntry, WorkOrder
from services.intake.retention import ANONYMISED_NAME
from tests.integration.intake_helpers import T0, clock, intake_without_broker, make_id, order

OP = auth("operator", region="1404")
SUP = auth("supervisor", region="140429")
PHONE = "13900005101"
ID = make_id(seq="051")
# Different matters: the same matter filed again within 72 h would be an urge (并单), not an order.
MATTERS = iter(
    [
        "老板拖欠我三个月工资一万八，想申请法律援助。",
        "邻居装修把我家墙面震裂了，想找人调解赔偿。",
        "离婚后孩子抚养费对方一直不给，怎么起诉？",
        "房东不退押金五千元，合同到期已经搬走。",
        "网购手机是翻新机，商家拒绝退货。",
        "交通事故对方保险公司拖着不赔医药费。",
    ]
)


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc


async def _file(c, *, phone: str = PHONE, id_number: str = ID, region: str = "140429003") -> str:  # type: ignore[no-untyped-def]
    body = order(
        requester={"name": "赵桂兰", "phone": phone, "id_number": id_number},
        region_code=region,
        description=next(MATTERS),
    )
    r = await c.post("/v1/work-orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _case_step(sm, order_id: str, event_type: str, *, days_ago: float) -> None:  # type: ignore[no-untyped-def]
    async with sm() as s, s.begin():
        s.add(
            TimelineEntry(
                work_order_id=uuid.UUID(order_id),
                at=T0 - timedelta(days=days_ago),
                kind="case_step",
                text="案件进展",
                public=True,
                source_event_id=uuid.uuid4().hex,
                data={"event_type": event_type},
            )
        )


async def test_export_then_erasure_where_the_law_allows(env):
    svc = env
    sm = svc.rt.sessionmaker
    async with svc.client(headers=OP) as c:
        finished, still_open, aid_kept, mediation_old = [await _file(c) for _ in range(4)]
        other_person = await _file(c, phone="13900005102", id_number=make_id(seq="052"))
        elsewhere = await _file(c, region="140430003")  # 沁县: outside the supervisor's county
    async with sm() as s, s.begin():
        await s.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_([finished, aid_kept, mediation_old, other_person, elsewhere]))
            .values(status="closed", closed_at=T0 - timedelta(days=30))
        )
    await _case_step(sm, aid_kept, "cn.lawline.aid.granted.v2", days_ago=400)  # kept 10 years
    await _case_step(sm, mediation_old, "cn.lawline.mediation.case_opened.v1", days_ago=11 * 365)

    async with svc.client(headers=SUP) as c:
        r = await c.post(
            "/v1/data-subjects/export", json={"id_number": ID, "reason": "本人到窗口申请，已核验身份证"}
        )
        assert r.status_code == 200, r.text
        orders = r.json()["orders"]
        assert len(orders) == 4  # the 沁县 order is that county's to answer for
        assert {o["requester"]["id_number"] for o in orders} == {ID}
        assert orders[0]["requester"]["phone"] == PHONE and orders[0]["description"]
        assert any(t["text"] == "案件进展" for o in orders for t in o["timeline"])

        r = await c.post("/v1/data-subjects/erase", json={"phone": PHONE, "reason": "本人书面申请删除"})
        assert r.status_code == 200, r.text
        body = r.json()
        numbers = await _numbers(sm)
        assert sorted(body["erased"]) == sorted([numbers[finished], numbers[mediation_old]])
        kept = {k["number"]: k for k in body["kept"]}
        assert kept[numbers[still_open]]["code"] == "order_open"
        assert "第四十七条" in kept[numbers[still_open]]["statute"]
        aid = kept[numbers[aid_kept]]
        assert (
            aid["code"] == "case_file_kept"
            and "法律援助" in aid["reason"]
            and "Art 47 para 2" in aid["statute"]
        )
        assert aid["kept_until"].startswith(str((T0 - timedelta(days=400)).year + 10))

        # An anonymised order still opens (the statistics and the timeline stay), without the person.
        shown = (await c.get(f"/v1/work-orders/{finished}")).json()
        assert shown["requester_name"] == ANONYMISED_NAME and shown["requester_phone_masked"] == ""
        assert shown["status"] == "closed" and shown["service_type"] == "legal_aid"

        # Nothing left that may go: a 409 naming each order's reason, in both languages.
        again = await c.post("/v1/data-subjects/erase", json={"phone": PHONE, "reason": "本人再次申请"})
        assert again.status_code == 409 and again.headers["content-type"].startswith(
            "application/problem+json"
        )
        problem = again.json()
        assert "依法须保留" in problem["detail"] and "kept by law" in problem["detail_en"]
        assert {k["code"] for k in problem["kept"]} == {"order_open", "case_file_kept"}

        assert (await c.post("/v1/data-subjects/erase", json={"reason": "没有号码"})).status_code == 422
        nobody = await c.post("/v1/data-subjects/export", json={"phone": "13900005199", "reason": "核验身份"})
        assert nobody.status_code == 404

    async with svc.client(headers=OP) as c:  # the front desk takes the request, does not carry it out
        r = await c.post("/v1/data-subjects/erase", json={"phone": PHONE, "reason": "本人书面申请删除"})
        assert r.status_code == 403

    async with sm() as s:
        rows = {str(o.id): o for o in (await s.scalars(select(WorkOrder))).all()}
        audit = (
            await s.execute(
                text("SELECT action, detail::text AS d FROM audit_log WHERE action LIKE 'pii.e%'")
            )
        ).all()
    assert rows[finished].requester_name == ANONYMISED_NAME and rows[finished].requester_id_bidx is None
    assert rows[mediation_old].requester_phone == ""
    for untouched in (still_open, aid_kept, other_person, elsewhere):
        assert rows[untouched].requester_phone.startswith("139")
    assert [a.action for a in audit] == ["pii.exported", "pii.erased", "pii.erased"]
    assert all(PHONE not in a.d and ID not in a.d for a in audit)  # who, not what


async def _numbers(sm) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with sm() as s:
        return {str(r.id): r.number for r in (await s.execute(select(WorkOrder.id, WorkOrder.number))).all()}
