"""Intake throughput against the machine's raw ceiling, in the same run.

lawline: N concurrent HTTP/1.1 keep-alive clients POST varied orders for T seconds.
raw:     N asyncpg connections run, per order, exactly the statements intake's
         transaction runs — nextval of the order-number sequence, INSERT work order,
         INSERT timeline entry, INSERT outbox row (the same CloudEvent JSON), NOTIFY —
         against a database with the intake schema (same indexes) on the same server.
Both loops are bounded by T seconds; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

import aiohttp
import asyncpg
import orjson

from bench.payloads import OrderFactory
from bench.stats import summary_ms
from libs.common import regions
from libs.common.events import intake as ev
from libs.common.events.envelope import make_event
from libs.common.events.topics import WORKORDER, topic
from libs.common.pii import mask_phone, mask_text


def json_dumps(obj: object) -> str:
    return orjson.dumps(obj).decode()


def process_cpu_s(pid: int | None) -> float | None:
    """user + system CPU seconds of a process (and its reaped children) from /proc."""
    if pid is None:
        return None
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime


def tree_cpu_s(root: int | None) -> float | None:
    """CPU seconds of a process and all its live descendants (PostgreSQL's postmaster and
    its backends, say), from /proc — reaped children are in the parent's cutime/cstime."""
    if root is None:
        return None
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += process_cpu_s(pid) or 0.0
        todo.extend(children.get(pid, ()))
    return total


def postmaster_pid(data_dir: str | os.PathLike) -> int | None:
    try:
        return int(open(os.path.join(data_dir, "postmaster.pid")).readline())
    except (OSError, ValueError):
        return None


async def http_load(
    url: str,
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    seed: int = 1,
    server_pid: int | None = None,
    other_pids: dict[str, int] | None = None,
) -> dict:
    """`other_pids`: processes whose CPU per order is reported too (dispatch routes the same
    orders meanwhile, on the same cores)."""
    factory = OrderFactory(seed)
    others = other_pids or {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    sent = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base_url=url, headers=headers, connector=connector, timeout=timeout, json_serialize=json_dumps
    ) as client:
        start = time.perf_counter()
        cpu0 = process_cpu_s(server_pid)
        others0 = {k: process_cpu_s(p) for k, p in others.items()}
        own0 = time.process_time()
        measure_from = start + warmup
        deadline = measure_from + seconds

        async def worker() -> None:
            nonlocal sent
            while (now := time.perf_counter()) < deadline:
                sent += 1
                body = factory.order()
                try:
                    async with client.post("/v1/work-orders", json=body) as r:
                        text = await r.text()
                    code = str(r.status)
                    if r.status != 201 and len(errors) < 5:
                        errors.append(text[:300])
                except (aiohttp.ClientError, TimeoutError) as exc:
                    code = type(exc).__name__
                done = time.perf_counter()
                if now >= measure_from and done <= deadline:
                    statuses[code] = statuses.get(code, 0) + 1
                    if code == "201":
                        latencies.append(done - now)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu1 = process_cpu_s(server_pid)
        others1 = {k: process_cpu_s(p) for k, p in others.items()}
        own = time.process_time() - own0
    ok = statuses.get("201", 0)
    server_cpu = (
        round((cpu1 - cpu0) / sent * 1000, 3) if cpu0 is not None and cpu1 is not None and sent else None
    )
    return {
        # CPU the intake process spent per request (incl. its relay): robust to a busy machine.
        "server_cpu_ms_per_order": server_cpu,
        # The load generator's own CPU (it shares the machine's cores with the system under test).
        "client_cpu_ms_per_order": round(own / sent * 1000, 3) if sent else None,
        "other_cpu_ms_per_order": {
            k: round((others1[k] - others0[k]) / sent * 1000, 3)
            for k in others
            if sent and others0[k] is not None and others1[k] is not None
        },
        "concurrency": concurrency,
        "seconds": seconds,
        "orders_per_s": round(ok / seconds, 1),
        "latency_ms": summary_ms(latencies),
        "statuses": statuses,
        "errors": sum(v for k, v in statuses.items() if k != "201"),
        "error_samples": errors,
    }


def combine(runs: list[dict]) -> dict:
    """Several equal-length rounds as one: orders/s averaged, latency percentiles of the
    first round's shape are not mergeable, so the worst round's are kept (conservative)."""
    out = dict(runs[-1])
    out["seconds"] = sum(r["seconds"] for r in runs)
    out["orders_per_s"] = round(sum(r["orders_per_s"] * r["seconds"] for r in runs) / out["seconds"], 1)
    out["latency_ms"] = max((r["latency_ms"] for r in runs), key=lambda m: m.get("p99", 0))
    for key in ("errors",):
        if key in runs[0]:
            out[key] = sum(r[key] for r in runs)
    if "statuses" in runs[0]:
        merged: dict[str, int] = {}
        for r in runs:
            for k, v in r["statuses"].items():
                merged[k] = merged.get(k, 0) + v
        out["statuses"] = merged
    cpus = [r.get("server_cpu_ms_per_order") for r in runs if r.get("server_cpu_ms_per_order")]
    if cpus:
        out["server_cpu_ms_per_order"] = round(sum(cpus) / len(cpus), 3)
    return out


def raw_rows(n: int, seed: int = 1) -> list[tuple]:
    """Pre-built rows with the same values and sizes intake writes (built outside the timed loop)."""
    factory = OrderFactory(seed)
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        o = factory.order()
        region = regions.lookup(o["region_code"])
        assert region is not None
        oid = uuid.uuid4()
        payload = ev.WorkOrderCreatedV1(
            work_order_id=str(oid),
            number="LW20261124000001",
            channel=o["channel"],
            service_type=o["service_type"],
            region_code=region.code,
            county_code=region.county_code,
            requester_name=o["requester"]["name"],
            requester_phone_masked=mask_phone(o["requester"]["phone"]),
            description=mask_text(o["description"]),
            created_at=now,
        )
        event = make_event(ev.WORKORDER_CREATED, source=ev.SOURCE, subject=str(oid), payload=payload)
        out.append((o, region.code, region.county_code, orjson.dumps(event.to_json()).decode()))
    return out


INSERT_ORDER = (
    "INSERT INTO work_orders (id, number, channel, status, service_type, domain, region_code, county_code, "
    "requester_name, requester_phone, description, special_groups, urgency, channel_details, created_at, "
    "updated_at) VALUES ($1, $2, $3, 'received', $4, NULL, $5, $6, $7, $8, $9, '[]'::jsonb, 'normal', "
    "'{}'::jsonb, $10, $10)"
)
INSERT_TIMELINE = (
    "INSERT INTO timeline_entries (work_order_id, at, kind, text, public, source_event_id, data) "
    "VALUES ($1, $2, 'received', $3, true, NULL, '{}'::json)"
)
INSERT_OUTBOX = "INSERT INTO outbox (event_id, topic, key, event) VALUES ($1, $2, $3, $4::jsonb)"


async def raw_load(dsn: str, *, concurrency: int, seconds: float, warmup: float = 1.0) -> dict:
    rows = raw_rows(2000)
    out_topic = topic(WORKORDER)
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    counted = 0
    try:
        start = time.perf_counter()
        measure_from = start + warmup
        deadline = measure_from + seconds

        async def worker(offset: int) -> None:
            nonlocal counted
            i = offset
            async with pool.acquire() as conn:
                while (now := time.perf_counter()) < deadline:
                    o, region_code, county_code, event = rows[i % len(rows)]
                    i += concurrency
                    oid, at = uuid.uuid4(), datetime.now(UTC)
                    async with conn.transaction():
                        seq = await conn.fetchval("SELECT nextval('work_order_number_seq')")
                        number = f"LW{at:%Y%m%d}{seq % 1_000_000:06d}"
                        await conn.execute(
                            INSERT_ORDER, oid, number, o["channel"], o["service_type"], region_code, county_code,
                            o["requester"]["name"], o["requester"]["phone"], o["description"], at,
                        )  # fmt: skip
                        await conn.execute(INSERT_TIMELINE, oid, at, f"已受理，工单号 {number}")
                        await conn.execute(INSERT_OUTBOX, str(uuid.uuid4()), out_topic, county_code, event)
                        await conn.execute("NOTIFY outbox_intake")
                    done = time.perf_counter()
                    if now >= measure_from and done <= deadline:
                        counted += 1
                        latencies.append(done - now)

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    finally:
        await pool.close()
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "orders_per_s": round(counted / seconds, 1),
        "latency_ms": summary_ms(latencies),
    }


async def wait_drained(intake_dsn: str, dispatch_dsn: str | None, timeout: float = 90.0) -> dict:
    """Wait until intake's outbox is published and dispatch stopped routing (bounded)."""
    deadline = time.monotonic() + timeout
    last = -1
    stable = 0
    ci = await asyncpg.connect(intake_dsn)
    cd = await asyncpg.connect(dispatch_dsn) if dispatch_dsn else None
    try:
        while time.monotonic() < deadline:
            pending = await ci.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            routed = await cd.fetchval("SELECT count(*) FROM inbox") if cd else 0
            stable = stable + 1 if (pending == 0 and routed == last) else 0
            last = routed
            if stable >= 3:
                return {"drained": True, "routed": routed}
            await asyncio.sleep(0.5)
        return {"drained": False, "pending": pending, "routed": last}
    finally:
        await ci.close()
        if cd:
            await cd.close()


async def service_load(db_url: str, *, concurrency: int, seconds: float, warmup: float = 1.0) -> dict:
    """The intake use case without HTTP: services.intake.create.create_work_order in the
    caller-owned transaction, through libs.common.db's engine — separates the web layer's
    cost from the data layer's. Runs in this process (no relay, no consumers)."""
    from libs.common import db
    from libs.common.auth import Principal
    from libs.common.clock import Clock
    from services.intake import create
    from services.intake.schemas import WorkOrderCreate

    factory = OrderFactory(3)
    bodies = [WorkOrderCreate.model_validate(factory.order()) for _ in range(2000)]
    engine = db.make_engine(db_url, pool_size=concurrency)
    sessions = db.make_sessionmaker(engine)
    clock = Clock()
    # The same caller the HTTP rounds use: a city operator (jurisdiction 长治, 1404).
    who = Principal(sub="bench", kind="staff", roles=frozenset({"operator"}), region="1404")
    latencies: list[float] = []
    counted = total = 0
    try:
        start = time.perf_counter()
        cpu0 = time.process_time()
        measure_from = start + warmup
        deadline = measure_from + seconds

        async def worker(offset: int) -> None:
            nonlocal counted, total
            i = offset
            while (now := time.perf_counter()) < deadline:
                total += 1
                body = bodies[i % len(bodies)]
                i += concurrency
                async with sessions() as session, session.begin():
                    await create.create_work_order(session, data=body, now=clock.now(), who=who)
                done = time.perf_counter()
                if now >= measure_from and done <= deadline:
                    counted += 1
                    latencies.append(done - now)

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        cpu = time.process_time() - cpu0
    finally:
        await engine.dispose()
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "orders_per_s": round(counted / seconds, 1),
        "latency_ms": summary_ms(latencies),
        # CPU of this process per order: robust to other load on a shared machine.
        "python_cpu_ms_per_order": round(cpu / total * 1000, 3) if total else None,
    }
