"""Which failures are the infrastructure's (retried until it is back) and which the code's
(dead-lettered): the real exception types the drivers raise, wrapped as the stack wraps them."""

from __future__ import annotations

import asyncio
import errno

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, UnknownMemberIdError
from sqlalchemy import exc as sa_exc

from libs.common.transient import is_transient


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("SELECT 1", {}, orig, Exception, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
        OSError(errno.ECONNRESET, "reset by peer"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),  # a pooled connection the server closed
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        _wrapped(asyncpg.CannotConnectNowError("starting up")),
        asyncpg.ObjectNotInPrerequisiteStateError('database "x" is not currently accepting connections'),
        _wrapped(ValueError("anything"), invalidated=True),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        KafkaConnectionError(),
        KafkaTimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_infrastructure_failures_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad payload"),
        KeyError("work_order_id"),
        FileNotFoundError(errno.ENOENT, "no such file"),
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg.NotNullViolationError("null value in column"),
        _wrapped(asyncpg.UniqueViolationError("duplicate key")),
        asyncpg.ObjectNotInPrerequisiteStateError(
            'currval of sequence "s" is not yet defined in this session'
        ),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        UnknownMemberIdError(),
        asyncio.CancelledError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_code_failures_are_not(error):
    assert not is_transient(error)


def test_a_cause_anywhere_in_the_chain_counts():
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        except ConnectionRefusedError as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
