"""OpenTelemetry traces, off unless asked for (#20 item 2).

On when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or
`LAWLINE_TRACING=1` is set (`LAWLINE_TRACING=0` keeps it off whatever else is set). Off, nothing
of OpenTelemetry's SDK is imported, no middleware or patch is installed, and every hook below is
one test of a module global (measured in the README: Tracing). On, spans go to the OTLP
endpoint over http/protobuf (the exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables):

- HTTP server spans (FastAPI/ASGI, every route but the probes and /metrics), httpx client spans
  (console → services) and asyncpg spans, by the maintained instrumentation packages;
- a PRODUCER span `create <event type>` where an event is made (inside the request's or the
  handler's transaction): its W3C `traceparent` goes into the CloudEvent, so it travels in the
  outbox row and the Kafka headers;
- a PRODUCER span `send <topic>` around the relay's publishing of each traced row;
- a CONSUMER span `process <event type>` around a consumer's handler, parented by the event's
  traceparent: events the handler makes carry the same trace on (intake → dispatch → intake).

Background loops (outbox relay, purges, clocks) make no trace of their own: a database span
without a parent is not sampled, or every poll would be a trace. `OTEL_TRACES_SAMPLER_ARG`
(0…1, default 1) records that share of the traces; a trace's later hops follow its first.

Several services may share one process (tests, bench): the provider is the process's, and every
span carries `lawline.service`, the service it ran in.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # never imported while tracing is off
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

    from libs.common.events.envelope import Envelope

SERVICE_ATTR = "lawline.service"
# Not traced: the probes and the scrape, every few seconds each.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

_provider: TracerProvider | None = None
_tracer: Tracer | None = None  # None: tracing is off and every hook returns at once
_instrumentors: list[Any] = []
_OFF = contextlib.nullcontext()


def wanted(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the environment asks for traces."""
    flag = env.get("LAWLINE_TRACING", "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return flag in ("1", "true", "yes", "on") or bool(endpoint)


def enabled() -> bool:
    return _tracer is not None


def provider() -> TracerProvider | None:
    return _provider


def install(service: str, *, exporter: SpanExporter | None = None) -> bool:
    """Set tracing up for this process once: from the environment (`wanted`), or with
    `exporter` (tests: an InMemorySpanExporter, exported synchronously). True if it is on."""
    global _provider, _tracer
    if _tracer is not None:
        return True
    if exporter is None and not wanted():
        return False
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    name = os.environ.get("OTEL_SERVICE_NAME") or f"lawline-{service}"
    tp = TracerProvider(
        resource=Resource.create({"service.name": name}), sampler=ParentBased(_root_sampler(sample_ratio()))
    )
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        tp.add_span_processor(SimpleSpanProcessor(exporter))
    # The provider is passed to each instrumentation rather than made global: OpenTelemetry's
    # global can be set only once per process, and tests install and uninstall.
    for instrumentor in (AsyncPGInstrumentor(), HTTPXClientInstrumentor()):
        instrumentor.instrument(tracer_provider=tp)
        _instrumentors.append(instrumentor)
    _provider, _tracer = tp, tp.get_tracer("lawline")
    return True


def uninstall() -> None:
    """Undo `install` (tests): patches removed, spans flushed, hooks off again."""
    global _provider, _tracer
    for instrumentor in _instrumentors:
        instrumentor.uninstrument()
    _instrumentors.clear()
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, None


def instrument_app(app: FastAPI, service: str) -> None:
    """Server spans for this app's requests (when tracing is on), named by route."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    def tag(span: Any, _scope: dict[str, Any]) -> None:
        if span.is_recording():
            span.set_attribute(SERVICE_ATTR, service)

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls=EXCLUDED_URLS,
        server_request_hook=tag,
        exclude_spans=["receive", "send"],  # one span per request, not three
    )


def created_traceparent(event_type: str, service: str) -> str | None:
    """The traceparent for an event made now: a `create` span under the current one (None when
    tracing is off)."""
    if _tracer is None:
        return None
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(
        f"create {event_type}",
        kind=SpanKind.PRODUCER,
        attributes={
            SERVICE_ATTR: service,
            "messaging.system": "kafka",
            "messaging.operation.type": "create",
            "cloudevents.event_type": event_type,
        },
    ):
        # Unsampled too (flags 00): the consumers then follow this trace's decision instead of
        # starting traces of their own from its middle.
        carrier: dict[str, str] = {}
        _propagator().inject(carrier)  # W3C Trace Context, as OpenTelemetry writes it on HTTP
        return carrier.get("traceparent")


def consuming(event: Envelope, service: str) -> contextlib.AbstractContextManager[Any]:
    """Around a consumer's handler: a CONSUMER span whose parent is the event's traceparent."""
    if _tracer is None or not event.traceparent:
        return _OFF
    return _consume_span(event, service)


@contextlib.contextmanager
def _consume_span(event: Envelope, service: str) -> Iterator[Any]:
    from opentelemetry.trace import SpanKind

    assert _tracer is not None
    with _tracer.start_as_current_span(
        f"process {event.type}",
        context=_parent(event.traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            SERVICE_ATTR: service,
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.message.id": event.id,
            "cloudevents.event_id": event.id,
            "cloudevents.event_type": event.type,
        },
    ) as span:
        yield span


def sending(rows: Sequence[tuple[str, Envelope]], service: str) -> contextlib.AbstractContextManager[Any]:
    """Around the relay's publishing of a batch: a `send <topic>` span per traced row, each a
    child of its event's `create` span, ended when the broker has acknowledged (or failed)."""
    if _tracer is None:
        return _OFF
    return _send_spans(rows, service)


@contextlib.contextmanager
def _send_spans(rows: Sequence[tuple[str, Envelope]], service: str) -> Iterator[None]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    assert _tracer is not None

    spans = [
        _tracer.start_span(
            f"send {topic}",
            context=_parent(env.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={
                SERVICE_ATTR: service,
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "messaging.message.id": env.id,
            },
        )
        for topic, env in rows
        if env.traceparent
    ]
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
        raise
    finally:
        for span in spans:
            span.end()


def _parent(traceparent: str | None) -> Any:
    return _propagator().extract({"traceparent": traceparent or ""})


@functools.cache
def _propagator() -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


def sample_ratio(env: dict[str, str] | os._Environ[str] = os.environ) -> float:
    """The share of traces recorded: OpenTelemetry's `OTEL_TRACES_SAMPLER_ARG`, 1.0 by default.
    Unsampled requests cost far less than sampled ones (README: Tracing)."""
    try:
        return min(1.0, max(0.0, float(env.get("OTEL_TRACES_SAMPLER_ARG", "") or 1.0)))
    except ValueError:
        return 1.0


def _root_sampler(ratio: float) -> Any:
    """For spans without a parent: a request's server span or an event's `create` span starts a
    trace (`ratio` of them, by trace id); a database span alone (a background loop's poll, the
    relay's claim) does not. Spans with a parent follow it (ParentBased), across services too."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, TraceIdRatioBased

    by_ratio = TraceIdRatioBased(ratio)

    class RootSampler(Sampler):
        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> Any:
            if attributes and ("db.system" in attributes or "db.system.name" in attributes):
                return SamplingResult(Decision.DROP, attributes)
            return by_ratio.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"LawlineRoot(drop parentless database spans, {by_ratio.get_description()})"

    return RootSampler()
