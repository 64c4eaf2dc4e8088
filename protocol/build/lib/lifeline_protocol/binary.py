"""Binary frames: screens and file chunks, carried as binary WebSocket frames.

A frame is a 16-byte header and its payload. Every number is big-endian:

    offset  size  field
    0       1     version    VERSION (1); a frame of another version is refused
    1       1     kind       FrameKind: 1 screen, 2 file chunk, 3 shell output
    2       1     flags      KEY (0x01): a viewer can start here; LAST (0x02): the stream ends
                             with this frame; every other bit must be 0
    3       1     reserved   0
    4       4     stream     which stream (unsigned, not 0): the appliance relays by it
    8       4     sequence   the frame's place in its stream, +1 per frame (wraps at 2**32);
                             a viewer that skipped frames sees the jump
    12      4     timestamp  milliseconds since the stream started (wraps after 49 days)
    16      ...   payload    the encoded picture or the file's bytes, as the sender made them

A whole frame is at most MAX_FRAME bytes (the appliance's WebSocket frame limit).
`pack` and `unpack` refuse anything else with FrameError, never another exception.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

VERSION = 1
HEADER = struct.Struct("!BBBBIII")
HEADER_SIZE = HEADER.size  # 16
MAX_FRAME = 1024 * 1024
MAX_PAYLOAD = MAX_FRAME - HEADER_SIZE
MAX_NUMBER = 2**32 - 1

KEY = 0x01
LAST = 0x02
KNOWN_FLAGS = KEY | LAST


class FrameError(ValueError):
    """Bytes that are not a frame of this protocol; the text says what is wrong."""


class FrameKind(enum.IntEnum):
    SCREEN = 1
    FILE_CHUNK = 2
    SHELL = 3  # a command shell's output, as the program wrote it (bytes, any encoding)


@dataclass(frozen=True, slots=True)
class Header:
    kind: FrameKind
    stream: int
    sequence: int
    timestamp: int = 0
    key: bool = False
    last: bool = False


@dataclass(frozen=True, slots=True)
class Frame:
    header: Header
    payload: bytes


def pack(header: Header, payload: bytes) -> bytes:
    """The frame as it goes on the wire."""
    if int(header.kind) not in FrameKind._value2member_map_:
        raise FrameError(f"unknown frame kind {int(header.kind)}")
    if not 0 < header.stream <= MAX_NUMBER:
        raise FrameError(f"the stream must be a number from 1 to {MAX_NUMBER}")
    for name, value in (("sequence", header.sequence), ("timestamp", header.timestamp)):
        if not 0 <= value <= MAX_NUMBER:
            raise FrameError(f"the {name} must be a number from 0 to {MAX_NUMBER}")
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(f"frames are limited to {MAX_FRAME} bytes")
    flags = (KEY if header.key else 0) | (LAST if header.last else 0)
    return HEADER.pack(VERSION, header.kind, flags, 0, header.stream, header.sequence, header.timestamp) + payload


def unpack_header(data: bytes) -> Header:
    """The header of a whole frame, checked (the payload is neither read nor copied: the
    appliance relays the frame as it came)."""
    if len(data) < HEADER_SIZE:
        raise FrameError(f"a frame starts with a {HEADER_SIZE}-byte header")
    if len(data) > MAX_FRAME:
        raise FrameError(f"frames are limited to {MAX_FRAME} bytes")
    version, kind, flags, reserved, stream, sequence, timestamp = HEADER.unpack_from(data)
    if version != VERSION:
        raise FrameError(f"unknown frame version {version}")
    if kind not in FrameKind._value2member_map_:
        raise FrameError(f"unknown frame kind {kind}")
    if flags & ~KNOWN_FLAGS or reserved:
        raise FrameError("unknown frame flags")
    if stream == 0:
        raise FrameError("stream 0 is no stream")
    return Header(FrameKind(kind), stream, sequence, timestamp, key=bool(flags & KEY), last=bool(flags & LAST))


def unpack(data: bytes) -> Frame:
    return Frame(unpack_header(data), bytes(data[HEADER_SIZE:]))


def follows(previous: int, sequence: int) -> bool:
    """Whether `sequence` comes right after `previous` (sequences wrap at 2**32)."""
    return (sequence - previous) & MAX_NUMBER == 1
