"""Command shell recordings in asciicast v2 (the asciinema format): a JSON header line, then
one JSON line `[seconds, code, data]` per event ("o" output, "i" input, "r" resize).

Players that understand it today: asciinema, asciinema-player, and anything that reads
JSON lines. https://docs.asciinema.org/manual/asciicast/v2/
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Protocol

from lifeline.text import parse_json

CONTENT_TYPE = "application/x-asciicast"

# CSI and OSC sequences and lone escapes: what a terminal interprets rather than shows.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...


class AsciicastWriter:
    def __init__(self, sink: Sink, *, width: int, height: int, started_at: datetime, title: str = "") -> None:
        self._sink = sink
        header: dict[str, Any] = {
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": int(started_at.timestamp()),
        }
        if title:
            header["title"] = title
        self._line(header)

    def _line(self, value: object) -> None:
        self._sink.write(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n")

    def output(self, seconds: float, text: str) -> None:
        self._line([round(seconds, 6), "o", text])

    def input(self, seconds: float, text: str) -> None:
        self._line([round(seconds, 6), "i", text])

    def resize(self, seconds: float, width: int, height: int) -> None:
        self._line([round(seconds, 6), "r", f"{width}x{height}"])


def bounded_lines(handle: IO[bytes], limit: int) -> Iterator[bytes]:
    """The file's lines, each read with at most `limit` bytes in memory; a longer line comes
    out empty (a reader skips it as damaged) rather than whole."""
    while line := handle.readline(limit):
        if len(line) == limit and not line.endswith(b"\n"):
            while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
                pass
            line = b""
        yield line


def read_header(line: bytes) -> dict[str, Any]:
    """The header line's fields ({} when it is not a JSON object)."""
    try:
        header = parse_json(line)
    except ValueError:
        return {}
    return header if isinstance(header, dict) else {}


def read_events(lines: Iterable[bytes]) -> Iterator[tuple[float, str, str]]:
    """The events of a recording (the header line is skipped; damaged lines are too)."""
    for number, raw in enumerate(lines):
        if number == 0 or not raw.strip():
            continue
        try:
            seconds, code, data = parse_json(raw)
        except (ValueError, TypeError):
            continue
        yield float(seconds), str(code), str(data)


def plain_output(lines: Iterable[bytes]) -> str:
    """What the shell printed, without terminal control sequences: for reading in a page."""
    text = "".join(data for _, code, data in read_events(lines) if code == "o")
    return _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
