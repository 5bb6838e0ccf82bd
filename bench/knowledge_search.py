"""法律知识库 search at 10,000 articles (issue #19: p95 < 50 ms): `python -m bench.knowledge_search`
on its own, or the `knowledge` phase of bench/run.py.

The 136 seed articles plus synthetic ones up to N, each a seed's question, keywords and laws with
another seed's answer mixed in and a few terms from the whole vocabulary, so the index has N
different documents with the seeds' real term frequencies (the common words 工资, 用人单位, 离婚
match thousands). Then GET /v1/knowledge/search on the intake service (a uvicorn subprocess, real
PostgreSQL) with the ways callers speak, one client and four, and the SQL alone for comparison."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import UTC, date, datetime
from urllib.parse import quote

import asyncpg
import httpx

from bench.scale import timed_gets
from bench.stats import summary_ms

# How callers put it (none of these is a seed question word for word).
QUERIES = [
    "老板不给工钱",
    "包工头跑了工钱找谁要",
    "我老公打我怎么办",
    "想和老伴分开过孩子归谁",
    "被车撞了对方要赔多少钱",
    "没签合同能要双倍工资吗",
    "公司把我开除了有补偿吗",
    "儿女不给赡养费",
    "父母去世了房子怎么分",
    "邻居的水流到我家院子",
    "承包地被村里收回了",
    "房东不退押金",
    "借钱不还怎么起诉",
    "网上买的东西能退吗",
    "买到假货怎么赔",
    "干活受伤算工伤吗",
    "单位不给交社保",
    "申请法律援助要什么条件",
    "劳动仲裁时效多久",
    "判了缓刑去哪报到",
    "刚从监狱出来没工作",
    "遗嘱怎么写才有效",
    "医院不给复印病历",
    "被狗咬了谁赔",
    "对处罚决定不服怎么复议",
    "怎么申请人身安全保护令",
    "彩礼能要回来吗",
    "调解协议对方不履行",
    "律师私下收钱怎么投诉",
    "想请人来村里讲法律",
]


def _cut(rows: list[dict]) -> list[dict]:
    from services.intake.knowledge import text as kt

    return [
        {
            "q": kt.tokens(r["question"]),
            "k": kt.tokens(" ".join(r["keywords"])),
            "a": kt.tokens(r["answer"]),
            "l": kt.tokens(" ".join(c["law"] for c in r["statutes"])),
            "row": r,
        }
        for r in rows
    ]


def synthetic(n: int, seeds: list[dict], rng: random.Random) -> list[tuple]:
    """N - len(seeds) rows of kb_articles beside the seeds themselves."""
    from services.intake.knowledge import text as kt

    cut = _cut(seeds)
    vocab = sorted({t for c in cut for t in c["a"]})
    now = datetime.now(UTC)
    out = []
    for i in range(max(0, n - len(seeds))):
        base, mix = cut[i % len(cut)], cut[rng.randrange(len(cut))]
        extra = rng.sample(vocab, 3)
        head = [(base["q"] + extra[:1], "A"), (base["k"], "B")]
        doc = kt.tsvector_of([*head, (mix["a"] + extra[1:], "C"), (base["l"], "D")])
        r = base["row"]
        out.append(
            (
                uuid.uuid4(),
                f"{r['question']}（案例 {i + 1}）",
                r["answer"],
                json.dumps(r["statutes"], ensure_ascii=False),
                json.dumps(r["keywords"], ensure_ascii=False),
                r["domain"],
                r["service_type"],
                date(2026, 11, 30),
                doc,
                kt.tsvector_of(head),
                now,
            )
        )
    return out


async def load(dsn: str, n: int) -> dict:
    """The seeds are in (the seed step ran); add synthetic articles up to n."""
    from services.intake.knowledge.seed import seed_articles

    _, seeds = seed_articles()
    t0 = time.perf_counter()
    rows = synthetic(n, seeds, random.Random(19))
    built = time.perf_counter() - t0
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            """INSERT INTO kb_articles (id, version, question, answer, statutes, keywords, domain,
                   service_type, region_code, review_date, author, published, search_doc, head_doc,
                   created_at, updated_at, updated_by)
               VALUES ($1, 1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, NULL, $8, 'bench', true,
                   $9::tsvector, $10::tsvector, $11, $11, 'bench')""",
            rows,
        )
        await conn.execute("ANALYZE kb_articles")
        total = await conn.fetchval("SELECT count(*) FROM kb_articles WHERE published")
    finally:
        await conn.close()
    return {"articles": total, "built_s": round(built, 1), "loaded_s": round(time.perf_counter() - t0, 1)}


async def without_http(url: str, dsn: str, rounds: int = 5) -> dict:
    """store.search (tokenising + SQL) in this process, without HTTP and the service around it;
    and how many articles each query's terms match anywhere (what ranking everything would cost)."""
    from libs.common.db import make_engine, make_sessionmaker
    from services.intake.knowledge import store
    from services.intake.knowledge import text as kt

    engine = make_engine(url, pool_size=2)
    lat: list[float] = []
    try:
        async with make_sessionmaker(engine)() as session:
            for _ in range(rounds):
                for q in QUERIES:
                    t = time.perf_counter()
                    await store.search(session, query=q, region="", limit=5)
                    lat.append(time.perf_counter() - t)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        matched = [
            await conn.fetchval(
                "SELECT count(*) FROM kb_articles WHERE published AND search_doc @@ $1::tsquery",
                kt.tsquery(kt.query_terms(q)),
            )
            for q in QUERIES
        ]
    finally:
        await conn.close()
    return {"latency_ms": summary_ms(lat), "matching_articles": summary_ms([m / 1000 for m in matched])}


async def measure(url: str, headers: dict[str, str], *, seconds: float = 8.0) -> dict:
    paths = [f"/v1/knowledge/search?q={quote(q)}&limit=5" for q in QUERIES]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
        await timed_gets(c, paths, seconds=3)  # warm connections and plans
        one = await timed_gets(c, paths * 40, seconds=seconds)
        four = await timed_gets(c, paths * 40, concurrency=4, seconds=seconds / 2)
        # The service's own cost around any read: five articles listed, no search.
        listed = await timed_gets(c, ["/v1/knowledge/articles?limit=5"] * 2000, seconds=seconds / 2)
        top = {}
        for q in QUERIES[:6]:
            items = (await c.get("/v1/knowledge/search", params={"q": q, "limit": 1})).json()["items"]
            top[q] = items[0]["question"] if items else None
    return {"one_client": one, "four_clients": four, "list_5_baseline": listed, "top_hit": top}


async def phase(stack, n: int = 10_000, seconds: float = 8.0) -> dict:  # type: ignore[no-untyped-def]
    """With a running bench Stack (bench/stack.py): its own database and intake process."""
    url = await stack.database("bench_kb", "intake", seed=True)
    loaded = await load(stack.dsn("bench_kb"), n)
    direct = await without_http(url, stack.dsn("bench_kb"))
    p = stack.start_service("intake", url, name="intake_kb")
    try:
        await stack.ready(p)
        http = await measure(p.url, stack.headers("operator"), seconds=seconds)
    finally:
        stack.stop_service("intake_kb")
    return {"load": loaded, "without_http": direct, **http, "target": "p95 < 50 ms"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    from bench import stack as stk
    from libs.common.testing.infra import stand_in_identity

    stack = stk.start()
    try:

        async def run() -> dict:
            await stand_in_identity(stack.bootstrap)
            return await phase(stack, args.n, args.seconds)

        out = asyncio.run(run())
    finally:
        stack.stop()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
