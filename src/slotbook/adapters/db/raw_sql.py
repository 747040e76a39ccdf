"""SQLAlchemy Core statements run on a raw asyncpg connection.

The hot paths run statements built once with SQLAlchemy (the very ones the general
paths execute through a session) as prepared statements on an asyncpg connection,
without a session's cost per statement: compiled once for asyncpg's numbered
parameters, their values given in that order, and their rows read by column name or
as attributes, as SQLAlchemy's rows are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class RawStatement:
    sql: str
    names: tuple[str, ...]  # the parameter of $1, $2, ...
    defaults: Mapping[str, Any]  # values the statement carries itself (its constants)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The statement's parameters in order: `params` by name, else its constants."""
        return [params[n] if n in params else self.defaults[n] for n in self.names]


def compile_raw(statement: ClauseElement) -> RawStatement:
    """`statement` as asyncpg takes it (values are passed as they are: UTC datetimes,
    UUIDs, strings and integers, which asyncpg encodes itself)."""
    compiled = statement.compile(dialect=_DIALECT)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = {n: compiled.binds[n] for n in names}
    defaults = {n: b.effective_value for n, b in binds.items() if not b.required}
    return RawStatement(str(compiled), names, defaults)


class Row(asyncpg.Record):  # type: ignore[misc]
    """An asyncpg record whose columns read as attributes too (`row.status`), so the
    repositories' row readers take it as they take SQLAlchemy's rows."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
