"""One order's trace runs intake → dispatch → intake as one trace (#20 item 2): the intake
request, its event's create and send, dispatch's consume, its database work and its offer, and
intake's consume of the offer — on the real PostgreSQL and broker, recorded by OpenTelemetry's
SDK into its in-memory exporter (the OTLP exporter is the only part not used)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from libs.common import tracing
from libs.common.events import dispatch, intake
from libs.common.events.topics import WORKORDER, topic
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from tests.integration.intake_helpers import order


@pytest.fixture
def spans():  # type: ignore[no-untyped-def]
    exporter = InMemorySpanExporter()
    tracing.uninstall()
    assert tracing.install("intake", exporter=exporter)
    yield exporter
    tracing.uninstall()


def _one(found: list[ReadableSpan], name: str, service: str) -> ReadableSpan:
    mine = [s for s in found if s.name == name and (s.attributes or {}).get(tracing.SERVICE_ATTR) == service]
    assert len(mine) == 1, f"{name} in {service}: {[s.name for s in found]}"
    return mine[0]


def _parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


async def test_one_order_is_one_trace_from_intake_to_dispatch_and_back(infra, spans):  # type: ignore[no-untyped-def]
    async with services(infra, "intake", "dispatch") as svc:
        await consumers_ready(*svc.values())
        async with svc["intake"].client(headers=auth("operator")) as client:
            r = await client.post("/v1/work-orders", json=order(region_code="140430003"))
            assert r.status_code == 201, r.text
        servers = [
            s
            for s in spans.get_finished_spans()
            if s.kind is SpanKind.SERVER and (s.attributes or {}).get("http.route") == "/v1/work-orders"
        ]
        assert len(servers) == 1, [s.name for s in spans.get_finished_spans()]
        request = servers[0]
        trace_id = request.context.trace_id

        def in_trace() -> list[ReadableSpan]:
            return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]

        async def folded() -> list[ReadableSpan] | None:  # intake has handled dispatch's offer
            found = in_trace()
            names = {(s.name, (s.attributes or {}).get(tracing.SERVICE_ATTR)) for s in found}
            return found if (f"process {dispatch.OFFERED}", "intake") in names else None

        found = await wait_for(folded, timeout=30, what="intake's consume of dispatch.offered in the trace")

    assert request.attributes[tracing.SERVICE_ATTR] == "intake"  # type: ignore[index]
    client_span = next(
        s for s in found if s.kind is SpanKind.CLIENT and s.context.span_id == _parent_of(request)
    )
    assert client_span.parent is None  # the test's httpx call started the trace, intake continued it

    created = _one(found, f"create {intake.WORKORDER_CREATED}", "intake")
    # The request made two events (created, classified): the relay sent each in its own span.
    sends = [
        s for s in found if s.name == f"send {topic(WORKORDER)}" and _parent_of(s) == created.context.span_id
    ]
    assert len(sends) == 1, [s.name for s in found]
    sent = sends[0]
    consumed = _one(found, f"process {intake.WORKORDER_CREATED}", "dispatch")
    offered = _one(found, f"create {dispatch.OFFERED}", "dispatch")
    folded_in = _one(found, f"process {dispatch.OFFERED}", "intake")

    assert created.kind is SpanKind.PRODUCER and _parent_of(created) == request.context.span_id
    assert sent.kind is SpanKind.PRODUCER and _parent_of(sent) == created.context.span_id
    assert consumed.kind is SpanKind.CONSUMER and _parent_of(consumed) == created.context.span_id
    assert offered.kind is SpanKind.PRODUCER and _parent_of(offered) == consumed.context.span_id
    assert folded_in.kind is SpanKind.CONSUMER and _parent_of(folded_in) == offered.context.span_id
    # The database work of the request and of dispatch's handler sits under their spans.
    db_parents = {_parent_of(s) for s in found if (s.attributes or {}).get("db.system") == "postgresql"}
    assert {request.context.span_id, consumed.context.span_id} <= db_parents
