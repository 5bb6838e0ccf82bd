"""Hot-path statements: a Core statement compiled once, run on the session's own asyncpg
connection, inside the transaction the session already has.

Why: through `AsyncSession.execute` even a prebuilt statement costs 100–250 µs of Python
per call — the ORM execution context, the statement's cache key, bind processing, result
wrapping and two greenlet switches — while asyncpg itself needs ~70 µs (measured on the
bench machine: 167 µs vs 72 µs for a one-parameter SELECT; more for a wide INSERT).
Creating an order runs seven statements, routing one eleven; at 200 orders/s that
overhead alone was a fifth of each service's CPU.

What stays the same as SQLAlchemy's own execution:
- the SQL text is SQLAlchemy's, compiled once per parameter shape by the session's dialect
  (bind casts, `IN` lists expanded);
- every value goes through its column type's bind processor (JSONB serialised with the
  engine's serializer, and so on);
- the statement runs on the connection the session holds, in its transaction — begun here,
  as SQLAlchemy's driver adapter would begin it, if the session has sent nothing yet — so
  a rollback undoes it like any other;
- driver errors come back as SQLAlchemy's exceptions (`IntegrityError`, …), and a lost
  connection is invalidated so the pool never hands it out again.
What differs: rows are asyncpg Records (by index or by name, `r["id"]`, not `r.id`), and
no Python-side column default is computed: a parameter without a value, or a column whose
default SQLAlchemy would have computed, is an error naming it (at the first execution).
As with SQLAlchemy, an INSERT of a whole table writes the columns the parameters name.

The session stays truthful (as `session.execute` keeps it), so mixing this with the ORM in
one transaction cannot read or leave stale rows:
- before the statement, pending ORM changes are flushed, as autoflush would — unless the
  caller is inside `session.no_autoflush`; there a statement that writes rows of a table
  with unflushed changes to one of its objects is refused (`PendingChangesError`);
- after an UPDATE, DELETE or INSERT … ON CONFLICT DO UPDATE, every object of the written
  table the session holds is expired: the next `session.get`/query reads it again, and an
  attribute read before that fails loudly (async: no lazy load) instead of returning the
  old value. `in_step=` names objects the caller keeps in step itself — it sets the values
  the statement wrote on them (`set_committed_value`) — which are neither refused nor expired.
A text() statement's writes are not known: use a Core UPDATE for rows the ORM maps.

It relies on SQLAlchemy internals (PRIVATE_NAMES): pyproject pins the minor version they
were verified on, and tests/unit/test_fastsql_private_api.py fails on an upgrade that moves them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import asyncpg
from sqlalchemy import Delete, Insert, Table, Update, exc, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# The SQLAlchemy internals used below (compiler: positional binds and their processors;
# asyncpg adapter: its lock, transaction state, driver connection, error translation).
PRIVATE_NAMES = (
    "SQLCompiler._bind_processors",
    "SQLCompiler._post_compile_expanded_state",
    "AsyncAdapt_asyncpg_connection._execute_mutex",
    "AsyncAdapt_asyncpg_connection._transaction",
    "AsyncAdapt_asyncpg_connection._start_transaction",
    "AsyncAdapt_asyncpg_connection._connection",
    "AsyncAdapt_asyncpg_connection._handle_exception",
)


class PendingChangesError(exc.InvalidRequestError):
    """A statement would write rows of a table whose objects have unflushed changes, inside
    `no_autoflush`: flush first, or leave the block."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameter of each $n, in order
    processors: tuple[Callable[[Any], Any] | None, ...]
    fixed: dict[str, Any]  # values bound in the statement itself (IN lists, literals)


class FastStatement:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[int, frozenset[str]], _Compiled] = {}
        self.rewrites = _rewritten_table(statement)  # existing rows it may change: objects to expire

    def _compile(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        cache_key = (id(dialect), keys)
        found = self._compiled.get(cache_key)
        if found is not None:
            return found
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=sorted(keys)))
        if "__[POSTCOMPILE_" in compiled.string:
            # A constant IN list (`status NOT IN TERMINAL`): rendered into the SQL once.
            # Rendering wants a value for every parameter; placeholders stand in for ours.
            unset = {n: None for n, b in compiled.binds.items() if b.value is None and not b.expanding}
            compiled = cast(
                SQLCompiler,
                self.statement.params(unset).compile(
                    dialect=dialect, column_keys=sorted(keys), compile_kwargs={"render_postcompile": True}
                ),
            )
        expanded = getattr(compiled, "_post_compile_expanded_state", None)
        bound = expanded.parameters if expanded is not None else compiled.params
        names = tuple(expanded.positiontup if expanded is not None else compiled.positiontup or ())
        processors: Mapping[str, Any] = (
            expanded.processors if expanded is not None else compiled._bind_processors
        )
        fixed = {k: v for k, v in bound.items() if k not in keys and v is not None}
        missing = [n for n in names if n not in keys and n not in fixed]
        # Python-side column defaults are computed by SQLAlchemy's execution, not here.
        missing += [f"{c.name} (its default)" for c in getattr(compiled, "insert_prefetch", ())]
        missing += [f"{c.name} (its default)" for c in getattr(compiled, "update_prefetch", ())]
        if missing:
            raise ValueError(f"FastStatement: no value for {missing} in {str(self.statement)[:80]!r}")
        made = _Compiled(compiled.string, names, tuple(processors.get(n) for n in names), fixed)
        self._compiled[cache_key] = made
        return made

    def _args(self, c: _Compiled, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, proc in zip(c.names, c.processors, strict=True):
            value = params[name] if name in params else c.fixed[name]
            out.append(proc(value) if proc is not None and value is not None else value)
        return out

    async def _run(
        self, session: AsyncSession, params: Mapping[str, Any], how: str, in_step: Collection[object] = ()
    ) -> Any:
        await self._before(session, in_step)
        result = await self._send(session, params, how)
        if self.rewrites is not None:
            _expire(session, self.rewrites, in_step)
        return result

    async def _before(self, session: AsyncSession, in_step: Collection[object]) -> None:
        """Autoflush, or refuse to write over unflushed changes (see the module docstring)."""
        dirty = session.dirty
        if not (session.new or session.deleted or dirty):
            return
        if session.autoflush:
            if in_step and not session.new and not session.deleted and all(o in in_step for o in dirty):
                return  # only the caller's own objects, whose values this statement writes
            await session.flush()
            return
        if self.rewrites is not None:
            held = [o for o in dirty if o not in in_step and self.rewrites in _tables_of(type(o))]
            if held:
                raise PendingChangesError(
                    f"FastStatement writes {self.rewrites.name} while {held[0]!r} has unflushed "
                    "changes (inside no_autoflush): flush them first"
                )

    async def _send(self, session: AsyncSession, params: Mapping[str, Any], how: str) -> Any:
        sa_conn, adapted = await _driver_of(session)
        dialect = sa_conn.dialect
        c = self._compile(dialect, frozenset(params))
        args = self._args(c, params)
        try:
            async with adapted._execute_mutex:  # the adapter's own guard against overlapping use
                if adapted._transaction is None:
                    # Outside SQLAlchemy's greenlet: a cancel arriving during this BEGIN escapes
                    # its handling and leaves the connection inside an unrecorded transaction
                    # (libs.common.db.left_in_a_transaction closes it at the next checkout).
                    await adapted._start_transaction()
                driver: asyncpg.Connection = adapted._connection
                return await getattr(driver, how)(c.sql, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, dialect.loaded_dbapi.Error) as error:
            # The adapter's own steps (its BEGIN on a connection the server already closed, as
            # under PostgreSQL `kill -9`) raise its DB-API errors, already translated once.
            translated = _translated(dialect, c.sql, args, adapted, error)
            if isinstance(translated, exc.DBAPIError) and dialect.is_disconnect(
                cast(Any, translated.orig), adapted, None
            ):
                # As SQLAlchemy does for its own statements: the pool must not hand it out again.
                translated.connection_invalidated = True
                await sa_conn.invalidate()
            raise translated from error

    async def fetch(
        self,
        session: AsyncSession,
        params: Mapping[str, Any] | None = None,
        *,
        in_step: Collection[object] = (),
    ) -> list[Any]:
        return await self._run(session, params or {}, "fetch", in_step)

    async def fetchrow(
        self,
        session: AsyncSession,
        params: Mapping[str, Any] | None = None,
        *,
        in_step: Collection[object] = (),
    ) -> Any:
        return await self._run(session, params or {}, "fetchrow", in_step)

    async def fetchval(
        self,
        session: AsyncSession,
        params: Mapping[str, Any] | None = None,
        *,
        in_step: Collection[object] = (),
    ) -> Any:
        return await self._run(session, params or {}, "fetchval", in_step)

    async def execute(
        self,
        session: AsyncSession,
        params: Mapping[str, Any] | None = None,
        *,
        in_step: Collection[object] = (),
    ) -> None:
        await self._run(session, params or {}, "execute", in_step)


def _rewritten_table(statement: ClauseElement) -> Table | None:
    """The table whose existing rows the statement may change (UPDATE, DELETE, upsert)."""
    if isinstance(statement, (Update, Delete)):
        return cast(Table, statement.table)
    if isinstance(statement, Insert) and " DO UPDATE " in str(statement.compile(dialect=_pg_dialect())):
        return cast(Table, statement.table)
    return None


@cache
def _pg_dialect() -> Dialect:
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _tables_of(cls: type) -> frozenset[Table]:
    """The tables a mapped class persists to (none for anything else)."""
    found = _TABLES.get(cls)
    if found is None:
        mapper: Any = inspect(cls, raiseerr=False)
        found = _TABLES[cls] = frozenset(getattr(mapper, "tables", ()))
    return found


_TABLES: dict[type, frozenset[Table]] = {}


def _expire(session: AsyncSession, table: Table, in_step: Collection[object]) -> None:
    """Expire the session's objects of `table` (but those the caller keeps in step)."""
    for obj in list(session.identity_map.values()):
        if table in _tables_of(type(obj)) and obj not in in_step:
            session.expire(obj)


async def _driver_of(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The connection the session's transaction holds and its driver adapter. Remembered for
    that transaction: asking the session costs two greenlet switches."""
    txn = session.sync_session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and txn is not None and held[0] is txn and txn.is_active:
        return held[1], held[2]
    sa_conn = await session.connection()
    adapted = (await sa_conn.get_raw_connection()).dbapi_connection
    session.info[_HELD] = (session.sync_session.get_transaction(), sa_conn, adapted)
    return sa_conn, adapted


_HELD = "lawline.fastsql.connection"


def _translated(dialect: Dialect, sql: str, args: list[Any], adapted: Any, error: Exception) -> Exception:
    """The same exception SQLAlchemy raises for this driver error (IntegrityError, …)."""
    if isinstance(error, dialect.loaded_dbapi.Error):
        return exc.DBAPIError.instance(sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect)
    try:
        adapted._handle_exception(error)  # raises the dialect's DB-API error for it
    except Exception as dbapi_error:  # noqa: BLE001 — that is the point
        return exc.DBAPIError.instance(sql, args, dbapi_error, dialect.loaded_dbapi.Error, dialect=dialect)
    return error  # pragma: no cover — _handle_exception always raises
