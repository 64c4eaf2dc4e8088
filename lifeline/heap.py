"""The garbage collector's policy for one appliance process: keep every collection short.

An appliance holds thousands of connections for hours. Their objects (sockets, TLS state,
sessions, queues) end up in the collector's oldest generation, and every full collection
walks all of them: with 10,000 customers connected that stopped the process for 0.4-0.5 s,
which every chat line in flight waited out. `gc.freeze()` moves what exists into a
permanent generation that no collection walks; reference counting still frees those
objects when they are dropped. What freezing costs: a reference cycle among frozen objects
that later becomes garbage is kept until `collect_all`, which `keep` runs every
COLLECT_ALL_SECONDS.

So: freeze once start-up has built the application and its caches, and then after every
collection that moves survivors into the oldest generation (one of the middle generation,
or a full one). That generation then never holds more than one such wave, and the full
collections CPython still starts walk hardly anything. Waiting for the oldest generation
to grow (50,000 objects, counted every second) was measured first: with the heap of
10,000 connections each full collection of that many objects took 20-70 ms, and counting
them 5-20 ms a second, both stalls every chat line in flight waited out.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# How often everything, frozen objects too, is collected: cycles among frozen objects that
# became garbage (connections that came and went) are otherwise kept for the process's life.
# One pause of a full collection this often bounds that memory; far rarer than the
# collector's own full collections were (several a minute under load).
COLLECT_ALL_SECONDS = 15 * 60
# How often `keep` looks at the clock for `collect_all`.
CHECK_SECONDS = 1.0


@dataclass
class HeapStats:
    freezes: int = 0
    last_freeze_seconds: float = 0.0
    kept_garbage_found: int = 0  # what collect_all found that freezing had kept


class Heap:
    """Freezes the long-lived objects of this process (see the module's note)."""

    def __init__(self, collect_all_seconds: float = COLLECT_ALL_SECONDS) -> None:
        self.collect_all_seconds = collect_all_seconds
        self.stats = HeapStats()

    def settle(self) -> None:
        """After start-up: collect what start-up left behind, freeze the rest, and from now on
        freeze each wave of survivors as it reaches the oldest generation."""
        gc.collect()
        self._freeze()
        if self._after_collection not in gc.callbacks:
            gc.callbacks.append(self._after_collection)

    def release(self) -> None:
        """Back to the collector's own policy (what is frozen stays frozen)."""
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        # After a collection of generation 1 or 2 the younger generations are empty and its
        # survivors are in the oldest: freezing moves exactly them (a list splice, no walk).
        if phase == "stop" and info["generation"] >= 1:
            self._freeze()

    async def keep(self, running: Callable[[], bool]) -> None:
        """Collect everything every `collect_all_seconds` while `running()` says the process serves."""
        last_full = time.monotonic()
        while running():
            if time.monotonic() - last_full >= self.collect_all_seconds:
                self.stats.kept_garbage_found += self.collect_all()
                last_full = time.monotonic()
            await asyncio.sleep(CHECK_SECONDS)

    def collect_all(self) -> int:
        """A full collection over frozen objects too (a pause as long as the heap is large):
        returns the cyclic garbage that freezing had kept. Then freezes again."""
        gc.unfreeze()
        found = gc.collect()
        self._freeze()
        return found

    def _freeze(self) -> None:
        started = time.perf_counter()
        gc.freeze()
        self.stats.freezes += 1
        self.stats.last_freeze_seconds = time.perf_counter() - started
