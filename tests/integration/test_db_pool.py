"""The pool pings only connections that sat idle (libs.common.db): a connection the server
closed while it was idle is replaced before use; one in steady use is handed out unpinged."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.db import asyncpg_dsn, make_engine, make_sessionmaker, ping_idle_connections


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
