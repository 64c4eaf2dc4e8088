"""The bus interface and its in-process implementation.

Besides live events the bus carries binary frames (screens, file chunks) by stream:
`publish_frame` delivers a frame to this process's frame subscribers at once and, with
Redis, to the processes that follow its stream. Frames are perishable: where a bus cannot
keep up it drops them (and counts), it never queues them without bound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lifeline.bus.wire import live_event

log = logging.getLogger("lifeline.bus")

Subscriber = Callable[[Any], None]
FrameSubscriber = Callable[[int, bytes], None]  # (stream, frame)


@live_event
@dataclass(frozen=True)
class StreamFollowed:
    """A process now listens to this stream's channel (Redis): publish its frames again, and
    its viewers waiting for a key frame ask for one now that it can reach them."""

    stream: int


@dataclass(frozen=True)
class BusResumed:
    """This process hears the other processes again after a while without (Redis restarted or
    unreachable): what they published meanwhile never came, so whoever shows live state reads
    it afresh. Delivered here only, never published."""


class Bus:
    """Delivers each published event to every subscriber, on the event loop's thread."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._frame_subscribers: list[FrameSubscriber] = []
        self.frames_dropped = 0  # frames this process could not pass on to the others

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

    def subscribe_frames(self, subscriber: FrameSubscriber) -> Callable[[], None]:
        self._frame_subscribers.append(subscriber)
        return lambda: self._frame_subscribers.remove(subscriber)

    def publish_frame(self, stream: int, frame: bytes) -> None:
        """A frame sent to this process: its subscribers get it now, before this returns."""
        self.deliver_frame(stream, frame)

    def deliver_frame(self, stream: int, frame: bytes) -> None:
        for subscriber in list(self._frame_subscribers):
            try:
                subscriber(stream, frame)
            except Exception:
                log.exception("bus frame subscriber failed on stream %d", stream)

    def follow_stream(self, stream: int) -> None:
        """Someone here watches this stream: hear its frames from the other processes too."""

    def unfollow_stream(self, stream: int) -> None:
        """Nobody here watches it any more."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessBus(Bus):
    """The default: one appliance process, nothing to connect to."""
