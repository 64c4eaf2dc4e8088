"""The checks a shared screen's frames pass before they are relayed: the right stream, a
payload within the cap, and no more frames or bytes a second than the admin allows
(with room for bursts). A frame that fails is dropped and logged, never the socket."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import lifeline_protocol.binary as binary
from lifeline_protocol import screen

log = logging.getLogger("lifeline.realtime")

LOG_EVERY = 100  # a flood of bad frames logs its first and every 100th, not each one
BURST = 2  # a second may carry twice the admin's rate (a key frame after a still screen)
MIN_FRAME_CAP = 64 * 1024  # bytes of one frame's payload, whatever the bitrate cap


@dataclass(frozen=True)
class Caps:
    """The admin's caps on a share (settings `screen_max_*`)."""

    fps: int = screen.DEFAULT_MAX_FPS
    kbits: int = screen.DEFAULT_MAX_KBITS
    width: int = screen.DEFAULT_MAX_WIDTH
    height: int = screen.DEFAULT_MAX_HEIGHT

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Caps:
        return cls(
            settings["screen_max_fps"],
            settings["screen_max_kbits"],
            settings["screen_max_width"],
            settings["screen_max_height"],
        )

    @property
    def frame_bytes(self) -> int:
        """A frame's payload may hold two seconds at the bitrate cap (a large key frame)."""
        return min(binary.MAX_PAYLOAD, max(MIN_FRAME_CAP, self.kbits * 250))


class DropLog:
    """Counts dropped frames; logs the first and then one in LOG_EVERY."""

    def __init__(self) -> None:
        self.dropped = 0

    def drop(self, what: str, reason: str) -> None:
        self.dropped += 1
        if self.dropped % LOG_EVERY == 1:
            log.error("dropped a screen frame of %s: %s (%d dropped so far)", what, reason, self.dropped)


class FrameGuard:
    """One share's frames, checked; `refusal` says why a frame is dropped, or None."""

    def __init__(self, stream: int, caps: Caps) -> None:
        self.stream = stream
        self.caps = caps
        self._second = time.monotonic()
        self._frames = 0
        self._bytes = 0

    def refusal(self, header: binary.Header, size: int) -> str | None:
        if header.kind is not binary.FrameKind.SCREEN:
            return "not a screen frame"
        if header.stream != self.stream:
            return f"stream {header.stream} is not this share's ({self.stream})"
        payload = size - binary.HEADER_SIZE
        if payload > self.caps.frame_bytes:
            return f"{payload} bytes is over the cap of {self.caps.frame_bytes}"
        now = time.monotonic()
        if now - self._second >= 1:
            self._second, self._frames, self._bytes = now, 0, 0
        if self._frames + 1 > self.caps.fps * BURST:
            return f"over {self.caps.fps * BURST} frames a second"
        if self._bytes + payload > self.caps.kbits * 125 * BURST:
            return f"over {self.caps.kbits * BURST} kbit/s"
        self._frames += 1
        self._bytes += payload
        return None
