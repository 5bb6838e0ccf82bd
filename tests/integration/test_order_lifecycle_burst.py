"""A burst on the real stack (issue #15): a few hundred orders created while, at the same time,
some are merged (by staff and automatically, as urges), unmerged, reclassified, moved to the
other county and returned (退单) with offers open. When both sides have caught up:

- never two live offers for one matter: no order has more than one open offer or accepted
  assignment, and a merged order has none (so a merged pair has at most one);
- every open order has exactly one of: an open offer, an accepted assignment, a place in the
  supervisor queue;
- intake's status and county match dispatch's for every order;
- every person's load is exactly the weight of what they hold (capacity released on every
  withdrawal)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import httpx
import pytest

from libs.common.clock import FrozenClock
from libs.common.events import dispatch as dispatch_events
from libs.common.events import intake as intake_events
from libs.common.regions import children
from libs.common.testing.infra import wait_for
from tests.integration.lifecycle_helpers import (
    OPERATOR,
    QINXIAN,
    SUPERVISOR,
    T0,
    WUXIANG,
    as_staff,
    lifecycle_stack,
    rows,
)

ORDERS = 240
OPERATIONS = 130
TYPES = ["consultation"] * 8 + ["mediation"] * 6 + ["legal_aid"] * 3 + ["complaint"] * 3
DOMAINS = {"consultation": "labor", "mediation": "neighbor", "legal_aid": "labor", "complaint": "other"}
GROUPS = ([], [], [], ["elderly"], ["migrant_worker"], ["disabled"])
URGENCIES = ("normal", "normal", "normal", "urgent", "critical")
TOWNS = {c: [r.code for r in children(c)] for c in (QINXIAN, WUXIANG)}
# Intake's events dispatch follows, and dispatch's events about orders intake folds.
FOLLOWED = (
    intake_events.WORKORDER_CREATED,
    intake_events.WORKORDER_ROUTING_REQUESTED,
    intake_events.WORKORDER_CLOSED,
    intake_events.WORKORDER_CLASSIFIED,
    intake_events.WORKORDER_UPDATED,
    intake_events.WORKORDER_TRANSFERRED,
    intake_events.WORKORDER_MERGED,
    intake_events.WORKORDER_UNMERGED,
)
FOLDED = (
    dispatch_events.OFFERED,
    dispatch_events.ASSIGNED,
    dispatch_events.REJECTED,
    dispatch_events.ESCALATED,
    dispatch_events.OVERDUE,
    dispatch_events.ROUTING_CONFIRMED,
)
# Dispatch's state of an open order → intake's status (no case services run here).
SAME = {
    "offered": "offered",
    "assigned": "assigned",
    "escalated": "escalated",
    "merged": "merged",
    "closed": "closed",
}


@pytest.fixture(scope="module")
async def stack(infra):
    async with lifecycle_stack(infra, FrozenClock(T0)) as running:
        yield running


class Burst:
    def __init__(self, stack) -> None:  # type: ignore[no-untyped-def]
        self.intake, self.dispatch = stack["intake"], stack["dispatch"]
        self.rng = random.Random(15)
        self.orders: list[dict] = []  # created (id, county, phone, description)
        self.merged: list[str] = []
        self.done: Counter[str] = Counter()
        self.sem = asyncio.Semaphore(12)

    def body(self) -> dict:
        rng = self.rng
        if self.orders and rng.random() < 0.1:  # the same person again about the same matter: an urge
            first = rng.choice(self.orders)
            return {
                **first["body"],
                "urgency": rng.choice(URGENCIES),
                "special_groups": rng.choice(GROUPS),
                "description": first["body"]["description"] + "，再次来电催问",
            }
        county = rng.choice((QINXIAN, WUXIANG))
        kind = rng.choice(TYPES)
        return {
            "channel": "hotline",
            "requester": {"name": "王秀英", "phone": f"139{rng.randrange(10**8):08d}"},
            "region_code": rng.choice(TOWNS[county]),
            "service_type": kind,
            "domain": DOMAINS[kind],
            "urgency": rng.choice(URGENCIES),
            "special_groups": rng.choice(GROUPS),
            "description": f"第{len(self.orders)}号求助：{kind} 事项，请尽快联系。",
        }

    async def create(self, c) -> None:  # type: ignore[no-untyped-def]
        body = self.body()
        async with self.sem:
            r = await c.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        out = r.json()
        self.done["created" if not out["duplicate_of"] else "urged"] += 1
        if not out["duplicate_of"]:
            self.orders.append({"id": out["id"], "body": body})

    async def operate(self, c, d) -> None:  # type: ignore[no-untyped-def]
        rng = self.rng
        op = rng.choice(("reclassify", "reclassify", "transfer", "merge", "return", "return", "unmerge"))
        o = rng.choice(self.orders)["id"]
        async with self.sem:
            if op == "reclassify":
                kind = rng.choice(TYPES)
                r = await c.put(
                    f"/v1/work-orders/{o}/classification",
                    json={
                        "service_type": kind,
                        "domain": DOMAINS[kind],
                        "urgency": rng.choice(URGENCIES),
                        "special_groups": rng.choice(GROUPS),
                        "reason": "核实后更正",
                    },
                )
            elif op == "transfer":
                county = (await self._intake(c, o))["county_code"]
                to = WUXIANG if county == QINXIAN else QINXIAN
                r = await c.post(
                    f"/v1/work-orders/{o}/county-transfer",
                    json={"region_code": rng.choice(TOWNS[to]), "reason": "属地管辖"},
                    headers=SUPERVISOR,
                )
            elif op == "merge":
                into = rng.choice(self.orders)["id"]
                r = await c.post(f"/v1/work-orders/{o}/merge", json={"into": into, "reason": "同一事项"})
                if r.status_code == 200:
                    self.merged.append(o)
            elif op == "unmerge" and self.merged:
                r = await c.post(
                    f"/v1/work-orders/{self.merged.pop()}/unmerge", json={"reason": "实为两件事"}
                )
            else:
                r = await self._return(d, o)
        if r is not None:
            assert r.status_code in (200, 404, 409, 422), r.text  # 409/422: raced a merge or a move
            self.done[f"{op}:{r.status_code}"] += 1

    async def _intake(self, c, o: str) -> dict:  # type: ignore[no-untyped-def]
        return (await c.get(f"/v1/work-orders/{o}")).json()

    async def _return(self, d, o: str):  # type: ignore[no-untyped-def]
        """Accept the open offer as its person, then hand it back (退单)."""
        found = await rows(
            self.dispatch,
            "SELECT a.id, a.staff_id, s.role FROM assignments a JOIN staff s ON s.id = a.staff_id "
            "WHERE a.work_order_id = :o AND a.status = 'offered'",
            o=uuid.UUID(o),
        )
        if not found:
            return None
        a = found[0]
        who = as_staff(a["role"], a["staff_id"], "14")
        r = await d.post(f"/v1/assignments/{a['id']}/accept", headers=who)
        if r.status_code != 200:
            return r
        return await d.post(f"/v1/assignments/{a['id']}/return", json={"reason": "不属本人受理"}, headers=who)


async def caught_up(intake, dispatch) -> bool:  # type: ignore[no-untyped-def]
    """Everything published, and each side has consumed every event of the other it follows."""
    for svc in (intake, dispatch):
        [n] = await rows(svc, "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        if n["n"]:
            return False
    for producer, consumer, types in ((intake, dispatch, FOLLOWED), (dispatch, intake, FOLDED)):
        sent = {
            r["event_id"]
            for r in await rows(
                producer, "SELECT event_id FROM outbox WHERE event->>'type' = ANY(:t)", t=list(types)
            )
        }
        got = {
            r["event_id"]
            for r in await rows(
                consumer, "SELECT event_id FROM inbox WHERE event_type = ANY(:t)", t=list(types)
            )
        }
        if sent - got:
            return False
    return True


async def test_burst_of_merges_reclassifications_transfers_and_returns_with_offers_open(stack):
    intake, dispatch = stack["intake"], stack["dispatch"]
    burst = Burst(stack)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with (
        httpx.AsyncClient(base_url=intake.url, headers=OPERATOR, timeout=30) as c,
        httpx.AsyncClient(base_url=dispatch.url, timeout=30) as d,
    ):
        first = [burst.create(c) for _ in range(20)]
        await asyncio.gather(*first)  # something to operate on
        work = [burst.create(c) for _ in range(ORDERS - 20)] + [
            burst.operate(c, d) for _ in range(OPERATIONS)
        ]
        burst.rng.shuffle(work)
        await asyncio.gather(*work)
    await wait_for(
        lambda: caught_up(intake, dispatch), timeout=40, interval=0.3, what="both sides to catch up"
    )
    elapsed = loop.time() - started

    # Both sides as they are now.
    d_orders = {
        r["work_order_id"]: r
        for r in await rows(dispatch, "SELECT work_order_id, status, county_code FROM orders")
    }
    live = await rows(
        dispatch,
        "SELECT work_order_id, status, staff_id, weight FROM assignments WHERE status IN ('offered', 'accepted')",
    )
    i_orders = await rows(intake, "SELECT id, status, county_code, merged_into, dispatched FROM work_orders")
    held = Counter(a["work_order_id"] for a in live)
    problems: list[str] = []

    # Never two live offers for one matter.
    problems += [f"{o}: {n} live offers/assignments" for o, n in held.items() if n > 1]
    for o in i_orders:
        if o["status"] == "merged" and held[o["id"]]:
            problems.append(f"{o['id']} is merged into {o['merged_into']} but still has a live offer")
    # Every open order: exactly one of open offer, accepted assignment, supervisor queue.
    for o in i_orders:
        if o["status"] in ("closed", "merged"):
            continue
        snap = d_orders.get(o["id"])
        if snap is None:
            problems.append(f"{o['id']} ({o['status']}) is open at intake but dispatch never got it")
            continue
        mine = [a for a in live if a["work_order_id"] == o["id"]]
        places = len(mine) + (snap["status"] == "escalated")
        if places != 1:
            problems.append(f"{o['id']}: dispatch {snap['status']} with {len(mine)} live offers/assignments")
        elif mine and {"offered": "offered", "accepted": "assigned"}[mine[0]["status"]] != snap["status"]:
            problems.append(f"{o['id']}: dispatch says {snap['status']}, its assignment {mine[0]['status']}")
    # Intake's status and county match dispatch's for every order dispatch has.
    for o in i_orders:
        snap = d_orders.get(o["id"])
        if snap is None:
            if o["dispatched"] or o["status"] != "merged":
                problems.append(f"{o['id']} ({o['status']}) unknown to dispatch")
            continue
        if SAME.get(snap["status"]) != o["status"] or snap["county_code"] != o["county_code"]:
            problems.append(
                f"{o['id']}: intake {o['status']}/{o['county_code']}, dispatch {snap['status']}/{snap['county_code']}"
            )
    # Capacity: every person's load is what they hold now.
    loads = {r["id"]: r["active_load"] for r in await rows(dispatch, "SELECT id, active_load FROM staff")}
    holds: Counter = Counter()
    for a in live:
        holds[a["staff_id"]] += a["weight"]
    problems += [f"staff {s}: load {n}, holds {holds[s]}" for s, n in loads.items() if n != holds[s]]
    assert not problems, (
        f"{len(problems)} problems after {dict(burst.done)}:\n"
        + "\n".join(problems[:40])
        + (await history(intake, dispatch, problems))
    )

    # The burst really did all of it, with offers open, and well within a minute.
    done = burst.done
    for op in ("reclassify", "transfer", "merge", "return"):
        assert done[f"{op}:200"] >= 5, dict(done)
    assert done["created"] + done["urged"] == ORDERS and done["urged"] >= 5
    withdrawn = Counter(
        r["reason_code"]
        for r in await rows(dispatch, "SELECT reason_code FROM assignments WHERE status = 'withdrawn'")
    )
    assert withdrawn["reclassified"] and withdrawn["merged"] and withdrawn["county_transfer"], withdrawn
    assert elapsed < 45, f"the burst took {elapsed:.1f} s"


async def history(intake, dispatch, problems: list[str]) -> str:  # type: ignore[no-untyped-def]
    """For a failure: the first troubled order's events on both sides, in the order they were made
    and in the order they were handled."""
    oid = problems[0].split(":")[0].split()[-1]
    sent = await rows(
        intake,
        "SELECT event_id, key, event->>'type' AS type, event->'extensions'->>'sequence' AS seq FROM outbox "
        "WHERE event->>'subject' = :s ORDER BY id",
        s=oid,
    )
    handled = {
        r["event_id"]: r["received_at"]
        for r in await rows(
            dispatch, "SELECT event_id, received_at FROM inbox WHERE event_type LIKE 'cn.lawline.workorder.%'"
        )
    }
    lines = [
        f"  intake {r['type'].split('.')[-2]} seq={r['seq']} key={r['key']} handled={handled.get(r['event_id'])}"
        for r in sent
    ]
    d = await rows(
        dispatch,
        "SELECT key, event->>'type' AS type, event->'extensions'->>'sequence' AS seq FROM outbox "
        "WHERE event->>'subject' = :s ORDER BY id",
        s=oid,
    )
    lines += [f"  dispatch {r['type'].split('.')[-2]} seq={r['seq']} key={r['key']}" for r in d]
    lines += [
        f"  decision {r['rule']}"
        for r in await rows(
            dispatch, "SELECT rule FROM decisions WHERE work_order_id = :o ORDER BY seq", o=uuid.UUID(oid)
        )
    ]
    return f"\nhistory of {oid}:\n" + "\n".join(lines)
