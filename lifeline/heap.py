"""The garbage collector's policy for one appliance process: keep full collections short.

An appliance holds thousands of connections for hours. Their objects (sockets, TLS state,
sessions, queues) end up in the collector's oldest generation, and every full collection
walks all of them: with 10,000 customers connected that stopped the process for 0.4-0.5 s,
which every chat line in flight waited out. `gc.freeze()` moves what exists into a
permanent generation that no collection walks; reference counting still frees those
objects when they are dropped. What freezing costs: a reference cycle among frozen objects
that later becomes garbage is kept until `collect_all`, which `keep` runs every
COLLECT_ALL_SECONDS.

So: freeze once start-up has built the application and its caches, and again whenever
enough objects have reached the oldest generation since the last freeze (a wave of
connections), so that generation, the one full collections walk, stays small.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

# Objects in the oldest generation (not frozen) before they are frozen. A full collection
# walks about ten million objects a second, so this many cost a few milliseconds; and a
# wave of connections (a few hundred objects each) is frozen within a few hundred of them.
FREEZE_AT = 50_000
# How often the oldest generation is counted; counting it costs about as much as walking it.
CHECK_SECONDS = 1.0
# How often everything, frozen objects too, is collected: cycles among frozen objects that
# became garbage (connections that came and went) are otherwise kept for the process's life.
# One pause of a full collection this often bounds that memory; far rarer than the
# collector's own full collections were (several a minute under load).
COLLECT_ALL_SECONDS = 15 * 60


@dataclass
class HeapStats:
    freezes: int = 0
    last_freeze_seconds: float = 0.0
    kept_garbage_found: int = 0  # what collect_all found that freezing had kept


class Heap:
    """Freezes the long-lived objects of this process (see the module's note)."""

    def __init__(self, freeze_at: int = FREEZE_AT, collect_all_seconds: float = COLLECT_ALL_SECONDS) -> None:
        self.freeze_at = freeze_at
        self.collect_all_seconds = collect_all_seconds
        self.stats = HeapStats()

    def settle(self) -> None:
        """After start-up: collect what start-up left behind, then freeze the rest."""
        gc.collect()
        self._freeze()

    def tend(self) -> bool:
        """Freeze if enough long-lived objects arrived since the last freeze; whether it did."""
        if len(gc.get_objects(generation=2)) < self.freeze_at:
            return False
        # Young cyclic garbage goes first, so only what is alive now is frozen.
        gc.collect(1)
        self._freeze()
        return True

    async def keep(self, running: Callable[[], bool]) -> None:
        """Tend every CHECK_SECONDS while `running()` says the process serves, and collect
        everything every `collect_all_seconds`."""
        last_full = time.monotonic()
        while running():
            if time.monotonic() - last_full >= self.collect_all_seconds:
                self.stats.kept_garbage_found += self.collect_all()
                last_full = time.monotonic()
            else:
                self.tend()
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
