"""The design's floor: what the agreed architecture costs per order with no lawline code in it
(#21: can all processes together spend ≤ 8 ms of CPU per order on these two cores?).

    python -m bench.floor [rate ...]          # default 50 100 200 orders/s, 8 s each

Two bare processes stand in for intake and dispatch and do only the durable steps every order
takes through lawline (DESIGN.md: HTTP in, a transactional outbox relayed to Kafka, consumers
that de-duplicate through an inbox), with the same libraries (uvicorn, asyncpg, aiokafka) on the
same embedded PostgreSQL and Tansu, measured by the same open loop and process accounting as
`bench/e2e.py`:

- "intake": `POST /v1/work-orders` (a bare ASGI app: no validation) → ONE statement: the order
  row (the request as JSONB), its outbox row and the NOTIFY; 201. Its relay: woken by the
  NOTIFY, claims unpublished rows (`SKIP LOCKED`), produces them, marks them published, one
  transaction. Its consumer of the dispatch topic: per fetched batch one transaction of an inbox
  row and a status update per event; offsets committed at most every 50 ms. Both consumers
  pace their fetch wait as lawline's do (`libs/common/fetch_pace.py`).
- "dispatch": its consumer of the work-order topic: per batch one transaction of an inbox row
  and ONE statement for the offer row, its outbox row and the NOTIFY per event; its relay.

Nothing else: no classification, routing, duplicate search, timeline, audit log, SMS, tracing,
partition lanes or health checks. So the figures are a lower bound for lawline on this design:
the broker's and PostgreSQL's cost per order here is what any implementation of it pays.
Not part of `make bench` (a measurement for the issue, not a regression figure).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson

from bench import e2e, throughput
from bench import stack as stk
from libs.common.embedded import create_database, free_port
from libs.common.events import dispatch as dev
from libs.common.events.intake import WORKORDER_CREATED
from libs.common.events.topics import DISPATCH, PARTITIONS, WORKORDER, topic
from libs.common.fetch_pace import FetchPace
from libs.common.kafka import make_consumer, make_producer

RESULTS = Path(__file__).resolve().parent / "results" / "floor.json"
SCHEMA = """
CREATE TABLE orders (id uuid PRIMARY KEY, body jsonb NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE assignments (id uuid PRIMARY KEY, work_order_id uuid NOT NULL, staff text NOT NULL,
                          offered_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE outbox (id bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, topic text NOT NULL,
                     key text NOT NULL, type text NOT NULL, event jsonb NOT NULL, published_at timestamptz);
CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE TABLE inbox (event_id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
"""
CREATE_ORDER = """
WITH o AS (INSERT INTO orders (id, body, status) VALUES ($1, $2::jsonb, 'received')),
     e AS (INSERT INTO outbox (event_id, topic, key, type, event) VALUES ($3, $4, $5, $6, $7::jsonb) RETURNING 1)
SELECT pg_notify('outbox', '') FROM e
"""
MAKE_OFFER = """
WITH a AS (INSERT INTO assignments (id, work_order_id, staff) VALUES ($1, $2, $3)),
     e AS (INSERT INTO outbox (event_id, topic, key, type, event) VALUES ($4, $5, $6, $7, $8::jsonb) RETURNING 1)
SELECT pg_notify('outbox', '') FROM e
"""
DATABASES = {"intake": "floor_intake", "dispatch": "floor_dispatch"}


# ---- the two stand-in processes -------------------------------------------------------------
async def _relay(dsn: str, producer) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    listen = await asyncpg.connect(dsn)
    wake = asyncio.Event()
    await listen.add_listener("outbox", lambda *_: wake.set())
    while True:
        wake.clear()
        while True:
            async with pool.acquire() as c, c.transaction():
                rows = await c.fetch(
                    "SELECT id, topic, key, type, event_id, event FROM outbox WHERE published_at IS NULL "
                    "ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED"
                )
                if rows:
                    sent = [
                        await producer.send(
                            r["topic"],
                            r["event"].encode(),
                            key=r["key"].encode(),
                            headers=[("ce_type", r["type"].encode()), ("ce_id", r["event_id"].encode())],
                        )
                        for r in rows
                    ]
                    await asyncio.gather(*sent)
                    await c.execute(
                        "UPDATE outbox SET published_at = now() WHERE id = ANY($1)", [r["id"] for r in rows]
                    )
            if len(rows) < 200:
                break
        try:
            await asyncio.wait_for(wake.wait(), 5.0)
        except TimeoutError:
            pass


async def _consume(dsn: str, bootstrap: str, source: str, group: str, handle) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    consumer = make_consumer(bootstrap, [source], group)  # lawline's own settings, heartbeats included
    await consumer.start()
    # The design's fetch wait (libs/common/fetch_pace.py: 50 ms while records flow, 1 s when
    # quiet) — a mechanism of the pipeline, not lawline's business, so the idle floor is fair.
    pace = FetchPace(consumer)
    last_commit = 0.0
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=pace.poll_ms)
            pace.saw(sum(len(r) for r in batches.values()))
            for records in batches.values():
                async with pool.acquire() as c, c.transaction():
                    for r in records:
                        event_id = dict(r.headers or ()).get("ce_id", b"").decode()
                        if await c.fetchval(
                            "INSERT INTO inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
                            event_id,
                        ):
                            await handle(c, orjson.loads(r.value))
            if batches and time.monotonic() - last_commit >= 0.05:
                await consumer.commit()
                last_commit = time.monotonic()
    finally:
        await consumer.stop()


def _event(etype: str, data: dict) -> tuple[str, str, str]:
    return str(uuid.uuid4()), etype, orjson.dumps(data).decode()


async def _run_dispatch(dsn: str, bootstrap: str) -> None:
    producer = make_producer(bootstrap)
    await producer.start()

    async def offer(c: asyncpg.Connection, data: dict) -> None:
        wid = data["work_order_id"]
        eid, etype, event = _event(dev.OFFERED, {"work_order_id": wid, "staff_id": "s1"})
        await c.execute(
            MAKE_OFFER, uuid.uuid4(), uuid.UUID(wid), "s1", eid, topic(DISPATCH), wid, etype, event
        )

    await asyncio.gather(
        _relay(dsn, producer), _consume(dsn, bootstrap, topic(WORKORDER), "floor-dispatch", offer)
    )


def _intake_app(dsn: str, bootstrap: str):
    state: dict = {}

    async def folded(c: asyncpg.Connection, data: dict) -> None:
        await c.execute(
            "UPDATE orders SET status = 'offered' WHERE id = $1", uuid.UUID(data["work_order_id"])
        )

    async def respond(send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    state["pool"] = await asyncpg.create_pool(dsn, min_size=4, max_size=16)
                    producer = make_producer(bootstrap)
                    await producer.start()
                    state["tasks"] = [
                        asyncio.create_task(_relay(dsn, producer)),
                        asyncio.create_task(
                            _consume(dsn, bootstrap, topic(DISPATCH), "floor-intake", folded)
                        ),
                    ]
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    for t in state["tasks"]:
                        t.cancel()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body, more = b"", True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        if scope["path"] != "/v1/work-orders":
            await respond(send, 200, b"{}")
            return
        wid = uuid.uuid4()
        eid, etype, event = _event(WORKORDER_CREATED, {"work_order_id": str(wid)})
        async with state["pool"].acquire() as c:
            await c.execute(CREATE_ORDER, wid, body.decode(), eid, topic(WORKORDER), str(wid), etype, event)
        await respond(send, 201, orjson.dumps({"id": str(wid)}))

    return app


def _role(role: str, port: int, dsn: str, bootstrap: str) -> None:
    if role == "dispatch":
        asyncio.run(_run_dispatch(dsn, bootstrap))
        return
    import uvicorn

    uvicorn.run(
        _intake_app(dsn, bootstrap), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


# ---- the measurement ------------------------------------------------------------------------
async def _drained(dsns: dict[str, str], timeout: float = 60.0) -> None:
    conns = {n: await asyncpg.connect(d) for n, d in dsns.items()}
    try:
        last, stable, deadline = None, 0, time.monotonic() + timeout
        while time.monotonic() < deadline and stable < 3:
            now = tuple(
                [
                    await c.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    for c in conns.values()
                ]
                + [await c.fetchval("SELECT count(*) FROM inbox") for c in conns.values()]
            )
            stable = stable + 1 if (now == last and not any(now[: len(conns)])) else 0
            last = now
            await asyncio.sleep(0.2)
    finally:
        for c in conns.values():
            await c.close()


def _spawn(role: str, port: int, dsn: str, stack: stk.Stack) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(stk.ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bench.floor", "--role", role, str(port), dsn, stack.bootstrap],
        cwd=stk.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(stack.tmp / f"{role}.log", "ab"),
    )  # fmt: skip


async def _listening(url: str, procs: dict[str, subprocess.Popen], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2) as c:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs.values()):
                raise RuntimeError("a stand-in process exited at start")
            try:
                if (await c.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the intake stand-in is not listening after {timeout} s")


async def measure(rates: list[float], seconds: float = 8.0, idle_seconds: float = 20.0) -> dict:
    from libs.common.kafka import ensure_topics

    stack = stk.start()
    procs: dict[str, subprocess.Popen] = {}
    try:
        dsns = {}
        for role, name in DATABASES.items():
            await create_database(stack.server_url, name, drop=True)
            dsns[role] = stack.dsn(name)
            conn = await asyncpg.connect(dsns[role])
            await conn.execute(SCHEMA)
            await conn.close()
        await ensure_topics(stack.bootstrap, [topic(WORKORDER), topic(DISPATCH)], PARTITIONS)
        port = free_port()
        for role in DATABASES:
            procs[role] = _spawn(role, port, dsns[role], stack)
        url = f"http://127.0.0.1:{port}"
        await _listening(url, procs)
        pids = {role: p.pid for role, p in procs.items()} | {
            "postgres": throughput.postmaster_pid(stack.pg.data_dir),
            "broker": stack.broker.process.pid if stack.broker.process else None,
            "load generator": os.getpid(),
        }

        def cpu_now() -> dict[str, float]:
            return {
                n: (throughput.tree_cpu_s(pid) if n == "postgres" else throughput.process_cpu_s(pid)) or 0.0
                for n, pid in pids.items()
            }

        # Idle with nothing watching either (#21 item 3's measure, bench/idle.py): the price of
        # two processes waiting on the design's parts — consumer fetches and heartbeats, the
        # relays' LISTEN. After 5 s for the consumer groups to settle.
        await asyncio.sleep(5.0)
        bare0, t_bare = cpu_now(), time.monotonic()
        await asyncio.sleep(idle_seconds)
        bare1, bare_s = cpu_now(), time.monotonic() - t_bare
        bare = {n: round((bare1[n] - bare0[n]) / bare_s * 100, 2) for n in pids if n != "load generator"}
        print(
            f"[floor] idle, nothing watching, % of one core: {bare} = {round(sum(bare.values()), 2)}",
            flush=True,
        )
        watcher = e2e.OfferWatcher(stack.bootstrap)
        await watcher.start()
        print(
            f"[floor] warm-up: first order offered after {await e2e.warm_up(url, {}, watcher)} s", flush=True
        )
        await _drained(dsns)
        # As in bench/e2e: the stack's cost with no order but the watcher's fetches.
        idle0, t_idle = cpu_now(), time.monotonic()
        await asyncio.sleep(5.0)
        idle1, idle_s = cpu_now(), time.monotonic() - t_idle
        idle = {n: round((idle1[n] - idle0[n]) / idle_s * 100, 2) for n in pids}
        print(f"[floor] idle with the watcher, % of one core: {idle}", flush=True)
        rows = []
        for rate in rates:
            cpu0, t0 = cpu_now(), time.monotonic()
            r = await e2e.open_loop(url, {}, watcher, None, rate=rate, seconds=seconds)
            await _drained(dsns)
            cpu1, window = cpu_now(), time.monotonic() - t0
            per = (
                {n: round((cpu1[n] - cpu0[n]) / r["created"] * 1000, 2) for n in pids} if r["created"] else {}
            )
            r["cpu_ms_per_order"] = per
            r["cpu_ms_per_order_without_load_generator"] = round(
                sum(v for n, v in per.items() if n != "load generator"), 2
            )
            # What the same window would have cost with no order (mostly the watcher's fetches on
            # the broker): the floor net of measuring.
            idle_per = sum(idle[n] / 100 * window for n in pids if n != "load generator") / max(
                r["created"], 1
            )
            r["idle_ms_per_order_without_load_generator"] = round(idle_per * 1000, 2)
            print(
                f"[floor] {rate}/s: to offered p50 {r['to_offered_ms'].get('p50')} / p99 "
                f"{r['to_offered_ms'].get('p99')} ms, sent {r['achieved_send_rate']}/s, CPU ms/order {per} "
                f"= {r['cpu_ms_per_order_without_load_generator']} without the load generator, of which idle "
                f"with the watcher {r['idle_ms_per_order_without_load_generator']}",
                flush=True,
            )
            rows.append(r)
        await watcher.stop()
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": seconds,
            "idle_percent_of_one_core": idle,
            "idle_nothing_watching_percent_of_one_core": bare,
            "rates": rows,
        }
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        stack.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        _role(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    rates = [float(a) for a in sys.argv[1:]] or [50.0, 100.0, 200.0]
    out = asyncio.run(measure(rates))
    RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"[floor] → {RESULTS}")


if __name__ == "__main__":
    main()
