"""The pool pings only connections that sat idle (libs.common.db): a connection the server
closed while it was idle is replaced before use; one in steady use is handed out unpinged."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker, ping_idle_connections
from libs.common.fastsql import FastStatement


async def _pid(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_closed_while_idle_is_replaced_before_use(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine.sync_engine, idle_seconds=0.2)
    sessions = make_sessionmaker(engine)
    try:
        first = await _pid(sessions)
        killer = await asyncpg.connect(asyncpg_dsn(url))  # a server restart, in miniature
        try:
            await killer.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await killer.close()
        await asyncio.sleep(0.4)
        assert await _pid(sessions) != first  # pinged, found dead, replaced: no error
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=1)
    pings: list[int] = []
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping  # SQLAlchemy's: counted, still called
    dialect.do_ping = lambda conn: pings.append(1) or ping(conn)  # type: ignore[method-assign]
    sessions = make_sessionmaker(engine)
    try:
        for _ in range(5):
            await _pid(sessions)
        assert pings == []
    finally:
        await engine.dispose()


async def _committed_elsewhere(url: str, table: str) -> set[int]:
    """What another connection sees: only what was really committed."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {r[0] for r in await conn.fetch(f"SELECT n FROM {table}")}
    finally:
        await conn.close()


async def test_a_connection_left_inside_a_transaction_is_never_handed_out_again(infra):
    """What a task cancelled during BEGIN leaves behind (asyncpg in a transaction that
    SQLAlchemy never recorded): without the check, the next session's work becomes a savepoint
    inside it and its commit is reported but never happens."""
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=1)
    engine.sync_engine.pool._max_overflow = 0  # one connection: the next session gets the same one
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s, s.begin():
            await s.execute(text("CREATE TABLE kept (n int)"))
        async with engine.connect() as conn:
            adapted = (await conn.get_raw_connection()).dbapi_connection
            await adapted._connection.transaction().start()  # BEGIN behind SQLAlchemy's back
        async with sessions() as s, s.begin():
            await s.execute(text("INSERT INTO kept VALUES (1)"))
        assert await _committed_elsewhere(url, "kept") == {1}
    finally:
        await engine.dispose()


async def test_work_cancelled_at_any_moment_never_poisons_the_pool(infra):
    """Tasks cancelled at every point of their transaction, BEGIN included; each write that
    reported its commit is really committed (without the checkout check, about one in ten
    here was not)."""
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    reported: set[int] = set()
    kept = Table("kept", MetaData(), Column("n", Integer))
    fast = FastStatement(insert(kept).values(n=bindparam("n")))

    async def write(n: int) -> None:
        # Half through FastStatement (as the inbox records an event), which starts the
        # transaction itself, outside SQLAlchemy's own handling of a cancellation.
        async with sessions() as s, s.begin():
            if n % 2:
                await fast.execute(s, {"n": n})
            else:
                await s.execute(text("INSERT INTO kept VALUES (:n)"), {"n": n})
        reported.add(n)

    try:
        async with sessions() as s, s.begin():
            await s.execute(text("CREATE TABLE kept (n int)"))
        for n in range(300):
            task = asyncio.create_task(write(n))
            for _ in range(n % 40):  # cancelled after 0..39 turns of the loop: all along the way
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await write(10_000 + n)  # an uncancelled write after each
        assert {n for n in reported if n >= 10_000} == set(range(10_000, 10_300))
        # A cancelled write may have committed (the cancel came during COMMIT): its outcome is
        # unknown to it. One that reported its commit must be there.
        assert reported - await _committed_elsewhere(url, "kept") == set()
    finally:
        await engine.dispose()
