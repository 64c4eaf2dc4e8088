"""The bus interface and its in-process implementation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("lifeline.bus")

Subscriber = Callable[[Any], None]


class Bus:
    """Delivers each published event to every subscriber, on the event loop's thread."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish_local(self, event: Any) -> None:
        """An event committed by this process."""
        self.deliver(event)

    def deliver(self, event: Any) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("bus subscriber failed on %r", event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessBus(Bus):
    """The default: one appliance process, nothing to connect to."""
