"""The collector's policy (lifeline.heap): what an appliance process freezes, and that
`lifeline serve` applies it. Without it, full collections walk every connection's objects
and the chat's p99 goes from tens of milliseconds to seconds (bench/live_sessions.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
import uvicorn

from lifeline.heap import Heap
from lifeline.server import _serve_both


@pytest.fixture
def thawed() -> Iterator[None]:
    """This test process's objects go back to the collector afterwards."""
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Connection:
    """Stands for what a connection keeps: a cycle (a socket and its protocol know each other)."""

    def __init__(self) -> None:
        self.me = self


def test_heap_freezes_start_up_and_each_wave_that_reaches_the_oldest_generation(thawed: None) -> None:
    heap = Heap()
    heap.settle()
    try:
        at_start = gc.get_freeze_count()
        assert at_start > 0
        assert gc.get_objects(generation=2) == []

        # A wave of connections that live on: young, they are not frozen ...
        wave = [Connection() for _ in range(3_000)]
        gc.collect(0)
        assert gc.get_freeze_count() < at_start + 3_000
        # ... but once a collection moves them into the oldest generation, they are.
        gc.collect(1)
        assert gc.get_freeze_count() >= at_start + 3_000
        assert gc.get_objects(generation=2) == []
        # So a full collection walks none of them.
        assert len(gc.get_objects(generation=1)) + len(gc.get_objects(generation=2)) < 3_000

        # What freezing costs: the wave's cycles, dropped, are garbage no collection sees ...
        del wave
        assert gc.collect() < 3_000
        # ... until a full collection over the frozen objects too.
        assert heap.collect_all() >= 3_000
    finally:
        heap.release()
    assert heap._after_collection not in gc.callbacks


def test_lifeline_serve_freezes_once_started(thawed: None) -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        return None

    frozen: list[int] = []

    async def run() -> None:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
        serving = asyncio.create_task(_serve_both(server, None, Heap()))
        while not gc.get_freeze_count() and not serving.done():
            await asyncio.sleep(0.05)
        frozen.append(gc.get_freeze_count())
        server.should_exit = True
        await serving

    asyncio.run(asyncio.wait_for(run(), timeout=30))
    assert frozen[0] > 0
    # Stopped, the server leaves the collector's callbacks as it found them.
    assert not [callback for callback in gc.callbacks if isinstance(getattr(callback, "__self__", None), Heap)]


def test_frozen_cycles_that_became_garbage_are_collected_in_time(thawed: None) -> None:
    """Connections frozen while alive and dropped later leave cycles no ordinary collection
    frees; `keep` collects everything every collect_all_seconds, so they do not pile up."""
    heap = Heap(collect_all_seconds=0.0)
    gone = [Connection() for _ in range(2_000)]
    heap.settle()
    heap.release()
    del gone  # a wave of connections that ended: frozen cycles, garbage now

    rounds = iter([True, False])
    asyncio.run(heap.keep(lambda: next(rounds)))
    assert heap.stats.kept_garbage_found >= 2_000
