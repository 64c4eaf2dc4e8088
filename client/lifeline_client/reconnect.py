"""Waiting before the next try: jittered, from 0.5 s doubling to 10 s (the contract)."""

from __future__ import annotations

import random

FIRST = 0.5
LAST = 10.0


class Backoff:
    def __init__(self) -> None:
        self._delay = FIRST

    def next(self) -> float:
        """The wait before this try: between half and all of the current delay."""
        wait = self._delay * random.uniform(0.5, 1.0)
        self._delay = min(self._delay * 2, LAST)
        return wait

    def reset(self) -> None:
        self._delay = FIRST
