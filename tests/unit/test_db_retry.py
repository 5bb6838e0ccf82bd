"""libs.common.db.run_transaction: a transaction the server aborted to resolve a deadlock or a
serialization conflict runs again; anything else is raised at once."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import exc

from libs.common.db import lost_a_conflict, run_transaction


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def dbapi(sqlstate: str) -> exc.DBAPIError:
    return exc.DBAPIError("UPDATE staff …", {}, PgError(sqlstate))


class FakeSession:
    @contextlib.asynccontextmanager
    async def begin(self):  # type: ignore[no-untyped-def]
        yield


def sessionmaker():  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def cm():  # type: ignore[no-untyped-def]
        yield FakeSession()

    return cm()


def test_which_failures_are_lost_conflicts():
    assert lost_a_conflict(dbapi("40P01")) and lost_a_conflict(dbapi("40001"))
    assert not lost_a_conflict(dbapi("23505"))  # a unique violation is the data's, not a race's
    assert not lost_a_conflict(ValueError("x"))


async def test_runs_again_after_a_deadlock_and_not_after_anything_else():
    calls = []

    async def work(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise dbapi("40P01")
        return "done"

    assert await run_transaction(sessionmaker, work) == "done" and len(calls) == 2

    async def broken(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise dbapi("23505")

    calls.clear()
    with pytest.raises(exc.DBAPIError):
        await run_transaction(sessionmaker, broken)
    assert len(calls) == 1

    async def always(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise dbapi("40P01")

    calls.clear()
    with pytest.raises(exc.DBAPIError):
        await run_transaction(sessionmaker, always, attempts=3)
    assert len(calls) == 3
