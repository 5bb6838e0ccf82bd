"""Measure the staff list at scale: fill a scratch intake database with N synthetic orders
(SQL generate_series, seconds not minutes) and time the list queries the API runs.

    python -m services.intake.tools.bench_list postgresql+asyncpg://postgres@127.0.0.1:5432/intake_bench 1000000

The database must exist; it is migrated to head and filled if it has fewer than N orders.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from libs.common import regions
from libs.common.auth import Principal
from libs.common.db import make_engine, make_sessionmaker
from libs.common.migrate import upgrade_async
from libs.common.orm import table_of
from services.intake import queries
from services.intake.models import WorkOrder
from services.intake.validation import DOMAINS, SERVICE_TYPES, SPECIAL_GROUPS

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

FILL = """
INSERT INTO work_orders (id, number, channel, status, service_type, domain, region_code, county_code,
  requester_name, requester_phone, description, special_groups, urgency, channel_details, classification,
  due_at, created_at, updated_at, callback_required, dispatched, urge_count)
SELECT gen_random_uuid(),
  'LW' || to_char(ts, 'YYYYMMDD') || lpad((g % 1000000)::text, 6, '0') || g,
  (ARRAY['web','hotline','counter','external'])[1 + g % 4],
  (ARRAY['received','offered','assigned','in_progress','closed','closed','closed','closed','merged'])[1 + g % 9],
  (CAST(:types AS text[]))[1 + (g * 7) % CAST(:ntypes AS int)],
  (CAST(:domains AS text[]))[1 + (g * 13) % CAST(:ndomains AS int)],
  code, left(code, 6),
  (ARRAY['王','李','张','刘','陈','杨','赵','黄'])[1 + g % 8] || (ARRAY['秀英','建国','丽','强','敏','军','芳','伟'])[1 + (g / 8) % 8] || (g % 97),
  '13' || lpad((g % 1000000000)::text, 9, '0'),
  '合成数据', CASE WHEN g % 10 = 0 THEN jsonb_build_array((CAST(:groups AS text[]))[1 + g % CAST(:ngroups AS int)]) ELSE '[]'::jsonb END,
  'normal', '{}'::jsonb, '{}'::jsonb,
  ts + interval '7 days', ts, ts, true, true, 0
FROM (SELECT g, CAST(:now AS timestamptz) - (g * interval '31 seconds') AS ts, c.code
      FROM generate_series(CAST(:start AS int), CAST(:stop AS int)) g
      JOIN bench_codes c ON c.i = (g * 31) % CAST(:ncodes AS int)) s
"""


async def fill(url: str, n: int) -> None:
    await upgrade_async("intake", url)
    engine = make_engine(url)
    codes = [r.code for r in regions.demo_regions().values() if r.level in ("county", "township", "village")]
    async with engine.begin() as conn:
        have = await conn.scalar(text("SELECT count(*) FROM work_orders"))
    step = 250_000
    if have >= n:
        await engine.dispose()
        return
    # Bulk load without the secondary indexes, then build them once (minutes → seconds).
    secondary = list(table_of(WorkOrder).indexes)
    async with engine.begin() as conn:
        for ix in secondary:
            await conn.execute(text(f"DROP INDEX IF EXISTS {ix.name}"))
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_codes"))
        await conn.execute(text("CREATE TABLE bench_codes (i int PRIMARY KEY, code text)"))
        await conn.execute(
            text(
                "INSERT INTO bench_codes SELECT o - 1, c FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS t(c, o)"
            ),
            {"codes": codes},
        )
    for start in range(have + 1, n + 1, step):
        async with engine.begin() as conn:
            await conn.execute(
                text(FILL),
                {
                    "ncodes": len(codes),
                    "types": list(SERVICE_TYPES),
                    "ntypes": len(SERVICE_TYPES),
                    "domains": list(DOMAINS),
                    "ndomains": len(DOMAINS),
                    "groups": list(SPECIAL_GROUPS),
                    "ngroups": len(SPECIAL_GROUPS),
                    "now": NOW,
                    "start": start,
                    "stop": min(start + step - 1, n),
                },
            )
        print(f"filled up to {min(start + step - 1, n)}", flush=True)
    async with engine.begin() as conn:
        await conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for ix in secondary:
            await conn.run_sync(ix.create)
        await conn.execute(text("ANALYZE work_orders"))
    await engine.dispose()


SHAPES: dict[str, dict[str, Any]] = {
    "newest, whole city": {},
    "county jurisdiction": {"who": "140430"},
    "status=received": {"status": ["received"]},
    "type=legal_aid, county": {"service_type": "legal_aid", "who": "140426"},
    "domain=labor, region 14043000": {"domain": "labor", "region": "14043000"},
    "overdue": {"overdue": True},
    "special group=disabled": {"special_group": "disabled"},
    "name search 王秀英": {"q": "王秀英"},
    "rare name 赵芳96": {"q": "赵芳96"},
    "one village": {"region": "140430001001"},
    "number prefix": {"q": "LW20261120"},
    "date range 1 week": {"created_from": NOW - timedelta(days=60), "created_to": NOW - timedelta(days=53)},
}


async def measure(url: str, runs: int = 30) -> dict[str, tuple[float, float]]:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    out = {}
    rng = random.Random(1)
    for name, shape in SHAPES.items():
        shape = dict(shape)
        who = Principal(
            sub="bench", kind="staff", roles=frozenset({"supervisor"}), region=shape.pop("who", "1404")
        )
        times = []
        for i in range(runs):
            f = queries.ListFilter(limit=50, **shape)
            async with sm() as s:
                if i % 2:  # every other run starts from a deep page (keyset: same cost)
                    at = NOW - timedelta(seconds=31 * rng.randrange(1000, 900_000))
                    f.cursor = queries.encode_cursor(at, __import__("uuid").UUID(int=0))
                t = time.perf_counter()
                await queries.list_orders(s, f=f, who=who, now=NOW)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
        print(f"{name:32s} p50 {out[name][0]:7.1f} ms   p95 {out[name][1]:7.1f} ms", flush=True)
    await engine.dispose()
    return out


async def main(url: str, n: int) -> None:
    await fill(url, n)
    await measure(url)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000))
