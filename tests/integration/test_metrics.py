"""`GET /metrics` on the real PostgreSQL (issue #20 item 1): HTTP rate / errors / latency by route
template after real requests (a 201, a 404 of a matched route and of no route, a 422), the
business figures moving after an order is created and kept 15 s between reads, and every
metric the Grafana dashboard and the Prometheus rules (deploy/monitoring) use exposed by the
running services."""

from __future__ import annotations

import asyncio
import importlib
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from libs.common.db_figures import DatabaseFigures
from libs.common.embedded import free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import serve
from tests.integration.intake_helpers import clock, order
from tests.monitoring_refs import SYNTHETIC, exposed_names, referenced

OP = auth("operator", region="1404")
HTTP = "lawline_http_request_duration_seconds"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels` (0 if none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in scraped.items() if n == name and want <= ls)


SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")


@pytest.fixture(scope="module")
async def stack(infra):
    """Every service on its own fresh database, started at once. Their outboxes are not
    relayed (a broker address nobody listens on): /metrics answers without the broker, and the
    order made here must not reach the session broker, where a later test's fresh consumer
    group would read it (tests/integration/intake_helpers.intake_without_broker)."""
    clk = clock()
    # Seeded: intake only (the order below); the figures of an empty database are figures too.
    urls = await asyncio.gather(*(infra.fresh_database(n, seed=n == "intake") for n in SERVICES))

    async def start(name: str, url: str):  # type: ignore[no-untyped-def]
        module = importlib.import_module(f"services.{name}.main")
        app = module.create_app(db_url=url, bootstrap=f"127.0.0.1:{free_port()}", clock=clk)
        return await serve(name, app, credentials="none")

    from services.console.main import create_app as console_app

    running = await asyncio.gather(
        *(start(n, u) for n, u in zip(SERVICES, urls, strict=True)),
        serve("console", console_app(clock=clk), credentials="none"),
    )
    try:
        yield dict(zip((*SERVICES, "console"), running, strict=True)), clk
    finally:
        await asyncio.gather(*(svc.stop() for svc in running))


def figures_of(svc) -> DatabaseFigures:  # type: ignore[no-untyped-def]
    (figures,) = [s for s in svc.rt.metric_sources if isinstance(s, DatabaseFigures)]
    return figures


async def test_http_metrics_by_route_template_and_business_figures_cached(stack):
    svc, clk = stack[0]["intake"], stack[1]
    figures = figures_of(svc)
    offset = [0.0]
    real = figures.monotonic
    figures.monotonic = lambda: real() + offset[0]  # the cache's own clock, moved by the test
    async with svc.client() as anon, svc.client(headers=OP) as op:
        before = samples((await anon.get("/metrics")).text)
        reads = figures.reads
        r = await op.post("/v1/work-orders", json=order(channel="hotline", region_code="140430003"))
        assert r.status_code == 201, r.text
        created = r.json()
        missing = uuid.uuid4()
        assert (await op.get(f"/v1/work-orders/{missing}")).status_code == 404
        assert (await op.get(f"/v1/work-orders/{created['id']}")).status_code == 200
        assert (await op.get("/v1/no-such-thing/42")).status_code == 404
        assert (await op.post("/v1/work-orders", json={"channel": "web"})).status_code == 422

        # Within 15 s: the same figures, not read again (three scrapes, no query).
        for _ in range(3):
            cached = samples((await anon.get("/metrics")).text)
        assert figures.reads == reads
        assert value(cached, "lawline_work_orders", channel="hotline") == value(
            before, "lawline_work_orders", channel="hotline"
        )

        offset[0] += 16  # the ttl has passed: the next scrape reads the database again
        after = samples((await anon.get("/metrics")).text)
        assert figures.reads == reads + 1
        # Past its deadline (the service's clock), the open order counts as overdue.
        assert (await op.get(f"/v1/work-orders/{created['id']}")).json()["due_at"]
        clk.advance(days=90)
        offset[0] += 16
        late = samples((await anon.get("/metrics")).text)
    one = {"service": "intake", "method": "GET", "route": "/v1/work-orders/{order_id}"}
    count = HTTP + "_count"

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(count, **one, status="4xx") == 1  # the unknown id, by template
    assert grew(count, **one, status="2xx") == 1  # (and one more in `late`)
    assert grew(count, route="unmatched", status="4xx") == 1  # no route: never the raw path
    assert grew(count, method="POST", route="/v1/work-orders", status="2xx") == 1
    assert grew(count, method="POST", route="/v1/work-orders", status="4xx") == 1  # the 422
    assert not [ls for (_n, ls) in after if ("route", f"/v1/work-orders/{missing}") in ls]
    assert grew(HTTP + "_bucket", **one, status="2xx", le="+Inf") == 1
    assert grew(HTTP + "_sum", **one, status="2xx") > 0
    assert grew(count, route="/metrics", status="2xx") == 4  # `before` itself and the 3 cached

    assert grew("lawline_work_orders", channel="hotline", county="140430", status=created["status"]) == 1
    assert value(after, "lawline_figures_age_seconds", service="intake") >= 0
    assert value(after, "lawline_work_orders_overdue", county="140430") == 0
    assert value(late, "lawline_work_orders_overdue", county="140430") == 1


async def test_every_metric_of_the_dashboard_and_the_rules_is_exposed(stack):
    """Every name the rules and the dashboard select must be on one service's /metrics."""
    by_service, texts = {}, {}
    for name, svc in stack[0].items():
        async with svc.client() as c:
            assert (await c.get("/healthz")).status_code in (200, 404), name  # one request at least
            r = await c.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), name
        by_service[name] = exposed_names(text_string_to_metric_families(r.text))
        texts[name] = r.text
    exposed = set().union(*by_service.values())
    missing = {name: sorted(where) for name, where in referenced().items() if name not in exposed | SYNTHETIC}
    assert not missing, f"used by deploy/monitoring but on no service's /metrics: {missing}"
    # The console (no database, no pipeline) has the HTTP histogram; every other service the
    # pipeline too, and each its own business figures.
    assert value(samples(texts["console"]), HTTP + "_count", service="console") >= 1
    del by_service["console"]
    for name, got in by_service.items():
        assert {
            HTTP + "_count",
            "lawline_outbox_oldest_unpublished_seconds",
            "lawline_dead_letters",
        } <= got, name
    assert "lawline_work_orders" in by_service["intake"]
    assert "lawline_dispatch_waiting_orders" in by_service["dispatch"]
    assert "lawline_cases" in by_service["aid"] & by_service["mediation"]


async def test_a_failed_read_keeps_the_last_figures_and_waits_for_the_next_ttl(stack):
    svc = stack[0]["dispatch"]
    figures = figures_of(svc)
    offset = [0.0]
    real = figures.monotonic
    figures.monotonic = lambda: real() + offset[0]
    good, calls = figures.query, []

    async def broken(conn, now, service):  # type: ignore[no-untyped-def]
        calls.append(now)
        await conn.exec_driver_sql("SELECT no_such_column FROM orders")

    try:
        async with svc.client() as c:
            first = samples((await c.get("/metrics")).text)
            figures.query = broken
            offset[0] += 16
            for _ in range(3):  # one failed read, then the ttl holds again: no retry per scrape
                failed = samples((await c.get("/metrics")).text)
    finally:
        figures.query, figures.monotonic = good, real
    assert len(calls) == 1 and figures.failures == 1
    assert value(failed, "lawline_figures_read_failures_total", service="dispatch") == 1
    assert value(failed, "lawline_figures_age_seconds", service="dispatch") >= 16
    kept = {k: v for k, v in failed.items() if k[0] == "lawline_dispatch_clocks_overdue"}
    assert kept and kept == {k: v for k, v in first.items() if k[0] == "lawline_dispatch_clocks_overdue"}


async def test_dispatch_figures_count_waiting_orders_overdue_clocks_and_supervisions(stack):
    from datetime import timedelta

    from services.dispatch.models import OrderSnapshot, Supervision

    svc, clk = stack[0]["dispatch"], stack[1]
    now = clk.now()
    figures = figures_of(svc)
    figures.tried_at = None  # whatever an earlier test left: the next scrape reads
    base = dict(county_code="140430", region_code="140430003", service_type="legal_aid", requester_name="甲")
    base |= dict(description="x", received_at=now - timedelta(days=2))
    waiting, assigned = uuid.uuid4(), uuid.uuid4()
    async with svc.rt.sessionmaker() as session, session.begin():
        session.add_all(
            [
                OrderSnapshot(
                    work_order_id=waiting,
                    number="M1",
                    status="escalated",
                    transfer_due=now - timedelta(hours=1),
                    **base,
                ),
                OrderSnapshot(
                    work_order_id=assigned,
                    number="M2",
                    status="assigned",
                    reply_due=now - timedelta(hours=1),
                    **base,
                ),
                Supervision(
                    work_order_id=waiting,
                    clock="transfer",
                    level=1,
                    notified="county",
                    due=now,
                    raised_at=now,
                ),
            ]
        )
    async with svc.client() as c:
        got = samples((await c.get("/metrics")).text)
    assert value(got, "lawline_dispatch_waiting_orders", status="escalated", tier="none") == 1
    assert value(got, "lawline_dispatch_waiting_orders", status="assigned") == 0  # taken: not waiting
    assert value(got, "lawline_dispatch_clocks_overdue", clock="transfer") == 1
    assert value(got, "lawline_dispatch_clocks_overdue", clock="reply") == 1
    assert value(got, "lawline_dispatch_clocks_overdue", clock="max") == 0
    assert value(got, "lawline_dispatch_supervisions", clock="transfer", notified="county") == 1


async def test_aid_and_mediation_count_cases_by_state_and_clocks_past_their_due_day(stack):
    from datetime import timedelta

    from services.aid.models import Case as AidCase
    from services.aid.models import CaseClock
    from services.mediation.models import Case as MediationCase

    clk = stack[1]
    today = (clk.now() + timedelta(hours=8)).date()  # China day
    case = dict(county_code="140430", region_code="140430003", applicant_name="甲", summary="x")
    aid, med = stack[0]["aid"], stack[0]["mediation"]
    async with aid.rt.sessionmaker() as session, session.begin():
        a1, a2 = (
            AidCase(number="A1", status="under_review", **case),
            AidCase(number="A2", status="under_review", **case),
        )
        session.add_all([a1, a2])
        await session.flush()
        # 法律援助法 Art 43: decide within 7 days — one clock past its day, one due today, one met.
        for c, due, met in (
            (a1, today - timedelta(days=1), None),
            (a2, today, None),
            (a2, today - timedelta(days=3), clk.now()),
        ):
            session.add(
                CaseClock(
                    case_id=c.id,
                    name="decision",
                    article="Art 43",
                    started_on=due - timedelta(days=7),
                    due=due,
                    met_at=met,
                )
            )
    async with med.rt.sessionmaker() as session, session.begin():
        session.add_all(
            [
                MediationCase(number="M1", status="mediating", due_date=today - timedelta(days=1), **case),
                MediationCase(number="M2", status="mediating", due_date=today, **case),
                MediationCase(number="M3", status="closed", due_date=today - timedelta(days=9), **case),
            ]
        )
    for svc in (aid, med):
        figures_of(svc).tried_at = None
    async with aid.client() as c:
        got_aid = samples((await c.get("/metrics")).text)
    async with med.client() as c:
        got_med = samples((await c.get("/metrics")).text)
    assert value(got_aid, "lawline_cases", service="aid", status="under_review") == 2
    assert value(got_aid, "lawline_case_clocks_overdue", service="aid", clock="decision") == 1
    assert value(got_med, "lawline_cases", service="mediation", status="mediating") == 2
    assert value(got_med, "lawline_cases", service="mediation", status="closed") == 1
    assert value(got_med, "lawline_case_clocks_overdue", service="mediation", clock="mediation") == 1
