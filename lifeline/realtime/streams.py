"""Binary streams (screens, file chunks) relayed to the sockets watching them.

A stream's frames do not go through a socket's text outbox (whose overflow closes the
socket with 4408): each viewer has a lane per stream it watches, and every viewer's lanes
together hold at most VIEWER_BYTES. A frame that does not fit is dropped and the lane
skips every frame up to the next key frame, so what a viewer gets always decodes; a key
frame that does not fit replaces the older frames still waiting in its lane. Whoever sends
the stream is asked for a key frame (KeyFrameWanted on the bus) when a viewer starts
watching and while one is skipping, once until a key frame comes (again after
KEY_REQUEST_SECONDS if none does). The sender's call never waits for a viewer, and a slow
viewer never holds up the others: each socket's writer takes from its own lanes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import lifeline_protocol.binary as binary

from lifeline.bus import Bus
from lifeline.bus.base import StreamFollowed
from lifeline.bus.wire import live_event

log = logging.getLogger("lifeline.realtime")

VIEWER_BYTES = 2 * binary.MAX_FRAME  # frames waiting for one viewer, all its streams together
LANE_FRAMES = 30  # frames waiting in one lane: about a second of screen at most
KEY_REQUEST_SECONDS = 0.5  # an unanswered request for a key frame is repeated after this long, not before


@live_event
@dataclass(frozen=True)
class KeyFrameWanted:
    """A viewer (in any appliance process) starts or resumes this stream: whoever sends it
    should send a key frame soon."""

    stream: int


class Lane:
    __slots__ = ("frames", "held", "skipping")

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self.held = 0
        self.skipping = True  # a viewer starts at a key frame


class Lanes:
    """One viewer's frames waiting to be written, a lane per stream, bounded in bytes."""

    # Every socket has one, most never watch a stream: slots and a dict (not a deque) keep
    # an idle one small (about 650 bytes less a socket, 6.5 MB for 10,000 customers).
    __slots__ = ("_lanes", "_turns", "_wake", "dropped", "held", "limit")

    def __init__(self, wake: Callable[[], None], limit: int = VIEWER_BYTES) -> None:
        self._wake = wake
        self.limit = limit
        self.held = 0
        self.dropped = 0
        self._lanes: dict[int, Lane] = {}
        # Streams with frames waiting, in the order they are served (a dict as an ordered set).
        self._turns: dict[int, None] = {}

    def __bool__(self) -> bool:
        return bool(self._turns)

    @property
    def streams(self) -> set[int]:
        return set(self._lanes)

    def open(self, stream: int) -> None:
        self._lanes.setdefault(stream, Lane())

    def close(self, stream: int) -> None:
        lane = self._lanes.pop(stream, None)
        if lane is not None:
            self.held -= lane.held
            if lane.frames:
                del self._turns[stream]

    def skip(self, stream: int) -> None:
        """Frames of the stream were lost before they reached this viewer: wait for a key frame."""
        lane = self._lanes.get(stream)
        if lane is not None:
            lane.skipping = True

    def offer(self, stream: int, frame: bytes, key: bool) -> bool:
        """Queue a frame; False when this viewer skips it and is waiting for a key frame."""
        lane = self._lanes.get(stream)
        if lane is None:
            return True
        if lane.skipping and not key:
            self.dropped += 1
            return False
        full = len(lane.frames) >= LANE_FRAMES or self.held + len(frame) > self.limit
        if full and key:
            self._empty(stream, lane)  # older than the key frame: the viewer can start from it instead
            full = self.held + len(frame) > self.limit
        if full:
            self.dropped += 1
            lane.skipping = True
            return False
        lane.skipping = False
        if not lane.frames:
            self._turns[stream] = None
        lane.frames.append(frame)
        lane.held += len(frame)
        self.held += len(frame)
        self._wake()
        return True

    def _empty(self, stream: int, lane: Lane) -> None:
        if lane.frames:
            self.dropped += len(lane.frames)
            del self._turns[stream]
            lane.frames.clear()
            self.held -= lane.held
            lane.held = 0

    def take(self) -> bytes | None:
        """The next frame to write, taking turns between streams."""
        if not self._turns:
            return None
        stream = next(iter(self._turns))
        del self._turns[stream]
        lane = self._lanes[stream]
        frame = lane.frames.popleft()
        lane.held -= len(frame)
        self.held -= len(frame)
        if lane.frames:
            self._turns[stream] = None
        return frame


class Viewer(Protocol):
    """A socket that can watch streams (realtime.hub.Peer)."""

    @property
    def frames(self) -> Lanes: ...


class StreamRelay:
    """Which viewers of this process watch which streams, fed by the bus: frames sent here
    and, with Redis, frames of the streams watched here that other processes sent. Who may
    watch a stream is the caller's decision."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.viewers: dict[int, set[Viewer]] = {}
        self._last: dict[int, int] = {}  # stream -> sequence of the last frame relayed
        self._asked: dict[int, float] = {}  # stream -> when a key frame was asked for and has not come yet
        self._unsubscribe = bus.subscribe_frames(self._relay)
        self._unsubscribe_events = bus.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()
        self._unsubscribe_events()

    def _on_event(self, event: object) -> None:
        """This process now hears the stream's frames from the others (Redis): the key frame
        asked for when its first viewer came may have been sent before, to nobody; ask again."""
        if isinstance(event, StreamFollowed) and event.stream in self.viewers:
            self._asked.pop(event.stream, None)
            self._ask_for_key_frame(event.stream)

    def watch(self, viewer: Viewer, stream: int) -> None:
        """From the next key frame on, the viewer gets the stream's frames."""
        viewers = self.viewers.get(stream)
        if viewers is None:
            viewers = self.viewers[stream] = set()
            self.bus.follow_stream(stream)
        if viewer in viewers:
            return
        viewers.add(viewer)
        viewer.frames.open(stream)
        self._ask_for_key_frame(stream)

    def unwatch(self, viewer: Viewer, stream: int) -> None:
        viewers = self.viewers.get(stream)
        if viewers is None or viewer not in viewers:
            return
        viewers.discard(viewer)
        viewer.frames.close(stream)
        if not viewers:
            del self.viewers[stream]
            self._last.pop(stream, None)
            self._asked.pop(stream, None)
            self.bus.unfollow_stream(stream)

    def forget(self, viewer: Viewer) -> None:
        """The viewer's socket is gone."""
        for stream in viewer.frames.streams:
            self.unwatch(viewer, stream)

    def send(self, header: binary.Header, frame: bytes) -> None:
        """A frame from a sender on this process (its header checked, as a socket's
        FrameHandler gets it), to every viewer of its stream in any process. Never waits."""
        self.bus.publish_frame(header.stream, frame)

    def _relay(self, stream: int, frame: bytes) -> None:
        viewers = self.viewers.get(stream)
        if not viewers:
            return
        try:
            header = binary.unpack_header(frame)
            if header.stream != stream:
                raise binary.FrameError(f"it is a frame of stream {header.stream}")
        except binary.FrameError as error:
            log.error("dropped a frame on stream %d: %s", stream, error)
            return
        last = self._last.get(stream)
        self._last[stream] = header.sequence
        if header.key:
            self._asked.pop(stream, None)  # answered (or sent anyway): the next request goes at once
        if last is not None and not header.key and not binary.follows(last, header.sequence):
            # Frames were lost on the way (the bus dropped some): nobody here can decode on.
            for viewer in viewers:
                viewer.frames.skip(stream)
        behind = False
        for viewer in viewers:
            if not viewer.frames.offer(stream, frame, header.key):
                behind = True
        if behind:
            self._ask_for_key_frame(stream)

    def _ask_for_key_frame(self, stream: int) -> None:
        """One request at a time per stream: viewers that start or fall behind while a key
        frame is on its way wait for that one (a key frame is costly to make and to send)."""
        now = time.monotonic()
        if now - self._asked.get(stream, -KEY_REQUEST_SECONDS) < KEY_REQUEST_SECONDS:
            return
        self._asked[stream] = now
        self.bus.publish_local(KeyFrameWanted(stream))
