"""Streaming a database read to an async consumer: in order, bounded, and stopped when the
consumer goes away."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.db.stream import ChunkWriter, stream_read


def collect(db: Database, produce, **kw) -> list[bytes]:  # type: ignore[no-untyped-def]
    async def run() -> list[bytes]:
        return [chunk async for chunk in stream_read(db, produce, **kw)]

    return asyncio.run(run())


def test_the_bytes_arrive_in_order_in_chunks(db: Database) -> None:
    def produce(session: Session, out: ChunkWriter) -> None:
        for n in range(1000):
            out.write(f"{n:04d}".encode())
        out.write(str(session.execute(text("SELECT 1")).scalar_one()).encode())

    chunks = collect(db, produce, chunk_size=1000)
    assert b"".join(chunks) == b"".join(f"{n:04d}".encode() for n in range(1000)) + b"1"
    assert [len(c) for c in chunks] == [1000] * 4 + [1]


def test_the_producer_never_runs_more_than_the_window_ahead(db: Database) -> None:
    written: list[int] = []

    def produce(session: Session, out: ChunkWriter) -> None:
        for n in range(50):
            out.write(b"x" * 10)
            written.append(n)

    async def run() -> int:
        stream = stream_read(db, produce, chunk_size=10, window=3)
        await anext(stream)
        await asyncio.sleep(0.3)  # the consumer dawdles; the producer must wait for it
        ahead = len(written)
        await stream.aclose()
        return ahead

    assert asyncio.run(run()) <= 5


def test_a_consumer_that_goes_away_stops_the_producer(db: Database) -> None:
    stopped = threading.Event()

    def produce(session: Session, out: ChunkWriter) -> None:
        try:
            while True:
                out.write(b"y" * 100)
        finally:
            stopped.set()

    async def run() -> None:
        stream = stream_read(db, produce, chunk_size=100, window=2)
        await anext(stream)
        await stream.aclose()

    asyncio.run(run())
    assert stopped.wait(5)


def test_a_failing_producer_raises_in_the_consumer(db: Database) -> None:
    def produce(session: Session, out: ChunkWriter) -> None:
        out.write(b"partial")
        out.flush()
        time.sleep(0.05)
        raise RuntimeError("the disk is on fire")

    with pytest.raises(RuntimeError, match="on fire"):
        collect(db, produce)
