"""The session's one screen recording, appended on the process that receives each frame:
a raw log beside the recording's file (`recordings.screen_file`), one append a frame,
remuxed into the WebM when the session ends (by one process: the one whose rename of the
log succeeds), off the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import lifeline_protocol.binary as binary

from lifeline.recordings import actions as recordings
from lifeline.recordings import screen_file
from lifeline.recordings.store import RecordingStore
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.realtime")

# A session's raw log stops growing here (the WebM keeps what came before): at the highest
# bitrate cap (100 Mbit/s) a share fills this in under an hour, at the default in about
# nine; a session has no time limit, so without it one share could fill the disk.
MAX_LOG_BYTES = 16 * 1024**3
SETTLE_SECONDS = 0.5  # after the log is claimed, other processes' last appends land before it is read


def log_path(store: RecordingStore, storage_name: str) -> Path:
    return store.path_for(storage_name).with_suffix(".frames")


@dataclass
class Open:
    """One session's log, open for appending here."""

    fd: int
    began: float  # the recording's start, Unix time
    last_ms: int = 0
    bases: dict[int, int] = field(default_factory=dict)  # stream -> ms at its timestamp 0
    sequences: dict[int, int] = field(default_factory=dict)  # stream -> last sequence recorded
    skipping: set[int] = field(default_factory=set)  # streams waiting for a key frame
    size: int = 0  # bytes in the log (as it was when opened here, and what this process added)
    cap: int = MAX_LOG_BYTES
    full: bool = False  # the cap was reached: nothing more is recorded (a later smaller frame neither)

    def room_for(self, record: bytes) -> bool:
        """Whether the record fits under the cap (counted as taken when it does)."""
        if self.full or self.size + len(record) > self.cap:
            return False
        self.size += len(record)
        return True


class ScreenRecorder:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = RecordingStore(runtime.config.recordings_dir)
        self.open_logs: dict[str, Open] = {}

    async def open(self, lsid: str) -> None:
        """A share starts here: record it, if screen recording is on."""
        if lsid in self.open_logs or not (await self.runtime.settings())["screen_recording"]:
            return
        found = await self.runtime.db.write(recordings.screen_recording, lsid)
        if found is None or lsid in self.open_logs:
            return
        _, storage_name, began = found
        path = log_path(self.store, storage_name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.open_logs[lsid] = Open(fd, began, size=os.fstat(fd).st_size)

    def append(self, lsid: str, header: binary.Header, frame: bytes) -> None:
        opened = self.open_logs.get(lsid)
        if opened is None:
            return
        stream = header.stream
        last = opened.sequences.get(stream)
        opened.sequences[stream] = header.sequence
        if last is not None and not binary.follows(last, header.sequence):
            opened.skipping.add(stream)  # a frame was dropped: the picture is undecodable until a key frame
        if stream in opened.skipping or last is None:
            if not header.key:
                opened.skipping.add(stream)
                return
            opened.skipping.discard(stream)
        arrived = int((time.time() - opened.began) * 1000)
        base = opened.bases.setdefault(stream, arrived - header.timestamp)
        ms = max(opened.last_ms, base + header.timestamp)
        opened.last_ms = ms
        record = screen_file.record(ms, header.key, frame[binary.HEADER_SIZE :])
        if not opened.room_for(record):
            if not opened.full:
                opened.full = True
                log.error(
                    "session %s: its screen recording reached %d bytes; the rest is not recorded", lsid, opened.cap
                )
            return
        try:
            os.write(opened.fd, record)
        except OSError as error:
            log.error("session %s: could not record a screen frame: %s", lsid, error)

    def close(self, lsid: str) -> None:
        opened = self.open_logs.pop(lsid, None)
        if opened is not None:
            try:
                os.fsync(opened.fd)
            finally:
                os.close(opened.fd)

    def close_all(self) -> None:
        for lsid in list(self.open_logs):
            self.close(lsid)

    async def session_ended(self, lsid: str, session_id: int) -> None:
        """Make the WebM, once across processes; also for a session whose holder died."""
        self.close(lsid)
        try:
            found = await self.runtime.db.read(recordings.unfinished_screen_recording, session_id)
            if found is None:
                return
            recording_id, storage_name = found
            frames = log_path(self.store, storage_name)
            claimed = frames.with_suffix(".remux")
            try:
                os.rename(frames, claimed)
            except FileNotFoundError:
                return  # another process has it (or nothing was recorded)
            await asyncio.sleep(SETTLE_SECONDS)
            webm = self.store.path_for(storage_name)
            size = await asyncio.to_thread(screen_file.remux, claimed, webm)
            await self.runtime.db.write(recordings.finish_recording, recording_id, size or 0)
            claimed.unlink(missing_ok=True)
        except Exception:
            log.exception("session %s: could not finish its screen recording", lsid)
