"""Scale of the data: 1 M work orders with their timelines in an intake database (COPY via
asyncpg, realistic distributions), then the p95 of the staff read endpoints through a
real intake process.

`GET /v1/work-orders/{id}` is measured always. The list/search endpoint
`GET /v1/work-orders` is probed with typical filters; a 404/405 is reported as
"not available" — never a made-up number. Bounded by count and time.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.payloads import OrderFactory
from bench.sim.arrivals import HOURLY, WEEKLY
from bench.stats import summary_ms
from libs.common import regions
from libs.common.clock import CHINA_TZ

STATUSES = [
    ("closed", 70),
    ("assigned", 9),
    ("in_progress", 8),
    ("offered", 5),
    ("received", 4),
    ("escalated", 4),
]
TIMELINE_BY_STATUS = {
    "received": ["received"],
    "offered": ["received", "offered"],
    "escalated": ["received", "escalated"],
    "assigned": ["received", "offered", "assigned"],
    "in_progress": ["received", "offered", "assigned", "in_progress"],
    "closed": ["received", "offered", "assigned", "in_progress", "closed"],
}
TEXT = {
    "received": "已受理（12348 热线），工单号 {n}",
    "offered": "已分派至{p}公共法律服务中心，等待工作人员接单",
    "escalated": "已提交上级督办",
    "assigned": "{p}公共法律服务中心工作人员已接单，将尽快与您联系",
    "in_progress": "办理中",
    "closed": "已办结，感谢您的评价",
}
ORDER_COLS = [
    "id", "number", "channel", "status", "service_type", "domain", "region_code", "county_code",
    "requester_name", "requester_phone", "description", "special_groups", "urgency", "channel_details",
    "created_at", "updated_at",
]  # fmt: skip
TIMELINE_COLS = ["work_order_id", "at", "kind", "text", "public", "source_event_id", "data"]


def generate(n: int, seed: int = 1_000_000, days: int = 730):
    """Yield (order_row, timeline_rows) for n orders created over the last `days` days."""
    rng = random.Random(seed)
    factory = OrderFactory(seed)
    people = [(factory.name(), factory.phone()) for _ in range(50_000)]
    texts = factory.samples
    county_names = {c.code: c.name for c in regions.counties()}
    codes = factory.regions
    statuses = [s for s, w in STATUSES for _ in range(w)]
    hours = [h for h, w in enumerate(HOURLY) for _ in range(int(w * 20))]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    per_day: dict[str, int] = {}
    channels = ("web", "hotline", "counter", "external")
    for _ in range(n):
        while True:  # weekday profile by rejection
            day = end - timedelta(days=rng.randrange(days))
            if rng.random() < WEEKLY[day.weekday()] / max(WEEKLY):
                break
        created = day.replace(hour=rng.choice(hours)) + timedelta(seconds=rng.randrange(3600))
        key = f"{created:%Y%m%d}"
        seq = per_day.get(key, 0) + 1
        per_day[key] = seq
        number = f"LW{key}{seq:06d}"
        region = rng.choice(codes)
        county = region[:6]
        name, phone = rng.choice(people)
        text, service = rng.choice(texts)
        status = rng.choice(statuses)
        oid = uuid.UUID(int=rng.getrandbits(128), version=4)
        kinds = TIMELINE_BY_STATUS[status]
        at = created
        timeline = []
        for k in kinds:
            timeline.append((oid, at, k, TEXT[k].format(n=number, p=county_names[county]), True, None, "{}"))
            at += timedelta(minutes=rng.randrange(1, 60 * 24))
        row = (
            oid, number, channels[rng.randrange(4)], status, service, None, region, county, name, phone, text,
            "[]", "normal", "{}", created, at,
        )  # fmt: skip
        yield row, timeline


async def load(dsn: str, n: int, *, batch: int = 50_000) -> dict:
    """COPY n orders and their timelines; returns counts and timings. Also returns a sample of ids."""
    conn = await asyncpg.connect(dsn)
    # COPY is binary: jsonb is a version byte (1) then the JSON text; json is the text.
    await conn.set_type_codec(
        "jsonb", encoder=lambda s: b"\x01" + s.encode(), decoder=lambda b: b[1:].decode(),
        schema="pg_catalog", format="binary",
    )  # fmt: skip
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=bytes.decode, schema="pg_catalog", format="binary"
    )
    # Bulk-load practice: secondary indexes are rebuilt after the COPY (same definitions, read
    # from the catalogue, so indexes added by later migrations are included), and the
    # per-row FK trigger is skipped for this session — rows are consistent by construction.
    secondary = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename IN ('work_orders', 'timeline_entries') "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    for ix in secondary:
        await conn.execute(f'DROP INDEX "{ix["indexname"]}"')
    await conn.execute("SET session_replication_role = replica")
    t0 = time.perf_counter()
    orders = timelines = 0
    sample: list[tuple[str, str, str, str]] = []  # (id, number, requester name, region code)
    rng = random.Random(7)
    try:
        rows, tl = [], []
        for row, timeline in generate(n):
            rows.append(row)
            tl.extend(timeline)
            if rng.random() < 2000 / n:
                sample.append((str(row[0]), row[1], row[8], row[6]))
            if len(rows) >= batch:
                await conn.copy_records_to_table("work_orders", records=rows, columns=ORDER_COLS)
                await conn.copy_records_to_table("timeline_entries", records=tl, columns=TIMELINE_COLS)
                orders += len(rows)
                timelines += len(tl)
                rows, tl = [], []
        if rows:
            await conn.copy_records_to_table("work_orders", records=rows, columns=ORDER_COLS)
            await conn.copy_records_to_table("timeline_entries", records=tl, columns=TIMELINE_COLS)
            orders += len(rows)
            timelines += len(tl)
        t_copy = time.perf_counter() - t0
        await conn.execute("SET session_replication_role = origin")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for ix in secondary:
            await conn.execute(ix["indexdef"])
        # VACUUM as autovacuum would after a bulk load: the visibility map lets the figures'
        # covering index answer without the heap, as it does on a database in steady use.
        await conn.execute("VACUUM ANALYZE work_orders")
        await conn.execute("ANALYZE timeline_entries")
        await conn.execute(f"SELECT setval('work_order_number_seq', {n + 1})")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    return {
        "orders": orders,
        "timeline_entries": timelines,
        "copy_s": round(t_copy, 1),
        "rebuilt_indexes": [ix["indexname"] for ix in secondary],
        "total_s": round(time.perf_counter() - t0, 1),
        "database_size": size,
        "_sample": sample,
    }


async def timed_gets(
    client: httpx.AsyncClient, paths: list[str], *, concurrency: int = 1, seconds: float = 10.0
) -> dict:
    lat: list[float] = []
    codes: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    it = iter(paths)

    async def worker() -> None:
        for path in it:
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            r = await client.get(path)
            lat.append(time.perf_counter() - t)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"latency_ms": summary_ms(lat), "statuses": codes}


def list_queries(sample: list[tuple[str, str, str, str]], now: datetime) -> dict[str, list[str]]:
    """Typical staff filters. Parameter names follow the intake list endpoint's contract."""
    rng = random.Random(3)

    def iso(t: datetime) -> str:  # UTC with Z: nothing for the query string to mangle
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    month_ago, week_ago, today = iso(now - timedelta(days=30)), iso(now - timedelta(days=7)), iso(now)
    counties = [c.code for c in regions.counties()]
    q: dict[str, list[str]] = {
        "status": [
            f"/v1/work-orders?status={s}&limit=20" for s in ("received", "offered", "escalated", "assigned")
        ],
        "county_prefix+status": [f"/v1/work-orders?region={c}&status=received&limit=20" for c in counties],
        "date_range": [f"/v1/work-orders?created_from={month_ago}&created_to={today}&limit=20"]
        + [f"/v1/work-orders?created_from={week_ago}&created_to={today}&limit=20"],
        "search_number": [f"/v1/work-orders?q={num}" for _, num, _, _ in sample[:200]],
        "search_name": [f"/v1/work-orders?q={name}&limit=20" for _, _, name, _ in sample[:200]],
    }
    return {k: [v[rng.randrange(len(v))] for _ in range(400)] for k, v in q.items()}


def _next_cursor(body: object, headers: httpx.Headers) -> str | None:
    if isinstance(body, dict):
        for key in ("next_cursor", "cursor", "next"):
            if body.get(key):
                return str(body[key])
        page = body.get("page")
        if isinstance(page, dict) and page.get("next_cursor"):
            return str(page["next_cursor"])
    link = headers.get("link", "")
    if 'rel="next"' in link:
        return link.split(";")[0].strip("<> ")
    return None


async def measure_reads(url: str, headers: dict[str, str], sample: list, *, seconds: float = 8.0) -> dict:
    out: dict[str, object] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
        ids = [f"/v1/work-orders/{s[0]}" for s in sample]
        await timed_gets(c, ids[:20], seconds=5)  # warm the connection pool and plans
        out["get_by_id"] = await timed_gets(c, ids * 3, seconds=seconds)
        out["get_by_id_4_clients"] = await timed_gets(c, ids[::-1] * 3, concurrency=4, seconds=seconds / 2)
        probe = await c.get("/v1/work-orders?limit=20")
        if probe.status_code in (404, 405):
            out["list"] = f"not available (GET /v1/work-orders → HTTP {probe.status_code})"
            return out
        lists: dict[str, object] = {}
        for name, paths in list_queries(sample, datetime.now(UTC)).items():
            first = await c.get(paths[0])
            if first.status_code != 200:
                lists[name] = f"HTTP {first.status_code}: {first.text[:200]}"
                continue
            lists[name] = await timed_gets(c, paths, seconds=seconds / 2)
        # Keyset pagination: follow the cursor 20 pages deep through the newest orders.
        lat, pages, cursor = [], 0, None
        for _ in range(20):
            path = "/v1/work-orders?limit=50" + (f"&cursor={cursor}" if cursor else "")
            if cursor and cursor.startswith(("http", "/")):
                path = cursor
            t = time.perf_counter()
            r = await c.get(path)
            lat.append(time.perf_counter() - t)
            if r.status_code != 200:
                break
            pages += 1
            cursor = _next_cursor(r.json(), r.headers)
            if not cursor:
                break
        lists["keyset_pages"] = {"pages": pages, "latency_ms": summary_ms(lat)}
        out["list"] = lists
    out["stats"] = await measure_stats(url, seconds=seconds)
    return out


def stats_queries(now: datetime) -> dict[str, list[str]]:
    """The supervisor's figures (GET /v1/stats/orders): a month and a year, city-wide and by county."""
    today = now.astimezone(CHINA_TZ).date()
    month, year = (today - timedelta(days=29)).isoformat(), (today - timedelta(days=364)).isoformat()
    counties = [c.code for c in regions.counties()]
    base = "/v1/stats/orders?date_to=" + today.isoformat()
    return {
        "month, city": [f"{base}&date_from={month}"],
        "month, one county": [f"{base}&date_from={month}&region={c}" for c in counties],
        "year, city": [f"{base}&date_from={year}"],
    }


async def measure_stats(url: str, *, seconds: float) -> dict:
    """As a city supervisor would: each request counts its range in the database."""
    from libs.common.testing.auth import token

    out: dict[str, object] = {}
    headers = {"Authorization": f"Bearer {token('supervisor', region='1404')}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as c:
        for name, paths in stats_queries(datetime.now(UTC)).items():
            first = await c.get(paths[0])
            if first.status_code != 200:
                out[name] = f"HTTP {first.status_code}: {first.text[:200]}"
                continue
            out[name] = await timed_gets(c, paths * 50, seconds=seconds / 3)
            out[name]["orders_counted"] = first.json()["totals"]["orders"]  # type: ignore[index]
    return out
