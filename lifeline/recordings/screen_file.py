"""A screen recording's two forms: while the session runs, a raw log of the frames as they
came (crash-safe: each record is one append, on disk as soon as written), and at its end a
seekable WebM made from that log by remuxing (the frames are copied, never re-encoded).

A record of the log: u32 payload length, u64 milliseconds since the recording began, u8
flags (1: a key frame), then the payload (one VP8 frame, as the sender encoded it).
"""

from __future__ import annotations

import itertools
import logging
import struct
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

log = logging.getLogger("lifeline.recordings")

RECORD = struct.Struct("!IQB")
KEY = 0x01
MAX_RECORD = 2 * 1024 * 1024  # a longer length is a torn or foreign file: reading stops there


def record(ms: int, key: bool, payload: bytes) -> bytes:
    return RECORD.pack(len(payload), ms, KEY if key else 0) + payload


def records(path: Path) -> Iterator[tuple[int, bool, bytes]]:
    """The log's records in order; a record cut short by a crash ends it."""
    with path.open("rb") as handle:
        while True:
            head = handle.read(RECORD.size)
            if len(head) < RECORD.size:
                return
            length, ms, flags = RECORD.unpack(head)
            if length > MAX_RECORD:
                log.error("%s: a record of %d bytes; the rest is skipped", path.name, length)
                return
            payload = handle.read(length)
            if len(payload) < length:
                return
            yield ms, bool(flags & KEY), payload


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """A VP8 key frame's picture size (RFC 6386, 9.1): the start code 9d 01 2a at byte 3,
    then 14-bit width and height, little-endian. None for anything else."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


def remux(log_path: Path, webm_path: Path) -> int | None:
    """The log made into a WebM, from its first key frame; its size, or None when the log
    holds no key frame (nothing can be played)."""
    import av  # only here: the appliance loads libav when a recording ends, not at start

    frames = records(log_path)
    first = next(((ms, key, p) for ms, key, p in frames if key and vp8_size(p)), None)
    if first is None:
        return None
    width, height = vp8_size(first[2]) or (0, 0)
    webm_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with av.open(str(webm_path), mode="w", format="webm") as out:
        stream = out.add_stream("vp8")
        stream.width, stream.height = width, height
        stream.time_base = Fraction(1, 1000)
        last = -1
        for ms, key, payload in itertools.chain([first], frames):
            at = max(ms, last + 1)  # a muxer wants rising timestamps
            last = at
            packet = av.Packet(payload)
            packet.stream = stream
            packet.pts = packet.dts = at
            packet.time_base = Fraction(1, 1000)
            packet.is_keyframe = key
            out.mux(packet)
    return webm_path.stat().st_size
