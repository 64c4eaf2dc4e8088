"""VP8 pictures from raw screen captures, with PyAV's libvpx: tuned for a live screen (no
look-ahead, the fastest real-time settings), scaled down to fit the admin's caps."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
from av.video.frame import PictureType, VideoFrame

MIN_BITRATE = 50_000  # bits/s: the protocol's lowest `kbits`


def fit(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The encoded picture's size: the monitor scaled down (never up) to fit, aspect kept,
    both even (yuv420p halves them)."""
    scale = min(1.0, max_width / width, max_height / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


@dataclass(frozen=True, slots=True)
class Packet:
    data: bytes
    key: bool


class Encoder:
    """One VP8 stream of `width` x `height` pictures from BGRA captures of `source` size."""

    def __init__(self, source: tuple[int, int], size: tuple[int, int], bitrate: int, fps: int) -> None:
        self.source = source
        self.width, self.height = size
        self.bitrate = max(MIN_BITRATE, bitrate)
        context = av.CodecContext.create("libvpx", "w")
        assert isinstance(context, av.VideoCodecContext)
        context.width = self.width
        context.height = self.height
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, 1000)  # pts in milliseconds since the share started
        context.framerate = Fraction(fps, 1)
        context.bit_rate = self.bitrate
        context.gop_size = 10_000  # key frames come when asked for (the sharer asks every few seconds)
        context.thread_count = 2
        context.options = {
            "deadline": "realtime",
            "cpu-used": "8",  # the fastest: a live screen before quality
            "lag-in-frames": "0",  # every picture out at once
            "error-resilient": "1",
            "static-thresh": "100",
        }
        context.open()
        self._context = context

    def encode(self, bgra: bytes | bytearray, line_size: int, timestamp: int, *, key: bool) -> list[Packet]:
        """Encode one capture (rows of `line_size` bytes); `key` forces a key frame."""
        width, height = self.source
        frame = VideoFrame(width, height, "bgra")
        plane = frame.planes[0]
        if plane.line_size == line_size:
            plane.update(bytes(bgra) if isinstance(bgra, bytearray) else bgra)
        else:  # the frame's rows are padded (or the capture's): copy row by row
            row = width * 4
            padding = b"\0" * (plane.line_size - row)
            plane.update(b"".join(bytes(bgra[y * line_size : y * line_size + row]) + padding for y in range(height)))
        picture = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        picture.pts = timestamp
        if key:
            picture.pict_type = PictureType.I
        return [Packet(bytes(packet), packet.is_keyframe) for packet in self._context.encode(picture)]
