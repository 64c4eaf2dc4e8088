"""The database handle: engine, unit of work, and where live events leave after commit.

Domain actions are plain synchronous functions taking an ORM `Session`. The async
adapters run them through `Database.write` / `Database.read`, which use worker
threads so the event loop never waits on disk. SQLite gets a single writer thread
(it has a single writer anyway, and one thread means no lock contention inside a
process); readers get their own threads because WAL lets them run beside the writer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

P = ParamSpec("P")
T = TypeVar("T")

OUTBOX_KEY = "lifeline.outbox"

AfterCommit = Callable[[list[Any]], None]


def on_commit(session: Session, live_event: Any) -> None:
    """Queue a live event; it leaves (through `Database.after_commit`) only if the transaction commits."""
    session.info.setdefault(OUTBOX_KEY, []).append(live_event)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable against application crashes (what we promise);
    # only an OS crash or power cut can lose the last transactions.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=False)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    def __init__(self, url: str, *, after_commit: AfterCommit | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.after_commit: AfterCommit = after_commit or (lambda events: None)
        self._writer = ThreadPoolExecutor(1 if self.is_sqlite else 8, thread_name_prefix="db-write")
        self._readers = ThreadPoolExecutor(4, thread_name_prefix="db-read")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error, then send live events."""
        session = self.sessions()
        try:
            yield session
            session.commit()
            events = session.info.pop(OUTBOX_KEY, [])
        except BaseException:
            session.rollback()
            session.info.pop(OUTBOX_KEY, None)
            raise
        finally:
            session.close()
        if events:
            self.after_commit(events)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.transaction() as session:
            return fn(session, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, functools.partial(self.call, fn, *args, **kwargs))

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, functools.partial(self.call, fn, *args, **kwargs))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()
