"""Retention of finished orders' personal fields on the real database (PIPL Art 19): after the
period the name, phone, ID number, blind index and party indexes go, the statistics stay; open
and recent orders are untouched; a row locked by another transaction is skipped, not waited
on; each run writes one audit entry with its count. The statutory floors refuse at start-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text, update

from libs.common.clock import FrozenClock
from libs.common.retention import RetentionSettings
from libs.common.testing.auth import auth
from services.intake import retention
from services.intake.models import WorkOrder
from tests.integration.intake_helpers import T0, clock, intake_without_broker, make_id, order

OP = auth("operator", region="1404")


def test_audit_and_logs_below_six_months_are_refused():
    with pytest.raises(ValidationError, match="网络安全法第二十一条"):
        RetentionSettings(audit_days=90)
    with pytest.raises(ValidationError, match="Art 21"):
        RetentionSettings(log_days=179)
    assert RetentionSettings(audit_days=180, log_days=180).closed_order_personal == timedelta(days=1095)


async def _file(c, phone: str, seq: str) -> str:  # type: ignore[no-untyped-def]
    body = order(
        requester={"name": "王秀英", "phone": phone, "id_number": make_id(seq=seq)},
        parties=[{"name": "李建国", "id_number": make_id(seq="9" + seq[1:])}],
    )
    r = await c.post("/v1/work-orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_closed_orders_lose_personal_fields_after_the_period(infra):
    clk = clock()
    async with intake_without_broker(infra, clk) as svc:
        async with svc.client(headers=OP) as c:
            old = [await _file(c, f"1390000410{i}", f"10{i}") for i in range(5)]
            recent = await _file(c, "13900004110", "110")
            still_open = await _file(c, "13900004111", "111")
            locked = await _file(c, "13900004112", "112")
        sm = svc.rt.sessionmaker
        async with sm() as s, s.begin():
            closed_at = T0 - timedelta(days=3 * 365 + 1)
            await s.execute(
                update(WorkOrder)
                .where(WorkOrder.id.in_([*old, locked]))
                .values(status="closed", closed_at=closed_at, rating_score=4, rating_comment="王律师很耐心")
            )
            await s.execute(
                update(WorkOrder)
                .where(WorkOrder.id == recent)
                .values(status="closed", closed_at=T0 - timedelta(days=3 * 365 - 1))
            )
            await s.execute(update(WorkOrder).where(WorkOrder.id == still_open).values(created_at=closed_at))
        policy = RetentionSettings(batch=2)
        # Another transaction holds one expired row: the run skips it and finishes at once.
        async with sm() as blocker, blocker.begin():
            await blocker.execute(
                text("SELECT id FROM work_orders WHERE id = :id FOR UPDATE"), {"id": locked}
            )
            assert await retention.purge_once(sm, clock=clk, policy=policy) == 5  # batches 2, 2, 1
        async with sm() as s:
            rows = {str(r.id): r for r in (await s.scalars(select(WorkOrder))).all()}
            entries = (
                await s.execute(
                    text("SELECT actor, detail FROM audit_log WHERE action = 'retention.anonymised'")
                )
            ).all()
        for oid in old:
            r = rows[oid]
            assert (r.requester_name, r.requester_phone) == (retention.ANONYMISED_NAME, "")
            assert r.requester_id_enc is None and r.requester_id_bidx is None and r.party_indexes == []
            assert r.description == retention.ANONYMISED_TEXT and r.rating_comment is None
            # The statistics stay.
            assert (r.status, r.service_type, r.region_code, r.rating_score) == (
                "closed",
                "legal_aid",
                "140429003",
                4,
            )
            assert r.closed_at == closed_at and r.number
        for kept in (recent, still_open, locked):
            assert rows[kept].requester_phone.startswith("139") and rows[kept].requester_id_bidx
        assert len(entries) == 1 and entries[0].actor == "system:intake"
        assert (
            entries[0].detail["orders"] == 5
            and entries[0].detail["data_class"] == "closed_order_personal_fields"
        )

        # The next run takes the row no longer locked; a day later the recent one too.
        assert await retention.purge_once(sm, clock=clk, policy=policy) == 1
        assert await retention.purge_once(sm, clock=FrozenClock(T0 + timedelta(days=2)), policy=policy) == 1
        assert await retention.purge_once(sm, clock=clk, policy=policy) == 0
        async with sm() as s:
            counts = (
                await s.execute(
                    text(
                        "SELECT (detail->>'orders')::int FROM audit_log "
                        "WHERE action = 'retention.anonymised' ORDER BY id"
                    )
                )
            ).scalars()
            assert list(counts) == [5, 1, 1, 0]  # one entry per run, an empty run too


async def _dead_letter(sm, status: str, resolved_days_ago: float | None) -> int:  # type: ignore[no-untyped-def]
    async with sm() as s, s.begin():
        return (
            await s.execute(
                text(
                    'INSERT INTO dead_letters (consumer, topic, partition, "offset", headers, value, error, '
                    "status, resolved_at) VALUES ('intake', 'lawline.dispatch', 0, 1, '[]', '\\x7b7d', 'boom', "
                    ":status, :resolved) RETURNING id"
                ),
                {
                    "status": status,
                    "resolved": None if resolved_days_ago is None else T0 - timedelta(days=resolved_days_ago),
                },
            )
        ).scalar_one()


async def test_resolved_dead_letters_go_after_thirty_days_open_ones_stay(infra):
    from libs.common import dead_letter_retention

    async with intake_without_broker(infra, clock()) as svc:
        sm = svc.rt.sessionmaker
        gone = [await _dead_letter(sm, "replayed", 31), await _dead_letter(sm, "discarded", 40)]
        kept = [await _dead_letter(sm, "replayed", 29), await _dead_letter(sm, "open", None)]
        policy = RetentionSettings(batch=1)
        assert await dead_letter_retention.purge_once(sm, service="intake", now=T0, policy=policy) == 2
        async with sm() as s:
            left = set((await s.execute(text("SELECT id FROM dead_letters"))).scalars())
            entry = (
                await s.execute(text("SELECT detail FROM audit_log WHERE action = 'dead_letters.purged'"))
            ).scalar_one()
        assert left == set(kept) and not left & set(gone)
        assert entry["rows"] == 2 and entry["data_class"] == "dead_letters"
        assert await dead_letter_retention.purge_once(sm, service="intake", now=T0, policy=policy) == 0
