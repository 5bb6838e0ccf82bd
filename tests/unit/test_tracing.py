"""Tracing off by default and without trace of itself; on, the W3C context rides in the envelope
and a consumer continues it (#20 item 2). The whole flow across services:
tests/integration/test_tracing_flow.py."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from libs.common import tracing
from libs.common.events import intake
from libs.common.events.envelope import Envelope, make_event
from libs.common.publisher import prepare

TRACING_VARS = ("LAWLINE_TRACING", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@pytest.fixture
def untraced(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in TRACING_VARS:
        monkeypatch.delenv(name, raising=False)
    tracing.uninstall()
    yield
    tracing.uninstall()


@pytest.fixture
def spans():  # type: ignore[no-untyped-def]
    exporter = InMemorySpanExporter()
    assert tracing.install("intake", exporter=exporter)
    yield exporter
    tracing.uninstall()


def _payload() -> intake.WorkOrderCreatedV1:
    example = intake.WorkOrderCreatedV1.model_json_schema()["examples"][0]
    return intake.WorkOrderCreatedV1.model_validate(example)


def _event() -> Envelope:
    return make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=_payload(), subject="wo-1")


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"LAWLINE_TRACING": "1"}, True),
        ({"LAWLINE_TRACING": "0", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
    ],
)
def test_wanted_only_when_asked_for(env: dict[str, str], on: bool) -> None:
    assert tracing.wanted(env) is on


def test_off_installs_nothing_and_events_carry_no_traceparent(untraced: None) -> None:
    from services.intake.main import create_app

    app = create_app(db_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", bootstrap="127.0.0.1:1")
    assert not tracing.enabled() and tracing.provider() is None
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # no SDK provider anywhere
    assert all(m.cls is not OpenTelemetryMiddleware for m in app.user_middleware)
    assert not hasattr(asyncpg.connection.Connection.execute, "__wrapped__")  # asyncpg unpatched
    event = _event()
    assert event.traceparent is None
    assert all(name != "traceparent" for name, _ in event.to_kafka()[0])
    _, _, prepared = prepare(_payload(), subject="wo-1", key="140430")
    assert prepared.traceparent is None and prepared.to_json()["traceparent"] is None
    with tracing.consuming(event, "dispatch") as span:
        assert span is None


def test_on_the_event_carries_the_current_trace_and_the_consumer_continues_it(
    spans: InMemorySpanExporter,
) -> None:
    assert isinstance(tracing.provider(), TracerProvider)
    assert hasattr(asyncpg.connection.Connection.execute, "__wrapped__")
    tracer = tracing.provider().get_tracer("test")  # type: ignore[union-attr]
    with tracer.start_as_current_span("POST /v1/work-orders") as request:
        event = _event()
    trace_id = request.get_span_context().trace_id
    assert event.traceparent is not None
    _, tid, sid, flags = event.traceparent.split("-")
    assert int(tid, 16) == trace_id and int(flags, 16) & 1  # sampled

    # Over the wire and back (outbox row → relay → Kafka headers → consumer).
    wire = Envelope.from_kafka(*Envelope.from_json(event.to_json()).to_kafka())
    with tracing.consuming(wire, "dispatch"):
        answer = make_event(intake.WORKORDER_CREATED, source="/lawline/dispatch", payload=_payload())
    create, _request, onward, process = spans.get_finished_spans()  # in the order they ended
    assert create.name == onward.name == f"create {intake.WORKORDER_CREATED}"
    assert process.name == f"process {intake.WORKORDER_CREATED}"
    assert onward.parent.span_id == process.context.span_id
    assert create.parent.span_id == request.get_span_context().span_id
    assert create.kind is SpanKind.PRODUCER and int(sid, 16) == create.context.span_id
    assert process.kind is SpanKind.CONSUMER and process.parent.span_id == create.context.span_id
    assert process.attributes[tracing.SERVICE_ATTR] == "dispatch"
    assert answer.traceparent and answer.traceparent.split("-")[1] == tid  # the same trace onward


def test_on_a_parentless_database_span_is_not_sampled(spans: InMemorySpanExporter) -> None:
    tracer = tracing.provider().get_tracer("test")  # type: ignore[union-attr]
    with tracer.start_as_current_span("SELECT", attributes={"db.system": "postgresql"}) as poll:
        assert not poll.is_recording()
    with tracer.start_as_current_span("GET /v1/work-orders"):
        with tracer.start_as_current_span("SELECT", attributes={"db.system": "postgresql"}) as query:
            assert query.is_recording()
    assert [s.name for s in spans.get_finished_spans()] == ["SELECT", "GET /v1/work-orders"]


def test_on_an_event_from_before_tracing_is_consumed_untraced(spans: InMemorySpanExporter) -> None:
    old = Envelope(type=intake.WORKORDER_CREATED, source=intake.SOURCE, data={}, time=datetime.now(UTC))
    with tracing.consuming(old, "dispatch") as span:
        assert span is None
    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize(("arg", "ratio"), [(None, 1.0), ("0.1", 0.1), ("0", 0.0), ("7", 1.0), ("lots", 1.0)])
def test_sample_ratio_from_the_standard_variable(arg: str | None, ratio: float) -> None:
    assert tracing.sample_ratio({} if arg is None else {"OTEL_TRACES_SAMPLER_ARG": arg}) == ratio


def test_an_unsampled_request_passes_its_decision_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    tracing.uninstall()
    exporter = InMemorySpanExporter()
    assert tracing.install("intake", exporter=exporter)
    try:
        tracer = tracing.provider().get_tracer("test")  # type: ignore[union-attr]
        with tracer.start_as_current_span("POST /v1/work-orders") as request:
            assert not request.is_recording()
            event = _event()
        # Not sampled (the flags' sampled bit clear): the consumer's span and the events it makes follow, unrecorded.
        assert event.traceparent and not int(event.traceparent.split("-")[3], 16) & 1
        with tracing.consuming(event, "dispatch") as span:
            assert not span.is_recording()
            onward = _event()
        assert onward.traceparent and onward.traceparent.split("-")[1] == event.traceparent.split("-")[1]
        assert exporter.get_finished_spans() == ()
    finally:
        tracing.uninstall()
