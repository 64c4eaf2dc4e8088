"""The database handle: engine, unit of work, and where live events leave after commit.

Domain actions are plain synchronous functions taking an ORM `Session`. The async
adapters run them through `Database.write` / `Database.read`, in worker threads so the
event loop never waits on disk.

Writes are group-committed: the writer thread takes every write waiting in its queue and
runs them in one transaction, one commit for all. Under load that turns a commit per
request into a commit per batch, which is what lets a single SQLite writer keep up. If
one write in a batch fails, the batch is rolled back and each write is run again in a
transaction of its own, so a failure only ever affects its own request. Write functions
must therefore only touch the database (they may be run twice). A transaction PostgreSQL
rolled back to break a deadlock or a serialization conflict (a write, or a `call` from the
CLI, a job or a test) is run again, up to CONFLICT_RETRIES times, before its caller hears
of it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.orm import Session, sessionmaker

from lifeline.db.base import UNSTORABLE

T = TypeVar("T")

OUTBOX_KEY = "lifeline.outbox"
SNAPSHOTS_KEY = "lifeline.snapshots"
MAX_BATCH = 64
# PostgreSQL's SQLSTATEs for "rolled back to let another transaction through": deadlock
# detected, serialization failure. Run again, such a write usually goes through at once.
CONFLICTS = frozenset({"40P01", "40001"})
CONFLICT_RETRIES = 3

AfterCommit = Callable[[list[Any]], None]

log = logging.getLogger("lifeline.db")


def on_commit(session: Session, live_event: Any) -> None:
    """Queue a live event; it leaves (through `Database.after_commit`) only if the transaction commits."""
    session.info.setdefault(OUTBOX_KEY, []).append(live_event)


def snapshot_on_commit(session: Session, key: Any, make: Callable[[Session], Any]) -> None:
    """Queue a live event built just before commit, once per key however often it changed:
    the state of a thing as the transaction leaves it."""
    session.info.setdefault(SNAPSHOTS_KEY, {})[key] = make


def _take_snapshots(session: Session) -> None:
    makers: dict[Any, Callable[[Session], Any]] = session.info.pop(SNAPSHOTS_KEY, {})
    for make in makers.values():
        on_commit(session, make(session))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable against application crashes (what we promise);
    # only an OS crash or power cut can lose the last transactions.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _postgresql_settings(dbapi_connection: Any, _record: Any) -> None:
    # PostgreSQL's JIT compiles any query its planner thinks costly, which ours (a report's
    # session query, the freezer's reads) pass on row estimates alone: 0.4 s of compiling
    # before the first row, every time, for queries that then run in milliseconds.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _unstorable(values: Any) -> bool:
    items = values.values() if isinstance(values, dict) else values
    return any(type(value) is str and UNSTORABLE.search(value) is not None for value in items)


def _storable(values: Any) -> Any:
    if not _unstorable(values):
        return values
    if isinstance(values, dict):
        return {key: UNSTORABLE.sub("\ufffd", v) if type(v) is str else v for key, v in values.items()}
    return type(values)(UNSTORABLE.sub("\ufffd", v) if type(v) is str else v for v in values)


def _storable_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    """Text from outside (a username, a session key, a form field) reaches queries as it
    came. A NUL or a lone surrogate in it would make the driver or PostgreSQL fail the whole
    request, and only on one database; as U+FFFD it is stored as the replacement character
    and never matches a stored name or key, on both. (Text that must be kept exactly, such
    as chat, is `ExactText` and already encoded by then.)

    Only a true executemany hands over a list of rows: SQLAlchemy's insertmanyvalues (one
    flush inserting several rows of a table) also says executemany, but sends one INSERT
    whose parameters are a single flat row."""
    if executemany and getattr(context, "execute_style", ExecuteStyle.EXECUTEMANY) is ExecuteStyle.EXECUTEMANY:
        if any(_unstorable(row) for row in parameters):
            parameters = [_storable(row) for row in parameters]
        return statement, parameters
    return statement, _storable(parameters)


# An execution option for queries whose rows are many and whose columns are plain (numbers,
# text, times, bytes): PostgreSQL sends them in its binary format. A report's frozen details
# then arrive as their bytes instead of as hex text twice their size, which the server
# writes and the driver parses (all 100,000 rows of the reporting bench: 1.3-1.5 s against
# 2.1-2.7 s). Types without a binary loader in psycopg would arrive as bytes: keep it to
# the queries it was checked on.
BINARY_RESULTS = "lifeline_binary_results"


def _binary_results(
    _conn: Any, cursor: Any, _statement: str, _parameters: Any, context: Any, _executemany: bool
) -> None:
    if context is not None and context.execution_options.get(BINARY_RESULTS):
        from psycopg.pq import Format

        cursor.format = Format.BINARY


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=False)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        event.listen(engine, "connect", _postgresql_settings)
        event.listen(engine, "before_cursor_execute", _binary_results)
    event.listen(engine, "before_cursor_execute", _storable_parameters, retval=True)
    return engine


@dataclass
class _Job:
    fn: Callable[[Session], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


def _conflict(error: BaseException) -> bool:
    """PostgreSQL rolled this transaction back so another could go through (see CONFLICTS)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in CONFLICTS


class Database:
    def __init__(self, url: str, *, after_commit: AfterCommit | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.after_commit: AfterCommit = after_commit or (lambda events: None)
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._writers = [
            threading.Thread(target=self._write_loop, name=f"db-write-{n}", daemon=True)
            for n in range(1 if self.is_sqlite else 4)
        ]
        self._started = False
        self._start_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(4, thread_name_prefix="db-read")

    # --- synchronous use (CLI, tests, background jobs) -------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error, then send live events."""
        session = self.sessions()
        try:
            yield session
            _take_snapshots(session)
            session.commit()
            events = session.info.pop(OUTBOX_KEY, [])
        except BaseException:
            session.rollback()
            session.info.pop(OUTBOX_KEY, None)
            session.info.pop(SNAPSHOTS_KEY, None)
            raise
        finally:
            session.close()
        if events:
            self.after_commit(events)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn` in one transaction; run again if PostgreSQL rolled it back for a conflict."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                with self.transaction() as session:
                    return fn(session, *args, **kwargs)
            except Exception as error:
                if not _conflict(error):
                    raise
                log.info(
                    "a transaction was rolled back by a conflict with another (try %d); running it again", attempt + 1
                )
        with self.transaction() as session:
            return fn(session, *args, **kwargs)

    # --- from the event loop ---------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._ensure_writers()
        job = _Job((lambda session: fn(session, *args, **kwargs)) if args or kwargs else fn)
        self._queue.put(job)
        return await asyncio.wrap_future(job.future)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, functools.partial(self.call, fn, *args, **kwargs))

    def _ensure_writers(self) -> None:
        if not self._started:
            with self._start_lock:
                if not self._started:
                    for writer in self._writers:
                        writer.start()
                    self._started = True

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]  # type: ignore[list-item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        if len(batch) > 1:
            try:
                with self.transaction() as session:
                    results = [job.fn(session) for job in batch]
            except Exception:  # noqa: S110 - somebody's write failed: run each alone so only that one fails
                pass
            else:
                for job, result in zip(batch, results, strict=True):
                    job.future.set_result(result)
                return
        for job in batch:
            self._run_alone(job)

    def _run_alone(self, job: _Job) -> None:
        try:
            result = self.call(job.fn)
        except BaseException as error:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    def close(self) -> None:
        if self._started:
            for _ in self._writers:
                self._queue.put(_STOP)
            for writer in self._writers:
                writer.join()
        self._readers.shutdown(wait=True)
        self.engine.dispose()
