"""Async SQLAlchemy 2 + asyncpg: one engine and session factory per service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the transaction commits.
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """asyncpg wants a plain postgresql:// DSN (for LISTEN connections and raw benchmarks)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)
