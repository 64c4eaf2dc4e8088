"""SQL the report queries need that the two databases spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement


class unix_seconds(FunctionElement[int]):
    """Whole UNIX seconds of a UtcDateTime column (stored naive UTC), worked out by the
    database: events are the bulk of a report, and this spares parsing each timestamp."""

    type = BigInteger()
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)


@compiles(unix_seconds, "sqlite")
def _sqlite(element: unix_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(unix_seconds, "postgresql")
def _postgresql(element: unix_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"
