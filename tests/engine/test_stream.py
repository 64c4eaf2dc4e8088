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
from lifeline.db.stream import PER_CALLER, ChunkWriter, ReaderStalled, stream_read


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


def test_one_caller_reads_at_most_its_share_of_the_slots(db: Database) -> None:
    go_on = threading.Event()

    def produce(session: Session, out: ChunkWriter) -> None:
        out.write(b"first")
        out.flush()
        go_on.wait(10)

    async def run() -> None:
        greedy = [stream_read(db, produce, caller="greedy") for _ in range(PER_CALLER + 1)]
        for stream in greedy[:PER_CALLER]:
            assert await anext(stream) == b"first"
        waiting = asyncio.ensure_future(anext(greedy[-1]))
        done, _ = await asyncio.wait({waiting}, timeout=0.5)
        assert not done  # its next read waits for one of its own to end
        other = stream_read(db, produce, caller="other")
        assert await asyncio.wait_for(anext(other), 5) == b"first"  # another caller's does not
        go_on.set()
        assert [chunk async for chunk in greedy[0]] == []
        assert await asyncio.wait_for(waiting, 5) == b"first"
        for stream in [*greedy, other]:
            await stream.aclose()

    asyncio.run(run())


def test_a_consumer_that_stops_taking_chunks_ends_the_producer(db: Database) -> None:
    ended = threading.Event()

    def produce(session: Session, out: ChunkWriter) -> None:
        try:
            while True:
                out.write(b"z" * 10)
        finally:
            ended.set()

    async def run() -> None:
        stream = stream_read(db, produce, chunk_size=10, window=1, stall_seconds=0.5)
        await anext(stream)
        started = time.monotonic()
        assert await asyncio.to_thread(ended.wait, 5)  # the consumer took nothing more
        assert time.monotonic() - started >= 0.4
        with pytest.raises(ReaderStalled):
            while True:
                await anext(stream)

    asyncio.run(run())
