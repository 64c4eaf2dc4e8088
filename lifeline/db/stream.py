"""Streaming a long database read to an async consumer with flat memory.

A report over years of sessions cannot be built in memory, and its database work must not
run on the event loop. `stream_read` runs a synchronous producer in a thread of its own,
with a database session of its own; the producer writes bytes to a file-like `ChunkWriter`,
which hands chunks of about `chunk_size` bytes to the event loop. The producer may run at
most `window` chunks ahead of the consumer (it blocks until the consumer catches up), so a
slow client holds back the database read instead of filling memory. When the consumer
stops early (the client went away), the producer's next write raises `ConsumerGone` and
its read ends; when it takes nothing for `stall_seconds` (a client that stopped reading),
the producer gives up with `ReaderStalled`, so a reader can hold a slot only while it reads.
At most `MAX_CONCURRENT` producers read at once, and at most `PER_CALLER` for one caller:
one account's stalled or greedy readers leave the other slots to everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable

from sqlalchemy.orm import Session

from lifeline.db.engine import Database

# Each chunk crosses from the reading thread to the event loop; fewer, larger ones cost
# the two threads less handing the GIL back and forth (SupportSession over HTTP: 87-94 MB/s
# at 256 KB against 72-80 MB/s at 64 KB; on a later day 84-115 MB/s at 1 MB against
# 81-92 MB/s at 256 KB, alternating runs). A report holds at most WINDOW chunks ahead.
CHUNK_SIZE = 1024 * 1024
WINDOW = 4
MAX_CONCURRENT = 8  # producers reading at once; more wait their turn (in their own thread)
PER_CALLER = 2  # of those, one caller's
STALL_SECONDS = 30.0
_POLL = 0.25  # how often a waiting producer looks whether its consumer went away

_END = object()


class ConsumerGone(Exception):
    """Raised inside the producer when nobody reads its output any more."""


class ReaderStalled(ConsumerGone):
    """The consumer took nothing for the stall timeout: it is treated as gone."""


class _Slots:
    """Producers reading at once: at most `total`, at most `per_caller` of them one caller's."""

    def __init__(self, total: int, per_caller: int) -> None:
        self.total = total
        self.per_caller = per_caller
        self._changed = threading.Condition()
        self._running: Counter[str] = Counter()

    def take(self, caller: str, closed: threading.Event) -> bool:
        """Wait for a slot; False when the consumer went away first."""
        with self._changed:
            while self._running.total() >= self.total or self._running[caller] >= self.per_caller:
                if closed.is_set():
                    return False
                self._changed.wait(_POLL)
            self._running[caller] += 1
            return True

    def give_back(self, caller: str) -> None:
        with self._changed:
            self._running[caller] -= 1
            if not self._running[caller]:
                del self._running[caller]
            self._changed.notify_all()


_slots = _Slots(MAX_CONCURRENT, PER_CALLER)


class _Pipe:
    def __init__(self, loop: asyncio.AbstractEventLoop, window: int, stall_seconds: float) -> None:
        self.loop = loop
        self.items: asyncio.Queue[object] = asyncio.Queue()
        self.credits = threading.Semaphore(window)
        self.closed = threading.Event()
        self.stall_seconds = stall_seconds

    def put(self, chunk: bytes) -> None:
        """Producer side: wait for room, then hand a chunk to the loop."""
        deadline = time.monotonic() + self.stall_seconds
        while not self.credits.acquire(timeout=_POLL):
            if self.closed.is_set():
                raise ConsumerGone
            if time.monotonic() >= deadline:
                raise ReaderStalled
        if self.closed.is_set():
            raise ConsumerGone
        self._deliver(chunk)

    def finish(self, outcome: object) -> None:
        """Producer side: the end of the stream, or the exception that ended it."""
        with contextlib.suppress(ConsumerGone):
            self._deliver(outcome)

    def _deliver(self, item: object) -> None:
        try:
            self.loop.call_soon_threadsafe(self.items.put_nowait, item)
        except RuntimeError:  # the loop is closed: the server is going away
            raise ConsumerGone from None


class ChunkWriter:
    """A write-only binary file that passes its bytes on in chunks (lxml's xmlfile writes here)."""

    def __init__(self, deliver: Callable[[bytes], None], chunk_size: int = CHUNK_SIZE) -> None:
        self._deliver = deliver
        self._chunk_size = chunk_size
        # Pieces are kept as they come and joined once per chunk: one copy of each byte.
        self._pieces: list[bytes | memoryview] = []
        self._buffered = 0
        self.written = 0

    def write(self, data: bytes | memoryview) -> int:
        self._pieces.append(data)
        size = len(data)
        self._buffered += size
        self.written += size
        if self._buffered >= self._chunk_size:
            self.flush()
        return size

    def flush(self) -> None:
        if self._pieces:
            chunk = b"".join(self._pieces)
            self._pieces.clear()
            self._buffered = 0
            self._deliver(chunk)


Producer = Callable[[Session, ChunkWriter], None]


async def stream_read(
    db: Database,
    produce: Producer,
    *,
    caller: str = "",
    chunk_size: int = CHUNK_SIZE,
    window: int = WINDOW,
    stall_seconds: float = STALL_SECONDS,
) -> AsyncGenerator[bytes]:
    """The bytes `produce(session, writer)` writes, as they are written. `caller` names who
    asked (an API account, a user): one caller's reads share `PER_CALLER` slots. A consumer
    that takes nothing for `stall_seconds` gets `ReaderStalled` after what it already has."""
    pipe = _Pipe(asyncio.get_running_loop(), window, stall_seconds)

    def run() -> None:
        if not _slots.take(caller, pipe.closed):
            return
        try:
            read(pipe.put)
        finally:
            _slots.give_back(caller)

    def read(deliver: Callable[[bytes], None]) -> None:
        try:
            with db.sessions() as session:
                try:
                    writer = ChunkWriter(deliver, chunk_size)
                    produce(session, writer)
                    writer.flush()
                finally:
                    session.rollback()  # a report only reads; end its snapshot
        except ReaderStalled as stalled:
            pipe.finish(stalled)
            return
        except ConsumerGone:
            return
        except BaseException as error:  # handed to the consumer, which raises it
            pipe.finish(error)
            return
        pipe.finish(_END)

    threading.Thread(target=run, name="db-stream", daemon=True).start()
    try:
        while True:
            item = await pipe.items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            pipe.credits.release()
            assert isinstance(item, bytes)
            yield item
    finally:
        pipe.closed.set()
        pipe.credits.release()  # wake a producer waiting for room, so it sees the close
