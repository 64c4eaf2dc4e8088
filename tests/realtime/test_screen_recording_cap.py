"""A session's raw screen log stops at its size cap: the records that fit are written, the
first that does not stops the log for good (a smaller one after it neither), and the
recorder says so once in the error log."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from lifeline_protocol import binary

from lifeline.realtime.screen_recording import Open, ScreenRecorder
from lifeline.recordings import screen_file


def test_the_log_stops_at_its_cap_and_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "session.frames"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    one = len(screen_file.record(0, True, b"k" * 100))
    opened = Open(fd, began=0.0, cap=2 * one)
    recorder = ScreenRecorder.__new__(ScreenRecorder)  # its store and database are not used by append
    recorder.open_logs = {"s": opened}
    with caplog.at_level(logging.ERROR, "lifeline.realtime"):
        for sequence in range(1, 6):
            header = binary.Header(binary.FrameKind.SCREEN, 7, sequence, sequence, key=True)
            payload = b"k" * 100 if sequence != 4 else b"k"
            recorder.append("s", header, binary.pack(header, payload))
    recorder.close("s")
    assert path.stat().st_size == 2 * one
    assert [r.getMessage() for r in caplog.records] == [
        f"session s: its screen recording reached {2 * one} bytes; the rest is not recorded"
    ]
