"""Command shell recordings replayed as their terminal showed them (what /login's player
steps through): screens as lines and frames, colours, the cursor, resizes, output close
together shown as one frame, damaged and huge input, and the limits that bound a replay."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from lifeline.recordings.asciicast import bounded_lines
from lifeline.recordings.terminal import (
    BOLD,
    MAX_COLUMNS,
    REVERSE,
    End,
    Frame,
    Limits,
    Line,
    Piece,
    Size,
    replay,
    replay_file,
)


def cast(events: Sequence[tuple[float, str, str]], header: dict[str, Any] | None = None) -> list[bytes]:
    head = {"version": 2, "width": 20, "height": 4} if header is None else header
    return [json.dumps(head).encode() + b"\n", *(json.dumps(list(e)).encode() + b"\n" for e in events)]


def screens(pieces: list[Piece]) -> list[tuple[float, list[str]]]:
    """Each frame's time and rows as text."""
    lines: dict[int, str] = {}
    shown = []
    for piece in pieces:
        if isinstance(piece, Line):
            lines[piece.number] = "".join(run[0] for run in piece.runs)
        elif isinstance(piece, Frame):
            shown.append((piece.at, [lines[n] for n in piece.rows]))
    return shown


def test_a_shell_is_replayed_screen_by_screen() -> None:
    pieces = list(
        replay(
            cast(
                [
                    (0.0, "o", "C:\\> "),
                    (0.2, "i", "cls\r"),  # input is not shown: the shell echoes it
                    (0.25, "o", "cls\r\n"),
                    (1.0, "o", "\x1b[2J\x1b[Hclean\r\n"),
                ]
            )
        )
    )
    assert pieces[0] == Size(20, 4)
    assert screens(pieces) == [
        (0, ["", "", "", ""]),
        (0, ["C:\\>", "", "", ""]),  # the trailing blank shows nothing, so is not sent
        (0.25, ["C:\\> cls", "", "", ""]),
        (1.0, ["clean", "", "", ""]),
    ]
    assert pieces[-1] == End(1.0, truncated=False)
    frames = [p for p in pieces if isinstance(p, Frame)]
    assert [f.cursor for f in frames] == [(0, 0), (5, 0), (0, 1), (0, 1)]


def test_each_different_line_is_sent_once() -> None:
    pieces = list(replay(cast([(n * 0.1, "o", "same\r\n") for n in range(8)])))
    assert sorted(p.runs[0][0] if p.runs else "" for p in pieces if isinstance(p, Line)) == ["", "same"]


def test_colours_and_styles_come_in_runs() -> None:
    pieces = list(replay(cast([(0, "o", "\x1b[1;31mred\x1b[0m \x1b[7mrev\x1b[0m \x1b[38;5;208mamber\x1b[0m")])))
    runs = next(p.runs for p in pieces if isinstance(p, Line) and p.runs)
    assert runs == (
        ("red", "red", "", BOLD),
        (" ", "", "", 0),
        ("rev", "", "", REVERSE),
        (" ", "", "", 0),
        ("amber", "ff8700", "", 0),
    )


def test_output_close_together_is_one_frame_and_time_never_runs_backwards() -> None:
    pieces = list(replay(cast([(1.0, "o", "a"), (1.01, "o", "b"), (1.02, "o", "c"), (0.5, "o", "d"), (2, "o", "e")])))
    assert screens(pieces)[1:] == [(1.0, ["abcd", "", "", ""]), (2.0, ["abcde", "", "", ""])]


def test_resizes_are_followed_and_sizes_are_bounded() -> None:
    pieces = list(
        replay(cast([(0, "o", "x"), (1, "r", "30x2"), (2, "r", "100000x5"), (3, "r", "junk")], {"width": 10**9}))
    )
    sizes = [p for p in pieces if isinstance(p, Size)]
    assert sizes == [Size(MAX_COLUMNS, 24), Size(30, 2), Size(MAX_COLUMNS, 5)]
    assert [len(rows) for _, rows in screens(pieces)] == [24, 24, 2, 5]


def test_damaged_and_overlong_lines_are_skipped() -> None:
    raw = b"".join(cast([(0, "o", "ok")])) + b"not json\n[1]\n" + b'[1, "o", "' + b"x" * 5000 + b'"]\n[2, "o", "!"]\n'
    assert list(bounded_lines(io.BytesIO(b"abc\n" + b"y" * 100 + b"\nz"), 10)) == [b"abc\n", b"", b"z"]
    pieces = list(replay(bounded_lines(io.BytesIO(raw), 1000)))
    assert screens(pieces)[-1] == (2.0, ["ok!", "", "", ""])
    assert next(iter(replay_file(io.BytesIO(b"")))) == Size(80, 24)


def test_a_replay_stops_at_its_limits_and_says_so() -> None:
    events = [(n * 0.1, "o", f"line {n}\r\n") for n in range(100)]
    by_output = list(replay(cast(events), Limits(output=50)))
    assert by_output[-1] == End(0.6, truncated=True)  # 7 lines of 8 characters: the 7th went past 50
    assert screens(by_output)[-1] == (0.6, ["line 4", "line 5", "line 6", ""])
    by_cells = list(replay(cast(events), Limits(cells=200)))
    assert isinstance(by_cells[-1], End) and by_cells[-1].truncated
    assert len(screens(by_cells)) < 10
    assert list(replay(cast(events)))[-1] == End(9.9, truncated=False)
