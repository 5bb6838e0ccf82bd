"""Async SQLAlchemy 2 + asyncpg: one engine and session factory per service."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from libs.common.backoff import Backoff, retry

log = logging.getLogger(__name__)

# A pooled connection idle longer than this is pinged before it is handed out: a restarted
# or failed-over server has closed it. One in steady use is not — pool_pre_ping pings at
# every checkout, a round trip and ~0.4 ms of CPU per transaction (measured on the bench
# machine: 1.02 → 0.50 ms for a one-statement transaction) — and a connection that dies
# while busy is caught anyway: its error makes SQLAlchemy invalidate the whole pool.
PING_IF_IDLE_SECONDS = 5.0


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # JSON/JSONB columns through orjson: every order, decision and event row carries some,
    # and the standard library's json was a tenth of the insert path's CPU (bench profile).
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )
    ping_idle_connections(engine.sync_engine)
    return engine


def ping_idle_connections(engine: Engine, idle_seconds: float = PING_IF_IDLE_SECONDS) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if left_in_a_transaction(dbapi_connection):
            log.warning("a pooled connection was left inside a transaction (a cancelled task): closed")
            raise exc.DisconnectionError()  # closed, never handed out: see left_in_a_transaction
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError() from error  # the pool replaces it and checks out again
        if not alive:
            raise exc.DisconnectionError()


def left_in_a_transaction(dbapi_connection: Any) -> bool:
    """A pooled connection on which a transaction is still open although SQLAlchemy thinks none is.

    A task cancelled while asyncpg was sending BEGIN (a lane dropped at a broker reset, a
    request timed out) leaves asyncpg's `_top_xact` set, and the server in the transaction,
    while SQLAlchemy's adapter never recorded it, so the return to the pool rolls nothing
    back. Every later transaction on that connection then becomes a SAVEPOINT inside the
    orphan, and its "commit" only releases the savepoint: the caller is told it committed,
    and nothing ever is (seen: intake answered 201 for orders that were never stored, an
    inbox recorded events whose effects were not). Such a connection must never be used
    again; at checkout is the last moment that loses nothing (its orphan holds only the
    cancelled task's work)."""
    driver = getattr(dbapi_connection, "_connection", None)  # the asyncpg connection
    if driver is None or getattr(dbapi_connection, "_transaction", None) is not None:
        return False
    return bool(driver.is_in_transaction() or getattr(driver, "_top_xact", None) is not None)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the transaction commits.
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """asyncpg wants a plain postgresql:// DSN (for LISTEN connections and raw benchmarks)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


T = TypeVar("T")
# The transaction lost a conflict the server resolved by aborting it: running it again is the
# documented remedy (PostgreSQL manual, "Serialization Failure Handling").
RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def lost_a_conflict(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if (getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)) in RETRY_SQLSTATES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


async def run_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 3,
) -> T:
    """`work` in a transaction of its own, run again (a few times) when the server aborted it
    to resolve a deadlock or a serialization conflict — a person's click that met a consumer's
    batch on the same rows answers normally instead of 503. `work` must do nothing outside
    the session (it may run more than once)."""

    async def once() -> T:
        async with sessionmaker() as session, session.begin():
            return await work(session)

    return await retry(
        once,
        backoff=Backoff(first=0.02, cap=math.inf),  # 0.02 s, 0.04 s …
        when=lambda error: isinstance(error, exc.DBAPIError) and lost_a_conflict(error),
        attempts=attempts,
    )
