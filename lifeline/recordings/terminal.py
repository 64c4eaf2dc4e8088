"""What a command shell recording showed, screen by screen: its output replayed through a
terminal emulator (pyte), as frames a page steps through to play and seek.

A frame names its rows by line number; each different line is sent once, before the first
frame that shows it, so a screen that scrolls costs only its new lines. Huge recordings
are bounded: the file is read a line at a time, and the replay stops (saying so) after
`Limits.output` characters of output or `Limits.cells` of what it sends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyte
from pyte.screens import Char

from lifeline.recordings.asciicast import bounded_lines, read_events, read_header

MAX_COLUMNS, MAX_ROWS = 400, 200  # a larger size in a recording is shown clipped to this
FRAME_INTERVAL = 1 / 30  # output closer together than this is shown as one frame
MAX_EVENT_BYTES = 1024 * 1024  # a longer asciicast line is skipped
RECENT_ROWS = 4 * MAX_ROWS

# Run flags
BOLD, ITALIC, UNDERLINE, REVERSE, STRIKE = 1, 2, 4, 8, 16

# (text, foreground, background, flags); a colour is "" (the terminal's own), a name
# ("red", "brightblue") or six hex digits.
Run = tuple[str, str, str, int]


@dataclass(frozen=True)
class Limits:
    output: int = 8 * 1024 * 1024  # characters of shell output replayed
    cells: int = 4_000_000  # characters of new lines plus rows of frames sent


@dataclass(frozen=True)
class Size:
    """The terminal's size at the start (and after each resize)."""

    width: int
    height: int


@dataclass(frozen=True)
class Line:
    number: int
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Frame:
    at: float  # seconds from the start
    rows: tuple[int, ...]  # a line number per row, top to bottom
    cursor: tuple[int, int] | None  # (column, row), None while hidden


@dataclass(frozen=True)
class End:
    at: float  # the recording's length (or where the replay stopped)
    truncated: bool  # stopped at a limit: the download has the rest


Piece = Size | Line | Frame | End


def _clip(value: object, top: int, default: int) -> int:
    return min(max(value, 1), top) if isinstance(value, int) else default


def _colour(value: str) -> str:
    return "" if value == "default" else value


def _flags(char: Char) -> int:
    return (
        (BOLD if char.bold else 0)
        | (ITALIC if char.italics else 0)
        | (UNDERLINE if char.underscore else 0)
        | (REVERSE if char.reverse else 0)
        | (STRIKE if char.strikethrough else 0)
    )


def _shows_nothing(char: Char) -> bool:
    return char.data in (" ", "") and char.bg == "default" and not (char.underscore or char.reverse)


def _runs(row: dict[int, Char], width: int, blank: Char) -> tuple[Run, ...]:
    """A row as runs of one style each, without the blanks at its end that show nothing."""
    end = next((x + 1 for x in sorted(row, reverse=True) if x < width and not _shows_nothing(row[x])), 0)
    runs: list[Run] = []
    for char in (row.get(x, blank) for x in range(end)):
        style = (_colour(char.fg), _colour(char.bg), _flags(char))
        if runs and runs[-1][1:] == style:
            runs[-1] = (runs[-1][0] + char.data, *style)
        else:
            runs.append((char.data, *style))
    return tuple(runs)


class _Replay:
    def __init__(self, width: int, height: int, limits: Limits) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.Stream(self.screen)
        self.limits = limits
        self.numbers: dict[tuple[Run, ...], int] = {}
        # Rows seen lately, by their cells: a scrolling screen marks every row changed though
        # most only moved, and working out a row's runs is what a replay spends its time on.
        self.recent: dict[tuple[int, tuple[tuple[int, Char], ...]], int] = {}
        self.rows: list[int] = []
        self.cells = 0
        self.output = 0

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(lines=height, columns=width)

    def feed(self, text: str) -> None:
        self.output += len(text)
        self.stream.feed(text)

    def frame(self, at: float) -> Iterator[Line | Frame]:
        """The screen now: lines not sent before, then the frame."""
        screen = self.screen
        if len(self.rows) != screen.lines:
            self.rows = (self.rows + [-1] * screen.lines)[: screen.lines]
            screen.dirty.update(range(screen.lines))
        for y in sorted(screen.dirty):
            if y >= screen.lines:
                continue
            row = screen.buffer[y]
            cells = (screen.columns, tuple(row.items()))
            number = self.recent.get(cells)
            if number is None:
                runs = _runs(row, screen.columns, screen.default_char)
                number = self.numbers.get(runs)
                if number is None:
                    number = self.numbers[runs] = len(self.numbers)
                    self.cells += 16 + sum(len(run[0]) for run in runs)
                    yield Line(number, runs)
                if len(self.recent) >= RECENT_ROWS:
                    self.recent.clear()
                self.recent[cells] = number
            self.rows[y] = number
        screen.dirty.clear()
        self.cells += 8 + screen.lines
        x, y = min(screen.cursor.x, screen.columns - 1), min(screen.cursor.y, screen.lines - 1)
        cursor = None if screen.cursor.hidden else (x, y)
        yield Frame(round(at, 3), tuple(self.rows), cursor)

    @property
    def over(self) -> bool:
        return self.output > self.limits.output or self.cells > self.limits.cells


def replay(lines: Iterable[bytes], limits: Limits = Limits()) -> Iterator[Piece]:
    """The recording as its terminal showed it: a Size, then Lines and Frames (the first at
    0 s, blank), ending with End. Input events are not shown (the shell echoes what it
    shows); resizes are."""
    lines = iter(lines)
    header = read_header(next(lines, b"{}"))
    width = _clip(header.get("width"), MAX_COLUMNS, 80)
    height = _clip(header.get("height"), MAX_ROWS, 24)
    yield Size(width, height)
    state = _Replay(width, height, limits)
    yield from state.frame(0)
    pending: float | None = None  # when the first change not yet in a frame happened
    last = 0.0
    for at, code, data in read_events(_after_header(lines)):
        if not math.isfinite(at):
            continue
        at = max(at, last)  # time never runs backwards
        if pending is not None and (at - pending >= FRAME_INTERVAL or state.over):
            yield from state.frame(pending)
            pending = None
        if state.over:
            yield End(round(last, 3), truncated=True)
            return
        if code == "o":
            state.feed(data)
        elif code == "r" and (size := _size(data)) is not None:
            state.resize(*size)
            yield Size(*size)
        else:
            continue
        last = at
        if pending is None:
            pending = at
    if pending is not None:
        yield from state.frame(pending)
    yield End(round(last, 3), truncated=False)


def _after_header(lines: Iterator[bytes]) -> Iterator[bytes]:
    yield b""  # read_events skips its first line as the header, which is already read
    yield from lines


def _size(data: str) -> tuple[int, int] | None:
    width, _, height = data.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return None
    return _clip(int(width), MAX_COLUMNS, 80), _clip(int(height), MAX_ROWS, 24)


def replay_file(handle: IO[bytes], limits: Limits = Limits()) -> Iterator[Piece]:
    return replay(bounded_lines(handle, MAX_EVENT_BYTES), limits)
