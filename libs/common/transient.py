"""Is a failure the infrastructure's (retry until it is back) or the code's (dead-letter it)?

A handler that fails because PostgreSQL is restarting, the pool is exhausted or the broker
timed out has done nothing wrong: the same record will succeed once the dependency is back, so
it must be retried — never dead-lettered, never skipped (the issue that introduced this module
saw 54 orders dead-lettered on "connection refused" during a 9 s database restart). Only a
failure of the handler itself (a bug, a constraint the data violates) is worth a dead letter.

The same judgement makes an HTTP request answer 503 with Retry-After instead of 500.
Pure: it only inspects the exception chain (``__cause__``, ``__context__``, SQLAlchemy's
``orig``), never does I/O.
"""

from __future__ import annotations

import asyncio
import errno
import socket

# SQLSTATE classes and codes that describe the server or the connection, not the statement:
# 08 connection exception, 53 insufficient resources (too many connections, disk full),
# 57P01-57P05 admin/crash shutdown, cannot connect now, idle session timeout; 40001/40P01
# serialization failure and deadlock (retrying the transaction is the documented remedy);
# 55P03 lock not available (lock_timeout).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53")
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05", "40001", "40P01", "55P03"})

_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
    }
)

_TRANSIENT_NAMES = frozenset(
    {
        # asyncpg: the connection is gone or never came (no SQLSTATE of their own)
        "ConnectionDoesNotExistError",
        "TooManyConnectionsError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "PostgresConnectionError",
        # SQLAlchemy: pool exhausted (sqlalchemy.exc.TimeoutError), a disconnect it detected
        "DisconnectionError",
        "ResourceClosedError",
        # aiokafka
        "KafkaConnectionError",
        "KafkaTimeoutError",
        "NodeNotReadyError",
        "RequestTimedOutError",
        "NotLeaderForPartitionError",
        "LeaderNotAvailableError",
        "UnknownTopicOrPartitionError",
        "CoordinatorNotAvailableError",
        "NotCoordinatorError",
    }
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen) or len(seen) > 20:
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def _one(e: BaseException) -> bool:
    if isinstance(e, ConnectionError | TimeoutError | asyncio.TimeoutError):
        return True
    if isinstance(e, socket.gaierror) or (isinstance(e, OSError) and e.errno in _NETWORK_ERRNOS):
        return True  # the other end is away or unreachable (a file error is not the network's)
    sqlstate = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
    if isinstance(sqlstate, str) and (
        sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    ):
        return True
    if sqlstate == "55000" and "not currently accepting connections" in str(e):
        # The server's answer to a connection attempt while the database is closed to them
        # (ALLOW_CONNECTIONS false, as during maintenance). 55000 is otherwise a statement's
        # error (currval before nextval …), hence the message.
        return True
    if getattr(e, "connection_invalidated", False):  # SQLAlchemy DBAPIError on a dead connection
        return True
    name = type(e).__name__
    if name == "TimeoutError" and type(e).__module__.startswith("sqlalchemy"):
        return True  # QueuePool limit reached: every connection busy
    if name in _TRANSIENT_NAMES:
        return True
    if name == "InterfaceError" and "connection is closed" in str(e):
        return True  # the driver's word for a socket the server closed (SQLAlchemy's is_disconnect too)
    return bool(getattr(e, "retriable", False)) and type(e).__module__.startswith("aiokafka")


def is_transient(exc: BaseException) -> bool:
    """True when the failure is the database's or the broker's, not the code's."""
    if isinstance(exc, asyncio.CancelledError):
        return False
    return any(_one(e) for e in _chain(exc))


__all__ = ["is_transient"]
