"""Migration 0006 on a database with history: who had acted before accepted_at existed.

The strongest evidence first (a dispatch.assigned event still in the outbox), then what the
status proves (accepted, returned) or the order's recorded handler (completed); an offer that
expired, was rejected or was completed without ever being accepted gets no accepted_at."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from libs.common.embedded import create_database
from libs.common.migrate import upgrade

ASSIGNED = "cn.lawline.dispatch.assigned.v1"


async def test_backfill_counts_only_assignments_that_were_accepted(infra):
    name = f"t_dispatch_m6_{uuid.uuid4().hex[:8]}"
    await create_database(infra.server_url, name)
    infra.databases.append(name)
    url = infra.db_url(name)
    async with infra.migrate_lock:
        await asyncio.to_thread(upgrade, "dispatch", url, "0004")
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    point, person, order, closed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = {
        s: uuid.uuid4() for s in ("accepted", "returned", "rejected", "expired", "evidenced", "done", "never")
    }
    try:
        await conn.execute(
            "INSERT INTO service_points (id, code, name, tier, region_code, windows, demo) "
            "VALUES ($1, 'SPX', '沁县公共法律服务中心', 'county', '140430', '[]', false)",
            point,
        )
        await conn.execute(
            "INSERT INTO staff (id, code, name, role, skills, service_point_id, county_code, capacity, "
            "active_load, active, demo) VALUES ($1, 'SX1', '王律师', 'lawyer', '{}', $2, '140430', 10, 0, true, false)",
            person,
            point,
        )
        for oid, handler in ((order, None), (closed, person)):
            await conn.execute(
                "INSERT INTO orders (work_order_id, number, county_code, region_code, service_type, "
                "requester_name, description, status, received_at, handler_staff_id, assigned_at) "
                "VALUES ($1, 'LW1', '140430', '140430', 'lawyer_referral', '王伟', '合同', 'new', now(), $2, "
                "CASE WHEN $2::uuid IS NULL THEN NULL ELSE now() END)",
                oid,
                handler,
            )
        status = {"accepted": "accepted", "returned": "returned", "rejected": "rejected", "expired": "expired",
                  "evidenced": "transferred", "done": "completed", "never": "completed"}  # fmt: skip
        for key, aid in rows.items():
            await conn.execute(
                "INSERT INTO assignments (id, work_order_id, staff_id, service_point_id, status, reason, "
                "responded_at) VALUES ($1, $2, $3, $4, $5, '', now())",
                aid,
                closed if key == "done" else order,
                person,
                point,
                status[key],
            )
        event = {
            "type": ASSIGNED,
            "data": {"assignment_id": str(rows["evidenced"]), "accepted_at": "2026-11-24T02:00:00+00:00"},
        }
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, event) VALUES ('e1', 'dispatch', '140430', $1::jsonb)",
            json.dumps(event),
        )
    finally:
        await conn.close()

    async with infra.migrate_lock:
        await asyncio.to_thread(upgrade, "dispatch", url)
    conn = await asyncpg.connect(dsn)
    try:
        got = {r["id"]: r["accepted_at"] for r in await conn.fetch("SELECT id, accepted_at FROM assignments")}
        kind = await conn.fetchval(
            "INSERT INTO duty_slots (staff_id, weekday, start, \"end\") VALUES ($1, 0, '08:30', '17:30') RETURNING kind",
            person,
        )
        assert await conn.fetchval("SELECT count(*) FROM parties WHERE phone_index IS NOT NULL") == 0
    finally:
        await conn.close()
    acted = {key for key, aid in rows.items() if got[aid] is not None}
    assert acted == {"accepted", "returned", "evidenced", "done"}
    assert got[rows["evidenced"]].isoformat() == "2026-11-24T02:00:00+00:00"  # from the event itself
    assert kind == "weekly"  # existing and new rosters stay office rosters unless marked on_call
