"""Where SQLAlchemy's static types say less than its run-time objects — narrowed here, once,
with a check, so call sites need neither `cast`, `# type: ignore` nor `assert`.

- `Model.__table__` is declared `FromClause` (a declarative class may map any selectable),
  but every model of ours maps a `Table`: `table_of(Model)` is that Table (`.insert()`,
  `.indexes`, `.c` all typed).
- `session.execute()` is declared to return `Result`, but an INSERT/UPDATE/DELETE answers with
  a `CursorResult`, which alone has `rowcount`: `rowcount(result)`.
- A row another one refers to (a foreign key, a row this transaction just wrote or locked) is
  `X | None` to `session.get`: `get_present` / `present` return it, or raise `RowMissing` — a
  broken invariant, answered like any unexpected error (500, logged), never `assert` (which
  `python -O` strips).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import CursorResult, Result, Table
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class RowMissing(LookupError):
    """A row that must exist is not there (deleted under us, or a broken invariant)."""


def table_of(model: type[Any]) -> Table:
    """The Table a declarative model maps (TypeError for a model mapped to another selectable)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is mapped to {type(table).__name__}, not a Table")
    return table


def rowcount(result: Result[Any]) -> int:
    """The rows a DML statement matched (TypeError for a result that is not a cursor's)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"rowcount of a {type(result).__name__}: only a DML statement's result has one")
    return result.rowcount


def present(row: T | None, what: type[Any] | str, key: object = None) -> T:
    """`row`, which the caller knows exists (RowMissing naming `what` and `key` if it does not)."""
    if row is None:
        name = what if isinstance(what, str) else what.__name__
        raise RowMissing(f"{name} {key} not found" if key is not None else f"{name} not found")
    return row


async def get_present(
    session: AsyncSession, model: type[T], key: Any, *, with_for_update: bool | None = None
) -> T:
    """`session.get` of a row that must exist (RowMissing if it does not). `with_for_update`
    None, as `session.get`'s default, lets an object the session holds answer without a query."""
    return present(await session.get(model, key, with_for_update=with_for_update), model, key)
