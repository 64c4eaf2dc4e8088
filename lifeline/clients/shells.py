"""A command shell's recording as its output passes: asciicast v2, written exactly once.

Beside the `.cast` file a `.seq` sidecar says "sequence size": the last output frame
recorded and the size of the cast up to and including it, written (atomically) after each
batch and before the client is told it may forget those frames. Whoever takes a shell up
again (a new socket of the client, on this process or another, maybe after a kill -9)
cuts the cast back to `size` and asks the client for what follows `sequence`, so no byte
is lost or written twice."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import json
import os
import time
from collections import deque
from datetime import datetime
from pathlib import Path

from lifeline.recordings.store import RecordingStore, RecordingWriter

REPLAY_BYTES = 256 * 1024  # output kept for a console that comes back (`shell_replay`)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".seq")


def read_sidecar(path: Path) -> tuple[int, int] | None:
    """(sequence, size) as last written, or None."""
    try:
        sequence, size = _sidecar(path).read_text().split()
        return int(sequence), int(size)
    except (OSError, ValueError):
        return None


class ShellBusy(Exception):
    """Another socket (maybe in another process) still writes this shell's recording."""


class RecordedShell:
    def __init__(
        self,
        store: RecordingStore,
        shell: int,
        storage_name: str,
        started_at: datetime,
        *,
        width: int = 80,
        height: int = 24,
    ) -> None:
        self.shell = shell
        self.path = store.path_for(storage_name)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # One writer at a time, whichever process: the lock goes with the process, even killed.
        self._lock = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise ShellBusy(f"shell {shell} is being recorded elsewhere") from None
        self._started = started_at.timestamp()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.replay: deque[bytes] = deque()  # the last frames, as they came, for shell_replay
        self._replay_bytes = 0
        known = read_sidecar(self.path)
        if known is None:
            self.sequence = 0
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # begun but never committed: start it again
            self._writer = RecordingWriter(self.path)
            header = {"version": 2, "width": width, "height": height, "timestamp": int(self._started)}
            self._writer.write(json.dumps(header).encode() + b"\n")
        else:
            self.sequence, size = known
            with open(self.path, "r+b") as handle:  # what was written after the last commit goes
                handle.truncate(size)
            self._writer = RecordingWriter(self.path)
        self._committed: tuple[int, int] | None = None
        self.commit()

    @property
    def size(self) -> int:
        return self._writer.size

    def _at(self) -> float:
        return round(max(time.time() - self._started, 0.0), 6)

    def _line(self, code: str, data: str) -> None:
        line = json.dumps([self._at(), code, data], ensure_ascii=False)
        self._writer.write(line.encode("utf-8", "surrogatepass") + b"\n")

    def output(self, sequence: int, frame: bytes, payload: bytes) -> bool:
        """Record a frame's payload; False (nothing written) when it was recorded already or
        does not come next."""
        if sequence != self.sequence + 1:
            return False
        text = self._decoder.decode(payload)
        if text:
            self._line("o", text)
        self.sequence = sequence
        self.replay.append(frame)
        self._replay_bytes += len(frame)
        while self._replay_bytes > REPLAY_BYTES and len(self.replay) > 1:
            self._replay_bytes -= len(self.replay.popleft())
        return True

    def input(self, text: str) -> None:
        self._line("i", text)

    def resize(self, cols: int, rows: int) -> None:
        self._line("r", f"{cols}x{rows}")

    def commit(self) -> None:
        """The sidecar says what is recorded now (before the client hears so)."""
        now = (self.sequence, self._writer.size)
        if now == self._committed:
            return
        sidecar = _sidecar(self.path)
        temp = sidecar.with_name(sidecar.name + ".tmp")
        temp.write_text(f"{now[0]} {now[1]}")
        os.replace(temp, sidecar)
        self._committed = now

    def close(self) -> int:
        """Stop writing here (another socket may take it up); returns the cast's size."""
        try:
            self.commit()
            return self._writer.close()
        finally:
            self._lock.close()

    def finish(self) -> int:
        """The shell ended: the recording is complete and needs no sidecar any more."""
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self._line("o", tail)
        size = self._writer.close()
        with contextlib.suppress(FileNotFoundError):
            _sidecar(self.path).unlink()
        with contextlib.suppress(FileNotFoundError):
            self.path.with_name(self.path.name + ".lock").unlink()
        self._lock.close()
        return size


async def take_up(
    store: RecordingStore, shell: int, storage_name: str, started_at: datetime, *, wait: float
) -> RecordedShell | None:
    """The shell's recording, once whoever wrote it before has let go (at most `wait` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return await asyncio.to_thread(RecordedShell, store, shell, storage_name, started_at)
        except ShellBusy:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.05)


def close_abandoned(store: RecordingStore, storage_name: str) -> int | None:
    """A shell nobody will take up again (its session ended while no client held it): cut
    its recording back to the last commit and drop the sidecar. Returns the recording's
    size, or None when someone else holds it (they finish it) or it was finished already."""
    path = store.path_for(storage_name)
    lock_path = path.with_name(path.name + ".lock")
    if not lock_path.exists() and read_sidecar(path) is None:
        return None  # finished (or never begun here)
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        known = read_sidecar(path)
        if known is not None:
            with contextlib.suppress(FileNotFoundError), open(path, "r+b") as handle:
                handle.truncate(known[1])
            _sidecar(path).unlink()
        with contextlib.suppress(FileNotFoundError):
            lock_path.unlink()
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0
