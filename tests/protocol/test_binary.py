"""The binary frame layout: what `pack` makes `unpack` reads back, and any bytes at all
are either a frame or the protocol's FrameError, never another exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifeline_protocol import binary
from lifeline_protocol.binary import MAX_FRAME, FrameError, FrameKind, Header, pack, unpack, unpack_header

numbers = st.integers(min_value=0, max_value=2**32 - 1)
headers = st.builds(
    Header,
    kind=st.sampled_from(FrameKind),
    stream=st.integers(min_value=1, max_value=2**32 - 1),
    sequence=numbers,
    timestamp=numbers,
    key=st.booleans(),
    last=st.booleans(),
)


@given(headers, st.binary(max_size=2000))
def test_a_packed_frame_unpacks_to_itself(header: Header, payload: bytes) -> None:
    data = pack(header, payload)
    assert len(data) == binary.HEADER_SIZE + len(payload)
    assert unpack(data) == binary.Frame(header, payload)
    assert unpack_header(data) == header


def test_the_header_is_sixteen_bytes_in_network_order() -> None:
    data = pack(Header(FrameKind.SCREEN, stream=0x01020304, sequence=5, timestamp=6, key=True), b"vp8")
    assert data == bytes([1, 1, 1, 0, 1, 2, 3, 4, 0, 0, 0, 5, 0, 0, 0, 6]) + b"vp8"


@given(st.binary(max_size=64))
def test_any_bytes_are_a_frame_or_a_frame_error(data: bytes) -> None:
    try:
        frame = unpack(data)
    except FrameError:
        return
    assert pack(frame.header, frame.payload) == data


@given(headers, st.binary(max_size=64), st.integers(min_value=0, max_value=15), st.integers(0, 255))
def test_a_frame_with_any_byte_of_its_header_changed_is_a_frame_or_a_frame_error(
    header: Header, payload: bytes, where: int, value: int
) -> None:
    data = bytearray(pack(header, payload))
    data[where] = value
    try:
        frame = unpack(bytes(data))
    except FrameError:
        return
    assert pack(frame.header, frame.payload) == data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "16-byte header"),
        (b"\x01\x01\x00\x00\x00\x00\x00\x01", "16-byte header"),
        (bytes([2, 1, 0, 0, 0, 0, 0, 1]) + bytes(8), "unknown frame version 2"),
        (bytes([1, 9, 0, 0, 0, 0, 0, 1]) + bytes(8), "unknown frame kind 9"),
        (bytes([1, 1, 4, 0, 0, 0, 0, 1]) + bytes(8), "unknown frame flags"),
        (bytes([1, 1, 0, 7, 0, 0, 0, 1]) + bytes(8), "unknown frame flags"),
        (bytes([1, 1, 0, 0, 0, 0, 0, 0]) + bytes(8), "stream 0 is no stream"),
        (bytes([1, 1, 0, 0, 0, 0, 0, 1]) + bytes(MAX_FRAME - 7), "limited to 1048576 bytes"),
    ],
)
def test_what_is_not_a_frame_says_why(data: bytes, error: str) -> None:
    with pytest.raises(FrameError, match=error):
        unpack(data)


def test_the_largest_frame_passes_and_one_byte_more_does_not() -> None:
    header = Header(FrameKind.FILE_CHUNK, stream=1, sequence=0)
    assert len(pack(header, bytes(binary.MAX_PAYLOAD))) == MAX_FRAME
    with pytest.raises(FrameError, match="limited"):
        pack(header, bytes(binary.MAX_PAYLOAD + 1))


@given(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-5, max_value=300),
)
def test_pack_refuses_numbers_out_of_range_with_a_frame_error(
    stream: int, sequence: int, timestamp: int, kind: int
) -> None:
    try:
        data = pack(Header(kind, stream, sequence, timestamp), b"")  # type: ignore[arg-type]
    except FrameError:
        return
    assert unpack_header(data).stream == stream


def test_sequences_follow_each_other_across_the_wrap() -> None:
    assert binary.follows(7, 8)
    assert binary.follows(2**32 - 1, 0)
    assert not binary.follows(7, 9)
    assert not binary.follows(7, 7)


def test_the_layout_in_docs_is_the_declared_one() -> None:
    """docs/realtime.md's table of the header, read back: each field where pack puts it."""
    text = (Path(__file__).parents[2] / "docs" / "realtime.md").read_text()
    section = text.split("## Binary frames", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (\d+|…) \| `?([a-z ]+)`? \|", section, re.MULTILINE)
    layout = {name: (int(offset), size) for offset, size, name in rows}
    header = Header(FrameKind.FILE_CHUNK, stream=0x0A0B0C0D, sequence=0x01020304, timestamp=0x05060708, last=True)
    data = pack(header, b"payload")
    expected = {
        "version": binary.VERSION,
        "kind": FrameKind.FILE_CHUNK,
        "flags": binary.LAST,
        "reserved": 0,
        "stream": header.stream,
        "sequence": header.sequence,
        "timestamp": header.timestamp,
    }
    assert set(layout) == {*expected, "payload"}
    for name, value in expected.items():
        offset, size = layout[name]
        assert int.from_bytes(data[offset : offset + int(size)], "big") == value, name
    assert layout["payload"] == (binary.HEADER_SIZE, "…")
    assert f"{binary.HEADER_SIZE}-byte header" in section
    assert f"({MAX_FRAME:,} bytes)" in section
    for kind in FrameKind:
        assert f"`{kind.value}` {kind.name.lower().replace('_', ' ')}" in section
    assert f"`0x{binary.KEY:02x}` key" in section
    assert f"`0x{binary.LAST:02x}` last" in section
