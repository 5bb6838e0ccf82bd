"""`make run`'s first start loads a month of history (scripts/demo_history) — here a short
one on fresh databases and a broker of its own, played through the services' own APIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from libs.common.db import make_engine
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.infra import Infra
from scripts.demo_history import counts, load_if_empty
from scripts.demo_history.plan import DEMO_MARK

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 in China: Monday to Friday behind
SERVICES = ("identity", "intake", "dispatch", "aid", "mediation")


async def rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def test_a_short_history_through_the_apis_and_skipped_the_second_time(infra: Infra, monkeypatch):
    monkeypatch.delenv("LAWLINE_DEMO_HISTORY", raising=False)
    broker = EmbeddedBroker(
        free_port(), log_path=(infra.tmp or None) and infra.tmp / "demo-broker.log"
    ).start()
    try:
        urls = {s: await infra.fresh_database(s) for s in SERVICES}
        # A working week of ~8 orders a day, plus today's (a Saturday): the same script, small.
        out = await load_if_empty(urls, broker.bootstrap, days=5, per_day=8, today=4, now=NOW)
        assert out.skipped is None, out.line
        print(out.line)
        for f in out.failed:
            print("FAILED", f)
        orders = await rows(
            urls["intake"], "SELECT channel, service_type, status, rating_score, description FROM work_orders"
        )
        assert len(orders) >= 30
        assert {o[0] for o in orders} == {"hotline", "web", "counter", "external"}
        assert all(o[4].startswith(DEMO_MARK) for o in orders)  # every one flagged
        assert any(o[2] == "closed" and o[3] for o in orders)  # closed and rated
        c = await counts(urls["intake"])
        assert c.get("assigned", 0) + c.get("in_progress", 0) + c.get("closed", 0) > 0
        [(accepted,)] = await rows(
            urls["dispatch"], "SELECT count(*) FROM assignments WHERE status = 'accepted'"
        )
        assert accepted > 0
        [(aid,)] = await rows(urls["aid"], "SELECT count(*) FROM cases WHERE work_order_id IS NOT NULL")
        [(med,)] = await rows(urls["mediation"], "SELECT count(*) FROM cases WHERE work_order_id IS NOT NULL")
        assert aid >= 1 and med >= 1
        # Created at their own times over the days, not at the moment of loading.
        [(first, last)] = await rows(
            urls["intake"], "SELECT min(created_at), max(created_at) FROM work_orders"
        )
        assert last - first > timedelta(days=4)

        again = await load_if_empty(urls, broker.bootstrap, days=5, per_day=8, today=4, now=NOW)
        assert again.skipped == "orders exist"
        assert len(await rows(urls["intake"], "SELECT id FROM work_orders")) == len(orders)
    finally:
        broker.stop()


async def test_switched_off_by_the_environment(infra: Infra, monkeypatch):
    monkeypatch.setenv("LAWLINE_DEMO_HISTORY", "0")
    out = await load_if_empty({"intake": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}, "127.0.0.1:1")
    assert out.skipped == "LAWLINE_DEMO_HISTORY=0"
