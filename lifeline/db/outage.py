"""The database not answering (PostgreSQL restarting, a network cut): recognised in one
place, answered with one message, and logged as one line rather than a stack trace.

Nothing is lost by it: a request that fails so was never acknowledged, and the engine's
pool checks each connection before use (`pool_pre_ping`), so the first request after the
database is back gets a fresh connection."""

from __future__ import annotations

import logging

from sqlalchemy import exc

UNAVAILABLE = "The database is not answering; try again in a moment."


def database_unavailable(error: BaseException | None) -> bool:
    """Whether this failure is the database being away, not a fault in the request."""
    while error is not None:
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)):
            return True
        if type(error).__module__.startswith("psycopg") and type(error).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


class OutagesInOneLine(logging.Filter):
    """On a log handler: a logged failure that is only the database being away becomes one
    warning line (what failed, and the driver's first line), not a traceback per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and database_unavailable(record.exc_info[1]):
            error = record.exc_info[1]
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            record.msg = f"{record.getMessage()}: the database is not answering ({first_line})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def log_outages_in_one_line() -> None:
    """On the root logger's handlers and uvicorn's (it configures its own)."""
    for name in ("", "uvicorn", "uvicorn.error"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, OutagesInOneLine) for f in handler.filters):
                handler.addFilter(OutagesInOneLine())
