"""Where PostgreSQL's share of an order goes: every statement intake and dispatch send for the
orders of an open-loop run, from `pg_stat_statements` — calls and execution time per order, and
the commits per order from `pg_stat_database` (#21 item 4: find the cost before cutting it).

    python -m bench.statements [rate] [seconds]       # default 50 orders/s for 10 s

Starts its own stack (PostgreSQL with pg_stat_statements preloaded, the broker, intake and
dispatch), warms it up, resets the counters, runs the load, waits until both services have drained
it, and writes `bench/results/statements.md` (and prints it). Not part of `make bench`: the
extension itself costs a little on every statement.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import e2e, throughput
from bench import stack as stk

DATABASES = ("bench_intake", "bench_dispatch")
RESULTS = Path(__file__).resolve().parent / "results" / "statements.md"


async def _commits(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)", list(DATABASES)
        )
    finally:
        await conn.close()
    return {r["datname"]: r["xact_commit"] for r in rows}


async def _reset(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        await conn.execute("SELECT pg_stat_reset()")
    finally:
        await conn.close()


async def _statements(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT d.datname, s.calls, s.total_exec_time, s.rows, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) AS q "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = ANY($1) ORDER BY s.total_exec_time DESC",
            list(DATABASES),
        )
    finally:
        await conn.close()


def report(
    rows: list[asyncpg.Record], commits: dict[str, int], *, created: int, rate: float, seconds: float
) -> str:
    when = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        f"# PostgreSQL per order — `python -m bench.statements {rate:g} {seconds:g}`, {when}",
        "",
        f"{created} orders at {rate:g}/s, counted from the first POST until both services had drained them "
        "(idle work in the window — pollers, sweepers — is in it too).",
        "",
        "| database | statements per order | execution ms per order | commits per order |",
        "|---|---|---|---|",
    ]
    for db in DATABASES:
        mine = [r for r in rows if r["datname"] == db]
        calls = sum(r["calls"] for r in mine) / created
        ms = sum(r["total_exec_time"] for r in mine) / created
        lines.append(f"| {db} | {calls:.1f} | {ms:.2f} | {commits.get(db, 0) / created:.2f} |")
    lines += [
        "",
        "Top statements by execution time (per order):",
        "",
        "| database | calls | ms | statement |",
        "|---|---|---|---|",
    ]
    lines += _table(rows[:30], created)
    # By count too: PostgreSQL's cost per statement (parse, bind, the protocol) is paid per call,
    # whatever its execution time — the statements to fold away are the frequent ones.
    lines += [
        "",
        "Most frequent statements (calls per order):",
        "",
        "| database | calls | ms | statement |",
        "|---|---|---|---|",
    ]
    lines += _table(sorted(rows, key=lambda r: -r["calls"])[:30], created)
    return "\n".join(lines) + "\n"


def _table(rows: list[asyncpg.Record], created: int) -> list[str]:
    out = []
    for r in rows:
        q = r["q"].replace("|", "\\|")
        out.append(
            f"| {r['datname'].removeprefix('bench_')} | {r['calls'] / created:.2f} "
            f"| {r['total_exec_time'] / created:.3f} | `{q}` |"
        )
    return out


async def measure(rate: float, seconds: float) -> str:
    os.environ["BENCH_PG_OPTIONS"] = (
        "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    )
    stack = stk.start()
    try:
        await stk.start_app_stack(stack)
        intake = stack.procs["intake"]
        watcher = e2e.OfferWatcher(stack.bootstrap)
        await watcher.start()
        try:
            await e2e.warm_up(intake.url, stack.headers(), watcher)
            await throughput.wait_drained(stack.dsn(DATABASES[0]), stack.dsn(DATABASES[1]), timeout=60)
            admin = stack.dsn("postgres")
            await _reset(admin)
            before = await _commits(admin)
            r = await e2e.open_loop(intake.url, stack.headers(), watcher, None, rate=rate, seconds=seconds)
            await throughput.wait_drained(stack.dsn(DATABASES[0]), stack.dsn(DATABASES[1]), timeout=60)
            after = await _commits(admin)
            rows = await _statements(admin)
        finally:
            await watcher.stop()
    finally:
        stack.stop()
    commits = {db: after.get(db, 0) - before.get(db, 0) for db in DATABASES}
    return report(rows, commits, created=r["created"], rate=rate, seconds=seconds)


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 50.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    text = asyncio.run(measure(rate, seconds))
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
