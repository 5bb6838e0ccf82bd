"""Dispatch's new-order path in isolation: CPU, wall time and database round trips per
routed order, without HTTP, Kafka or intake in the way.

`python -m bench.dispatch_path [--orders N] [--concurrency C]` starts an embedded
PostgreSQL under /tmp, migrates and seeds the dispatch database (the 长治 demo network),
then feeds N workorder.created events (the e2e bench's order mix) through
`service.route_new_order`, each in its own transaction — what the inbox handler does.
Round trips are counted at the driver (every statement, BEGIN and COMMIT included); CPU
is this process's only, so PostgreSQL's own work is not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import event

from bench.payloads import OrderFactory
from bench.stats import summary_ms
from libs.common import regions
from libs.common.clock import CHINA_TZ
from libs.common.db import make_engine, make_sessionmaker
from libs.common.embedded import EmbeddedPostgres, create_database, free_port
from libs.common.events import intake
from libs.common.events.envelope import Envelope, make_event
from libs.common.handlers import parse
from libs.common.migrate import upgrade_async
from libs.common.seed import seed_service
from services.dispatch import service

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)  # most of the network on duty


def created_events(n: int, seed: int = 2) -> list[Envelope]:
    factory = OrderFactory(seed)
    out = []
    for i in range(n):
        body = factory.order()
        county = regions.county_of(body["region_code"]) or body["region_code"][:6]
        payload = intake.WorkOrderCreatedV1(
            work_order_id=str(uuid.uuid4()),
            number=f"LWB{i:06d}",
            channel=body["channel"],
            service_type=body["service_type"],
            region_code=body["region_code"],
            county_code=county,
            requester_name=body["requester"]["name"],
            description=body["description"],
            created_at=TUESDAY_10,
        )
        out.append(make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=payload))
    return out


async def measure(url: str, orders: int, concurrency: int) -> dict:
    engine = make_engine(url, pool_size=max(concurrency, 2))
    statements = 0

    def count(*_a) -> None:  # type: ignore[no-untyped-def]
        nonlocal statements
        statements += 1

    # Counted at the driver: statements SQLAlchemy sends and those libs/common/fastsql.py
    # sends past it, BEGIN and COMMIT included.
    event.listen(
        engine.sync_engine, "connect", lambda dbapi, _rec: dbapi.driver_connection.add_query_logger(count)
    )
    sessions = make_sessionmaker(engine)
    events = created_events(orders + 20)
    warm, timed = events[:20], events[20:]
    latencies: list[float] = []

    async def route(ev: Envelope) -> None:
        t = time.perf_counter()
        async with sessions() as session, session.begin():
            await service.route_new_order(
                session, event=ev, data=parse(intake.WorkOrderCreatedV1, ev), now=TUESDAY_10
            )
        latencies.append(time.perf_counter() - t)

    try:
        for ev in warm:  # connections, caches, statement preparation
            await route(ev)
        latencies.clear()
        statements = 0
        queue = list(timed)
        cpu0, wall0 = time.process_time(), time.perf_counter()

        async def worker() -> None:
            while queue:
                await route(queue.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        await engine.dispose()
    return {
        "orders": orders,
        "concurrency": concurrency,
        "orders_per_s": round(orders / wall, 1),
        "python_cpu_ms_per_order": round(cpu / orders * 1000, 3),
        "round_trips_per_order": round(statements / orders, 2),
        "latency_ms": summary_ms(latencies),
    }


async def prepare_and_measure(server_url: str, orders: int, concurrency: int) -> dict:
    await create_database(server_url, "bench_dpath", drop=True)
    url = server_url.rsplit("/", 1)[0] + "/bench_dpath"
    await upgrade_async("dispatch", url)
    await seed_service("dispatch", url)
    return await measure(url, orders, concurrency)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lawline-dpath-"))
    tmp.chmod(0o755)  # postgres runs as an unprivileged user when we are root
    pg = EmbeddedPostgres(tmp / "pg", free_port()).start()
    try:
        result = asyncio.run(prepare_and_measure(pg.url, args.orders, args.concurrency))
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
