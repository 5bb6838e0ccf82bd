"""Delivery under faults: a burst of orders from a correctly retrying client, one fault in the
middle of it, and a check that trusts no hop — every acknowledged order stored once in intake,
routed exactly once by dispatch (one decision, never two live offers) and folded back into its
timeline, and how long that took after the fault was repaired.

The stack is real and its parts are separate processes (bench.stack): embedded PostgreSQL,
the Tansu broker (memory only: restarted, it comes back EMPTY), intake and dispatch as uvicorn
subprocesses, so a fault is a real `kill -9`. The client retries what a client should retry —
connection errors, timeouts, 5xx, 503 — with the same Idempotency-Key, until it gets its 201.

`python -m bench.chaos` (`make chaos`): the full size (1,000 orders at 10/s, every fault) into
bench/results/chaos.{md,json}; tests/faults runs a smaller burst of each fault in `make test`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench.delivery_check import Outcome, send_burst, settle
from bench.stack import Stack, start
from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres

# Settings that make the repair paths fast enough to measure in minutes, not the production
# defaults (broker checked every 2 s, reconciliation after 2 minutes).
FAST = {
    "LAWLINE_BROKER_CHECK_SECONDS": "1",
    "LAWLINE_INTAKE_RECONCILE_AFTER_SECONDS": "20",
    "LAWLINE_INTAKE_RECONCILE_BACKOFF_SECONDS": "20",
    "LAWLINE_INTAKE_RECONCILE_INTERVAL_SECONDS": "5",
    "LAWLINE_READY_CONSUMER_SECONDS": "10",
}


@dataclass
class ChaosStack:
    stack: Stack
    ports: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=lambda: dict(FAST))

    @property
    def intake_url(self) -> str:
        return self.stack.procs["intake"].url

    async def start_services(self) -> None:
        intake_url = await self.stack.database("chaos_intake", "intake", seed=True)
        dispatch_url = await self.stack.database("chaos_dispatch", "dispatch", seed=True)
        conn = await asyncpg.connect(self.stack.dsn("chaos_dispatch"))
        try:  # a burst measures delivery, not "everyone is at capacity"
            await conn.execute("UPDATE staff SET capacity = 1000000")
        finally:
            await conn.close()
        # Identity too: after the broker comes back empty, it is what a restarted service learns
        # its credentials from (libs.common.apikeys).
        identity_url = await self.stack.database("chaos_identity", "identity", seed=True)
        self.stack.db_urls.update(intake=intake_url, dispatch=dispatch_url, identity=identity_url)
        for name in ("identity", "intake", "dispatch"):
            self.start(name)
        for name in ("identity", "intake", "dispatch"):
            await self.stack.ready(self.stack.procs[name], timeout=120)

    def start(self, name: str) -> None:
        proc = self.stack.start_service(
            name, self.stack.db_urls[name], port=self.ports.get(name), env=self.env
        )
        self.ports[name] = int(proc.url.rsplit(":", 1)[1])

    # ---- faults --------------------------------------------------------------------------
    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        proc = self.stack.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, sig)
        proc.popen.wait(30)

    async def restart(self, name: str) -> None:
        self.start(name)
        await self.stack.ready(self.stack.procs[name], timeout=120)

    def kill_broker(self) -> None:
        broker = self.stack.broker
        assert broker.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(broker.process.pid, signal.SIGKILL)
        broker.process.wait(10)
        broker.process = None

    def restart_broker(self) -> None:
        old = self.stack.broker
        self.stack.broker = EmbeddedBroker(old.port, log_path=old.log_path).start()

    def kill_postgres(self) -> None:
        pg = self.stack.pg
        pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):  # its backends notice the postmaster's death and exit
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 0)
                time.sleep(0.05)
                continue
            break

    def restart_postgres(self) -> None:
        pg = self.stack.pg
        self.stack.pg = EmbeddedPostgres(pg.data_dir, pg.port).start()

    def stop(self) -> None:
        self.stack.stop()


@dataclass(frozen=True)
class Fault:
    name: str
    label: str  # as the README table shows it
    inject: Callable[[ChaosStack], Awaitable[None]]


async def _broker(cs: ChaosStack) -> None:
    cs.kill_broker()
    await asyncio.sleep(5)
    cs.restart_broker()


async def _postgres(cs: ChaosStack) -> None:
    cs.kill_postgres()
    await asyncio.sleep(9)
    await asyncio.to_thread(cs.restart_postgres)


def _service(name: str, sig: signal.Signals) -> Callable[[ChaosStack], Awaitable[None]]:
    async def inject(cs: ChaosStack) -> None:
        cs.kill(name, sig)
        await asyncio.sleep(2)
        await cs.restart(name)

    return inject


FAULTS = {
    f.name: f
    for f in (
        Fault("broker_kill9", "broker `kill -9`, restarted after 5 s (comes back empty)", _broker),
        Fault("postgres_kill9", "PostgreSQL `kill -9`, back after 9 s", _postgres),
        Fault("intake_kill9", "intake `kill -9`, restarted", _service("intake", signal.SIGKILL)),
        Fault("dispatch_kill9", "dispatch `kill -9`, restarted", _service("dispatch", signal.SIGKILL)),
        Fault("dispatch_sigterm", "dispatch SIGTERM, restarted", _service("dispatch", signal.SIGTERM)),
    )
}


@dataclass
class Row:
    fault: str
    label: str
    sent: int
    acknowledged: int
    retried: int
    statuses: dict[int, int]
    outcome: Outcome
    recovered_after_s: float  # from the end of the fault's repair to the last order through
    caught_up_s: float  # from the burst's last acknowledgement to the last order through
    serving_after_s: float | None  # from the repair to intake's next 201
    healthy_after_s: float  # from the repair to the last /readyz that was red
    dead_letters: int  # dead-lettered during this fault's run (the stack is shared by the faults)
    noticed: dict[str, list[str]] = field(default_factory=dict)  # service -> /readyz checks that went red
    red_s: dict[str, float] = field(default_factory=dict)  # service -> seconds /readyz was red
    dead_letter_errors: list[str] = field(default_factory=list)  # what each new dead letter said


async def run_fault(
    cs: ChaosStack, fault: Fault, *, n: int, rate: float, settle_timeout: float = 240.0
) -> Row:
    from libs.common.testing.auth import auth

    run = f"{fault.name}-{uuid.uuid4().hex[:6]}"
    letters_before = set(await dead_letters(cs))
    watching = ReadyWatch(cs)
    watching.start()
    sending = asyncio.create_task(send_burst(cs.intake_url, auth("operator"), n=n, rate=rate, run=run))
    await asyncio.sleep(n / rate / 3)  # a third of the burst is in flight
    await fault.inject(cs)
    repaired = time.monotonic()
    burst = await sending
    outcome, _ = await settle(cs, burst, timeout=settle_timeout)
    through = time.monotonic()
    await asyncio.sleep(2.0)  # /readyz a moment longer: is everything green again?
    await watching.stop()
    after = [t - repaired for t in burst.acked_at if t >= repaired]
    new_letters = [d for d in await dead_letters(cs) if d not in letters_before]
    last_ack = max(burst.acked_at, default=repaired)
    return Row(
        fault.name,
        fault.label,
        n,
        len(burst.acknowledged),
        burst.retried,
        burst.statuses,
        outcome,
        round(through - repaired, 1),
        round(max(0.0, through - last_ack), 1),
        round(min(after), 2) if after else None,
        round(max(0.0, watching.last_red - repaired), 1),
        len(new_letters),
        {k: sorted(v) for k, v in watching.failed.items()},
        {k: round(v, 1) for k, v in watching.red.items()},
        new_letters,
    )


class ReadyWatch:
    """Polls every service's /readyz twice a second during a run: did lawline notice, and what."""

    def __init__(self, cs: ChaosStack) -> None:
        self.cs = cs
        self.failed: dict[str, set[str]] = {}
        self.red: dict[str, float] = {}
        self.last_red = 0.0  # monotonic time of the last red answer
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                started = time.monotonic()
                for name in ("intake", "dispatch"):
                    port = self.cs.ports.get(name)
                    try:
                        r = await client.get(f"http://127.0.0.1:{port}/readyz")
                        bad = (
                            [k for k, v in r.json()["checks"].items() if v != "ok"]
                            if r.status_code != 200
                            else []
                        )
                    except (httpx.HTTPError, ValueError):
                        bad = ["process down"]
                    if bad:
                        self.failed.setdefault(name, set()).update(bad)
                        self.red[name] = self.red.get(name, 0.0) + 0.5
                        self.last_red = time.monotonic()
                await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - started)))


async def dead_letters(cs: ChaosStack) -> list[str]:
    """Every dead letter in intake's and dispatch's databases, each as one line naming its
    database, id, consumer, event type and error: a red run says what went wrong."""
    found: list[str] = []
    for db in ("chaos_intake", "chaos_dispatch"):
        conn = await asyncpg.connect(cs.stack.dsn(db))
        try:
            rows = await conn.fetch("SELECT id, consumer, event_type, error FROM dead_letters ORDER BY id")
        finally:
            await conn.close()
        found += [f"{db}#{r['id']} {r['consumer']} {r['event_type']}: {r['error'][:300]}" for r in rows]
    return found


async def open_stack() -> ChaosStack:
    cs = ChaosStack(start())
    try:
        await cs.start_services()
    except BaseException:
        cs.stop()
        raise
    return cs


RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
MARK_START, MARK_END = "<!-- chaos:start -->", "<!-- chaos:end -->"


def table(rows: list[Row], *, n: int, rate: float, when: str) -> str:
    lines = [
        f"`make chaos` ({when}): {n} orders at {rate:g}/s per fault from a client retrying with the same "
        "Idempotency-Key; the fault a third of the way in.",
        "",
        "| fault during the burst | acknowledged 201 | stored once | routed once | folded into timeline "
        "| lost | duplicated | last order through, after the burst's last 201 | intake serving after the repair "
        "| noticed by lawline (/readyz red, total) | all green after the repair |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        o = r.outcome
        noticed = "; ".join(
            f"{svc} {r.red_s.get(svc, 0):g} s ({', '.join(checks)})"
            for svc, checks in sorted(r.noticed.items())
        )
        lines.append(
            f"| {r.label} | {r.acknowledged}/{r.sent} | {o.stored} | {o.routed - o.double_routed} | {o.folded} "
            f"| **{o.lost}** | {o.duplicated} | {r.caught_up_s:g} s "
            f"| {f'{r.serving_after_s:g} s' if r.serving_after_s is not None else 'never stopped'} "
            f"| {noticed or 'not red'} | {r.healthy_after_s:g} s |"
        )
    return "\n".join(lines)


def write_results(rows: list[Row], *, n: int, rate: float) -> str:
    import dataclasses
    from datetime import UTC, datetime

    import orjson

    when = datetime.now(UTC).isoformat(timespec="minutes")
    md = table(rows, n=n, rate=rate, when=when)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.md").write_text(f"# Delivery under faults\n\n{md}\n", encoding="utf-8")
    data = {"when": when, "orders": n, "rate": rate, "rows": [dataclasses.asdict(r) for r in rows]}
    (RESULTS / "chaos.json").write_bytes(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )
    text = README.read_text(encoding="utf-8")
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        README.write_text(f"{head}{MARK_START}\n{md}\n{MARK_END}{tail}", encoding="utf-8")
    return md


async def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--faults", nargs="*", default=list(FAULTS), choices=list(FAULTS))
    args = parser.parse_args(argv)
    cs = await open_stack()
    rows = []
    try:
        for name in args.faults:
            row = await run_fault(cs, FAULTS[name], n=args.orders, rate=args.rate, settle_timeout=600)
            print(row, flush=True)
            rows.append(row)
    finally:
        cs.stop()
    print(write_results(rows, n=args.orders, rate=args.rate))
    return 0 if all(r.outcome.complete for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
