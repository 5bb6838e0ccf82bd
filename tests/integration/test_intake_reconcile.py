"""The end-to-end reconciliation between intake and dispatch (issue #14), on the real PostgreSQL
and the real broker: an order whose `created` never reached dispatch is re-announced by intake's
sweep and routed once; an order dispatch has already routed is confirmed, not routed again; the
figures supervisors see, within their region; several replicas never re-announce an order twice;
the migration's backfill."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select, text, update

from libs.common.auth import Principal
from libs.common.clock import FrozenClock
from libs.common.embedded import create_database, free_port
from libs.common.events import dispatch as dispatch_events
from libs.common.events import intake as intake_events
from libs.common.migrate import upgrade
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.intake import create, reconcile
from services.intake.models import TimelineEntry, WorkOrder, outbox
from services.intake.schemas import WorkOrderCreate
from services.intake.settings import IntakeSettings, get_intake_settings
from tests.integration.intake_helpers import T0, order

OPERATOR = Principal(sub="test-operator", kind="staff", roles=frozenset({"operator"}), region="1404")
SUPERVISOR = auth("supervisor", region="1404")
QINXIAN = "140430003"  # a township of 沁县 (county 140430)
WUXIANG = "140429003"  # a township of 武乡县 (county 140429)


@pytest.fixture(scope="module", autouse=True)
def no_background_sweeps():  # type: ignore[no-untyped-def]
    """Every sweep here is called with its own clock; the loop in the apps must not race them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(get_intake_settings(), "reconcile_interval_seconds", 3600.0)
        yield


def body(phone: str, region: str = QINXIAN, **over) -> dict:  # type: ignore[no-untyped-def]
    return order(region_code=region, requester={"name": "测试人", "phone": phone}, **over)


async def load(svc, order_id) -> WorkOrder:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as s:
        return (await s.scalars(select(WorkOrder).where(WorkOrder.id == uuid.UUID(str(order_id))))).one()


async def timeline(svc, order_id) -> list[TimelineEntry]:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as s:
        rows = await s.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.work_order_id == uuid.UUID(str(order_id)))
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
        return list(rows)


async def outbox_events(svc, event_type: str, order_id) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as s:
        rows = await s.execute(
            select(outbox.c.event).where(
                outbox.c.event["type"].astext == event_type,
                outbox.c.event["subject"].astext == str(order_id),
            )
        )
        return list(rows.scalars())


async def sweep(svc, at) -> list[reconcile.Reemitted]:  # type: ignore[no-untyped-def]
    return await reconcile.sweep_once(svc.rt.sessionmaker, now=at, stats=svc.rt.ext.reconcile)


# ---- with dispatch running --------------------------------------------------------------------
@pytest.fixture(scope="module")
async def stack(infra):
    async with services(infra, "intake", "dispatch", clock=FrozenClock(T0)) as svc:
        await consumers_ready(*svc.values())
        yield svc


async def acknowledged(svc, order_id) -> WorkOrder:  # type: ignore[no-untyped-def]
    async def ack():  # type: ignore[no-untyped-def]
        o = await load(svc, order_id)
        return o if o.routed_at is not None else None

    return await wait_for(ack, timeout=30, what="dispatch's acknowledgement in intake")


async def dispatch_record(stack, order_id) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    async with stack["dispatch"].client(headers=SUPERVISOR) as d:
        decisions = await d.get(f"/v1/work-orders/{order_id}/decisions")
        offers = (await d.get("/v1/assignments", params={"work_order_id": str(order_id)})).json()
    return (decisions.json() if decisions.status_code == 200 else []), offers


async def test_an_order_whose_created_event_was_lost_is_reannounced_and_routed_once(stack):
    intake = stack["intake"]
    # The order is stored, but its workorder.created never leaves intake (deleted before commit).
    async with intake.rt.sessionmaker() as s, s.begin():
        made = await create.create_work_order(
            s, data=WorkOrderCreate(**body("13900140001")), now=T0, who=OPERATOR
        )
        order_id = made.order.id
        gone = await s.execute(
            delete(outbox).where(
                outbox.c.event["type"].astext == intake_events.WORKORDER_CREATED,
                outbox.c.event["subject"].astext == str(order_id),
            )
        )
        assert gone.rowcount == 1
    o = await load(intake, order_id)
    assert o.dispatched and o.announced_at == T0 and o.routed_at is None and o.reemits == 0
    assert o.reconcile_at == T0 + timedelta(minutes=2)

    assert await sweep(intake, T0 + timedelta(seconds=119)) == []  # not yet: dispatch may be busy
    await asyncio.sleep(1.0)
    assert (await dispatch_record(stack, order_id))[0] == []  # dispatch really never heard of it

    done = await sweep(intake, T0 + timedelta(minutes=2, seconds=5))
    assert [(r.id, r.attempt) for r in done] == [(order_id, 1)]
    assert done[0].next_check_at == T0 + timedelta(minutes=2, seconds=5) + timedelta(minutes=2)
    assert intake.rt.ext.reconcile.reemitted >= 1

    o = await acknowledged(intake, order_id)
    assert o.status == "offered" and o.reemits == 1
    decisions, offers = await dispatch_record(stack, order_id)
    assert len(decisions) == 1 and len(offers) == 1 and offers[0]["status"] == "offered"
    # Acknowledged: later sweeps leave it alone, however late.
    assert order_id not in {r.id for r in await sweep(intake, T0 + timedelta(days=1))}

    entries = await timeline(intake, order_id)
    kinds = [(e.kind, e.public) for e in entries]
    assert ("routing_requested", False) in kinds and ("offered", True) in kinds
    async with intake.client() as anon:
        track = (await anon.get(f"/v1/track/{o.number}", params={"phone_suffix": "0001"})).json()
    assert [e["kind"] for e in track["timeline"]] == ["received", "offered"]


async def test_a_routed_order_is_confirmed_not_routed_again(stack):
    intake = stack["intake"]
    async with intake.client(headers=auth("operator", region="1404")) as c:
        created = (await c.post("/v1/work-orders", json=body("13900140002"))).json()
    order_id = created["id"]
    first = await acknowledged(intake, order_id)
    assert first.status == "offered" and first.reemits == 0
    _, offers = await dispatch_record(stack, order_id)
    assert len(offers) == 1

    # As if dispatch's offered had been lost on its way to intake: intake never heard back.
    async with intake.rt.sessionmaker() as s, s.begin():
        await s.execute(
            update(WorkOrder).where(WorkOrder.id == first.id).values(status="received", routed_at=None)
        )
        await s.execute(
            delete(TimelineEntry).where(
                TimelineEntry.work_order_id == first.id, TimelineEntry.kind == "offered"
            )
        )
    done = await sweep(intake, T0 + timedelta(minutes=3))
    assert first.id in {r.id for r in done}

    o = await acknowledged(intake, order_id)
    assert o.status == "offered"  # forward again, from dispatch's word
    decisions, offers_after = await dispatch_record(stack, order_id)
    assert len(decisions) == 1 and [a["id"] for a in offers_after] == [offers[0]["id"]]
    entries = await timeline(intake, order_id)
    confirmed = [e for e in entries if e.kind == "routing_confirmed"]
    assert len(confirmed) == 1 and confirmed[0].public is False
    assert offers[0]["service_point_name"] in confirmed[0].text
    assert confirmed[0].data["event_type"] == dispatch_events.ROUTING_CONFIRMED
    assert offers[0]["service_point_name"] in confirmed[0].data["text_en"]  # its English beside it
    async with intake.client() as anon:
        track = (await anon.get(f"/v1/track/{o.number}", params={"phone_suffix": "0002"})).json()
    assert [e["kind"] for e in track["timeline"]] == ["received"]  # no noise for the citizen


# ---- intake alone: figures, replicas ------------------------------------------------------------
@pytest.fixture(scope="module")
async def alone(infra):
    """Intake whose outbox is never relayed (nothing is ever acknowledged)."""
    from services.intake.main import create_app

    clk = FrozenClock(T0)
    url = await infra.fresh_database("intake")
    svc = await serve(
        "intake", create_app(db_url=url, bootstrap=f"127.0.0.1:{free_port()}", clock=clk), credentials="none"
    )
    try:
        yield svc, clk
    finally:
        await svc.stop()


async def post_orders(svc, n: int, region: str, first_phone: int) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.client(headers=auth("operator", region="1404")) as c:
        out = []
        for i in range(n):
            r = await c.post("/v1/work-orders", json=body(f"1390015{first_phone + i:04d}", region))
            assert r.status_code == 201, r.text
            out.append(r.json())
        return out


async def test_figures_for_supervisors_within_their_region_and_the_console_panel(alone):
    svc, clk = alone
    qin = await post_orders(svc, 2, QINXIAN, 1)
    wu = await post_orders(svc, 1, WUXIANG, 101)
    # Reclassified before the sweep: the re-announcement carries the order as it is now.
    async with svc.client(headers=auth("operator", region="1404")) as c:
        r = await c.put(
            f"/v1/work-orders/{qin[0]['id']}/classification",
            json={"service_type": "mediation", "domain": "neighbor", "reason": "来电人要求调解"},
        )
        assert r.status_code == 200, r.text
    done = await sweep(svc, T0 + timedelta(minutes=3))
    assert {str(r.id) for r in done} == {o["id"] for o in qin + wu}
    (event,) = await outbox_events(svc, intake_events.WORKORDER_ROUTING_REQUESTED, qin[0]["id"])
    payload = intake_events.WorkOrderRoutingRequestedV1.model_validate(event["data"])
    assert payload.service_type == "mediation" and payload.domain == "neighbor" and payload.attempt == 1
    assert payload.number == qin[0]["number"] and payload.county_code == "140430"
    # Backoff: two minutes later the second attempt, for the same three orders.
    assert await sweep(svc, T0 + timedelta(minutes=4)) == []
    assert len(await sweep(svc, T0 + timedelta(minutes=5))) == 3

    clk.advance(minutes=10)
    try:
        url = "/v1/pipeline/reconciliation"
        async with svc.client(headers=auth("supervisor", region="140430")) as c:
            county = (await c.get(url)).json()
        assert county["awaiting_ack"] == 2 and county["oldest_waiting_seconds"] == 600
        assert county["reemitted_total"] == 2 and county["reemits_total"] == 4
        assert county["reemitted_last_24h"] == 2
        assert {r["number"] for r in county["recent"]} == {o["number"] for o in qin}
        assert all(r["attempts"] == 2 and r["acknowledged_at"] is None for r in county["recent"])
        assert county["last_sweep_at"] is not None
        for who in (auth("supervisor", region="1404"), auth("admin", region="")):
            async with svc.client(headers=who) as c:
                city = (await c.get(url)).json()
            assert city["awaiting_ack"] == 3 and city["reemitted_total"] == 3 and city["reemits_total"] == 6
        async with svc.client(headers=auth("supervisor", region="140403")) as c:
            other = (await c.get(url)).json()
        assert (
            other["awaiting_ack"] == 0 and other["oldest_waiting_seconds"] is None and other["recent"] == []
        )
        for role in ("operator", "counter_staff", "lawyer"):
            async with svc.client(headers=auth(role, region="1404")) as c:
                assert (await c.get(url)).status_code == 403

        async with console_for(svc) as page:
            await dev_login(page, "supervisor", "140430")
            html = (await page.get("/supervisor")).text
        assert "待派单确认 2 单（最久 10 分钟）；已自动重发 2 单（近 24 小时）" in html
        assert qin[0]["number"] in html and wu[0]["number"] not in html
    finally:
        clk.advance(minutes=-10)


async def test_replicas_sweeping_at_once_reannounce_each_order_once(alone):
    svc, _ = alone
    made = await post_orders(svc, 12, WUXIANG, 201)
    ids = {uuid.UUID(o["id"]) for o in made}
    small = IntakeSettings(reconcile_batch=5)
    stats = [reconcile.ReconcileStats() for _ in range(3)]
    at = T0 + timedelta(minutes=3)
    seen: list[uuid.UUID] = []
    for _ in range(5):  # three "replicas" at once, until nothing is due
        rounds = await asyncio.gather(
            *(reconcile.sweep_once(svc.rt.sessionmaker, now=at, stats=st, settings=small) for st in stats)
        )
        seen += [r.id for batch in rounds for r in batch if r.id in ids]
    assert sorted(seen) == sorted(ids)  # each exactly once
    for order_id in ids:
        assert len(await outbox_events(svc, intake_events.WORKORDER_ROUTING_REQUESTED, order_id)) == 1


async def test_an_order_announced_only_at_unmerge_is_awaited_from_then(alone):
    svc, clk = alone
    phone = "13900160001"
    async with svc.client(headers=auth("operator", region="1404")) as c:
        first = (await c.post("/v1/work-orders", json=body(phone, WUXIANG))).json()
        dup = (await c.post("/v1/work-orders", json=body(phone, WUXIANG))).json()
        assert dup["status"] == "merged" and dup["duplicate_of"] == first["id"]  # an urge: not announced
        o = await load(svc, dup["id"])
        assert not o.dispatched and o.announced_at is None and o.reconcile_at is None
        clk.advance(hours=1)
        try:
            r = await c.post(f"/v1/work-orders/{dup['id']}/unmerge", json={"reason": "实为另一笔欠薪"})
            assert r.status_code == 200, r.text
        finally:
            clk.advance(hours=-1)
    o = await load(svc, dup["id"])
    later = T0 + timedelta(hours=1)
    assert o.dispatched and o.announced_at == later and o.routed_at is None
    assert o.reconcile_at == later + timedelta(minutes=2)


# ---- the migration's backfill -------------------------------------------------------------------
async def test_backfill_counts_orders_past_received_as_acknowledged(infra):
    name = f"t_intake_backfill_{uuid.uuid4().hex[:8]}"
    await create_database(infra.server_url, name)
    infra.databases.append(name)
    url = infra.db_url(name)
    async with infra.migrate_lock:
        await asyncio.to_thread(upgrade, "intake", url, "0004")
    rows = [("received", True), ("offered", True), ("closed", True), ("merged", False), ("assigned", True)]
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as c:
            for i, (status, dispatched) in enumerate(rows):
                await c.execute(
                    text(
                        "INSERT INTO work_orders (id, number, channel, status, service_type, region_code,"
                        " county_code, requester_name, requester_phone, description, special_groups, urgency,"
                        " channel_details, dispatched, created_at, updated_at) VALUES (gen_random_uuid(),"
                        " :number, 'web', :status, 'consultation', '140430003', '140430', '王', '13800000000',"
                        " 'x', '[]', 'normal', '{}', :dispatched, :at, :at)"
                    ),
                    {"number": f"LWB{i}", "status": status, "dispatched": dispatched, "at": T0},
                )
        async with infra.migrate_lock:
            await asyncio.to_thread(upgrade, "intake", url, "heads")
        async with engine.connect() as c:
            got = {
                r.status: r
                for r in await c.execute(
                    text("SELECT status, announced_at, routed_at, reemits, reconcile_at FROM work_orders")
                )
            }
    finally:
        await engine.dispose()
    assert got["received"].routed_at is None and got["received"].reconcile_at == T0 + timedelta(minutes=2)
    assert got["received"].announced_at == T0 and got["received"].reemits == 0
    for status in ("offered", "closed", "assigned"):
        assert got[status].routed_at == T0, status
    assert got["merged"].announced_at is None and got["merged"].routed_at is None


# ---- console ------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def console_for(intake):  # type: ignore[no-untyped-def]
    from services.console.main import create_app
    from services.console.settings import ConsoleSettings

    down = f"http://127.0.0.1:{free_port()}"
    app = create_app(
        ConsoleSettings(dev_login=True),
        intake=intake.url,
        dispatch=down,
        aid=down,
        mediation=down,
        identity=down,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            yield client


async def dev_login(client: httpx.AsyncClient, role: str, region: str) -> None:
    import re

    page = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login/dev", data={"csrf_token": csrf, "role": role, "region": region, "staff_id": "", "name": "测"}
    )
    assert r.status_code == 303, r.text
