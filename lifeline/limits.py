"""Simple in-process rate limits, for guesses that must stay expensive (session keys, passwords).

Not HTTP: the runtime holds the limits every door shares (failed sign-ins per address), so
they sit on the lowest floor, below runtime.py, and http/ does not re-export them."""

from __future__ import annotations

import time
from collections import OrderedDict


class FailureLimit:
    """At most `allowed` failures per key (a client address) in a sliding `window` of seconds."""

    def __init__(self, allowed: int, window: float, *, max_keys: int = 50_000) -> None:
        self.allowed = allowed
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window]
        if times:
            self._failures[key] = times
            self._failures.move_to_end(key)
        else:
            self._failures.pop(key, None)
        return times

    def blocked(self, key: str) -> bool:
        return len(self._recent(key, time.monotonic())) >= self.allowed

    def failed(self, key: str) -> None:
        now = time.monotonic()
        times = self._recent(key, now)
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def attempt(self, key: str) -> bool:
        """Count an attempt as a failure before it is checked, so attempts sent at once all
        count; False (and nothing counted) when the key is blocked."""
        if self.blocked(key):
            return False
        self.failed(key)
        return True

    def succeeded(self, key: str) -> None:
        """The attempt `attempt` counted was right after all: it stops counting."""
        times = self._failures.get(key)
        if times:
            times.pop()
