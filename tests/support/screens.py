"""Screen sharing spoken from tests: real VP8 frames (encoded here with PyAV, a few small
coloured pictures), sent as SCREEN binary frames, and a console's frames read back."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from lifeline_protocol import binary

from tests.support.client_socket import ShellConsole, receive


def vp8_pictures(count: int = 4, width: int = 64, height: int = 48) -> list[tuple[bytes, bool]]:
    """`count` encoded pictures, each a different colour: (payload, key frame?), a key frame first."""
    import av

    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 30)
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    encoded: list[tuple[bytes, bool]] = []
    for n in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane, value in zip(frame.planes, (40 + 50 * n, 90, 200 - 40 * n), strict=True):
            plane.update(bytes([value % 256]) * plane.buffer_size)
        frame.pts = n
        encoded += [(bytes(p), p.is_keyframe) for p in codec.encode(frame)]
    encoded += [(bytes(p), p.is_keyframe) for p in codec.encode(None)]
    return encoded


def screen_frame(stream: int, sequence: int, payload: bytes, *, key: bool, timestamp: int = 0) -> bytes:
    return binary.pack(
        binary.Header(binary.FrameKind.SCREEN, stream, sequence, timestamp or sequence * 33, key), payload
    )


def screen_frames(console: ShellConsole, stream: int, count: int, *, timeout: float = 10) -> list[bytes]:
    """The first `count` frames of `stream` the console got (text read meanwhile waits in its backlog)."""
    if not hasattr(console, "frames"):
        console.frames, console.backlog = [], []
    end = time.monotonic() + timeout
    while True:
        got = [f for f in console.frames if binary.unpack_header(f).stream == stream]
        if len(got) >= count:
            return got[:count]
        left = end - time.monotonic()
        if left <= 0:
            seen = [binary.unpack_header(f) for f in console.frames]
            raise TimeoutError(f"stream {stream}: {len(got)} frames of {count}; {seen}")
        raw = receive(console.socket, left)
        if isinstance(raw, bytes):
            console.frames.append(raw)
        else:
            console.backlog.append(raw)


class ScreenConsole(ShellConsole):
    """A console that keeps every `screen` push it read (an ack read past them is no loss)."""

    pushed: list[dict[str, Any]]

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        if not hasattr(self, "pushed"):
            self.pushed = []
        while True:
            message = super().until(*types, "screen", timeout=timeout)
            if message["type"] == "screen":
                self.pushed.append(message)
            if message["type"] in types:
                return message

    def screen(self, check: Callable[[dict[str, Any]], bool], *, timeout: float = 10) -> dict[str, Any]:
        """The latest `screen` push once it passes `check`."""
        end = time.monotonic() + timeout
        while True:
            pushed = getattr(self, "pushed", [])
            if pushed and check(pushed[-1]):
                return pushed[-1]
            self.until("screen", timeout=max(end - time.monotonic(), 0.01))
