"""Conflict of interest across services: intake sends the opposing parties of a new order to
dispatch as blind indexes only, and the aid officer who handled the opposing party's own order is
never offered it (律师执业行为规范: no acting for both sides of one matter)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import Infra, consumers_ready, services, wait_for
from services.intake.models import outbox
from tests.integration.intake_helpers import make_id

# 沁源县 (140431), on a broker of its own.
REGION = "140431001"
A_ID = make_id(region="140431", born="19700101", seq="015")


def order(name: str, phone: str, **over) -> dict:  # type: ignore[no-untyped-def]
    return {
        "channel": "counter",
        "requester": {"name": name, "phone": phone},
        "region_code": REGION,
        "service_type": "legal_aid",
        "description": "对方拖欠货款三万元不还，想申请法律援助。",
        **over,
    }


@pytest.fixture
def own_broker(infra):  # type: ignore[no-untyped-def]
    """A broker of this test's own: dispatch announces 1,086 staff availabilities when it starts,
    and on the shared broker later tests' consumers would have to read through them all."""
    port = free_port()
    broker = EmbeddedBroker(port, log_path=infra.tmp / f"glue-{port}.log").start()
    try:
        yield Infra(infra.server_url, broker.bootstrap)
    finally:
        broker.stop()


async def test_handler_of_the_opposing_party_is_never_offered_the_order(own_broker):
    async with services(own_broker, "intake", "dispatch") as svc:
        await consumers_ready(*svc.values())
        intake_c = svc["intake"].client(headers=auth("operator", region="140431"))
        dispatch_c = svc["dispatch"].client(headers=auth("supervisor", region="140431"))
        async with intake_c as intake, dispatch_c as dispatch:

            async def offer_of(order_id: str):  # type: ignore[no-untyped-def]
                async def offered():  # type: ignore[no-untyped-def]
                    rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
                    return rows[0] if rows else None

                return await wait_for(offered, timeout=20, what="the offer")

            # Order A: 钱某甲 asks for help; S takes it (S now acts for 钱某甲).
            a = (
                await intake.post(
                    "/v1/work-orders",
                    json=order(
                        "钱某甲",
                        "13834561501",
                        requester={"name": "钱某甲", "phone": "13834561501", "id_number": A_ID},
                    ),
                )
            ).json()
            offer_a = await offer_of(a["id"])
            s = offer_a["staff_id"]
            r = await dispatch.post(
                f"/v1/assignments/{offer_a['id']}/accept",
                headers=auth("aid_officer", region="140431", staff_id=s),
            )
            assert r.status_code == 200, r.text

            # Order B: someone else's matter against 钱某甲 (named differently; the ID number matches).
            b = (
                await intake.post(
                    "/v1/work-orders",
                    json=order("孙某乙", "13834561502", parties=[{"name": "钱某", "id_number": A_ID}]),
                )
            ).json()
            # Control C: an unrelated opposing party.
            c = (
                await intake.post(
                    "/v1/work-orders", json=order("李某丙", "13834561503", parties=[{"name": "周某丁"}])
                )
            ).json()
            offer_b = await offer_of(b["id"])
            await offer_of(c["id"])  # C was routed too
            assert offer_b["staff_id"] != s
            decision_b = (await dispatch.get(f"/v1/work-orders/{b['id']}/decision")).json()
            passed_b = {x["staff_id"]: x["passed_over"] or "" for x in decision_b["candidates"]}
            assert "利益冲突" in passed_b[s]
            decision_c = (await dispatch.get(f"/v1/work-orders/{c['id']}/decision")).json()
            passed_c = {x["staff_id"]: x["passed_over"] or "" for x in decision_c["candidates"]}
            assert "利益冲突" not in passed_c.get(s, "")

        # The event carried keyed hashes only: no opposing party's name or ID number.
        async with svc["intake"].rt.sessionmaker() as session:
            events = (
                (await session.execute(select(outbox.c.event).where(outbox.c.key == "140431")))
                .scalars()
                .all()
            )
        created_b = next(
            e for e in events if e["data"]["work_order_id"] == b["id"] and e["type"].endswith("created.v1")
        )
        parties = created_b["data"]["parties"]
        # The requester as their phone's index (dispatch indexes the name itself), the other side
        # as name and ID indexes.
        assert [p["side"] for p in parties] == ["requester", "counterparty"]
        assert parties[0]["phone_index"] and not parties[0]["name_index"] and not parties[0]["id_index"]
        assert parties[1]["id_index"] and parties[1]["name_index"] and not parties[1]["phone_index"]
        assert (
            A_ID not in str(created_b)
            and "钱某" not in str(created_b)
            and "13834561502" not in str(created_b)
        )
