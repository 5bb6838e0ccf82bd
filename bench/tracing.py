"""What traces cost (#20 item 2): `python -m bench.tracing [--seconds 8] [--rounds 2]`.

1. The hooks while tracing is off (what every request and event pays by default), timed in this
   process: `make_event` (the traceparent look-up), the consumer's `tracing.consuming` and the
   relay's `tracing.sending`.
2. CPU per order of intake and dispatch (uvicorn subprocesses, read from /proc like
   bench/throughput.py) under the same HTTP load, tracing off, on, and on with 10 % of the traces
   sampled (OTEL_TRACES_SAMPLER_ARG=0.1), in alternate rounds. On, the
   spans go by OTLP http/protobuf to a receiver in this process that answers 200 and counts them
   — the exporter's encoding and sending are in the figure, a collector's work is not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import timeit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import stack as bench_stack
from bench.throughput import http_load
from libs.common import tracing
from libs.common.embedded import free_port
from libs.common.events import intake
from libs.common.events.envelope import Envelope, make_event


class _Receiver(BaseHTTPRequestHandler):
    exports = 0
    bytes = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).exports += 1
        type(self).bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def hooks_off(n: int = 200_000) -> dict[str, float]:
    """ns per call of each hook with tracing off."""
    assert not tracing.enabled()
    example = intake.WorkOrderCreatedV1.model_json_schema()["examples"][0]
    payload = intake.WorkOrderCreatedV1.model_validate(example)
    event = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=payload)
    event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    rows: list[tuple[str, Envelope]] = [("t", event)]

    def consume() -> None:
        with tracing.consuming(event, "dispatch"):
            pass

    def send() -> None:
        with tracing.sending(rows, "intake"):
            pass

    def made() -> None:
        tracing.created_traceparent(intake.WORKORDER_CREATED, "intake")

    def envelope() -> None:
        make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=payload)

    return {
        name: round(min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e9, 1)
        for name, fn in (
            ("created_traceparent", made),
            ("consuming", consume),
            ("sending_per_batch", send),
            ("make_event_whole", envelope),
        )
    }


async def load(seconds: float, rounds: int, concurrency: int) -> dict[str, object]:
    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    stack = bench_stack.start()
    modes = {
        "off": {"LAWLINE_TRACING": "0"},
        "on": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
        "on_10pct": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_SAMPLER_ARG": "0.1"},
    }
    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    try:
        await bench_stack.start_app_stack(stack)
        for _ in range(rounds):
            for mode, env in modes.items():
                for name in ("intake", "dispatch"):
                    stack.stop_service(name)
                    stack.start_service(name, stack.db_urls[name], env=env)
                for proc in stack.procs.values():
                    await stack.ready(proc)
                run = await http_load(
                    stack.procs["intake"].url,
                    stack.headers(),
                    concurrency=concurrency,
                    seconds=seconds,
                    server_pid=stack.procs["intake"].popen.pid,
                    other_pids={"dispatch": stack.procs["dispatch"].popen.pid},
                )
                results[mode].append(run)
    finally:
        stack.stop()
        receiver.shutdown()

    def mean(mode: str, pick) -> float:  # type: ignore[no-untyped-def]
        values = [pick(r) for r in results[mode] if pick(r) is not None]
        return round(sum(values) / len(values), 3) if values else float("nan")

    return {
        mode: {
            "intake_cpu_ms_per_order": mean(mode, lambda r: r["server_cpu_ms_per_order"]),
            "dispatch_cpu_ms_per_order": mean(mode, lambda r: r["other_cpu_ms_per_order"].get("dispatch")),
            "orders_per_s": mean(mode, lambda r: r["orders_per_s"]),
            "p50_ms": mean(mode, lambda r: r["latency_ms"].get("p50")),
            "errors": sum(r["errors"] for r in results[mode]),
        }
        for mode in results
    } | {"otlp_exports_received": _Receiver.exports, "otlp_bytes_received": _Receiver.bytes}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    out = {"hooks_off_ns": hooks_off()}
    out |= asyncio.run(load(args.seconds, args.rounds, args.concurrency))
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
