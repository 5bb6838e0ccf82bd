"""Demo data for `make run` and the tests: each service that owns demo rows exposes
`seed(session)`; this calls them in order, each in its own database."""

from __future__ import annotations

import importlib

from libs.common.config import SERVICES, service_database_url
from libs.common.db import make_engine, make_sessionmaker


async def seed_service(service: str, url: str | None = None) -> None:
    try:
        module = importlib.import_module(f"services.{service}.seed")
    except ModuleNotFoundError:
        return
    engine = make_engine(url or service_database_url(service), pool_size=2)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await module.seed(session)
    finally:
        await engine.dispose()


async def seed_all() -> None:
    for s in SERVICES:
        await seed_service(s)
