"""The recording API the session's clients feed: the Python client sends command shell
output, screen sharing sends WebM from the browser's MediaRecorder. Each recording is a
row (actions.py) and a file (store.py); these objects keep the two together."""

from __future__ import annotations

import time
from types import TracebackType

from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.recordings import actions
from lifeline.recordings.actions import RecordingError, RecordingKind
from lifeline.recordings.asciicast import AsciicastWriter
from lifeline.recordings.store import RecordingStore, RecordingWriter
from lifeline.sessions.events import Actor
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid

EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM is Matroska, an EBML document


def _session_or_error(session: Session, lsid: str) -> SupportSession:
    found = session_by_lsid(session, lsid)
    if found is None:
        raise RecordingError("No session with the given lsid exists")
    return found


class _Recording:
    def __init__(self, db: Database, recording_id: int, writer: RecordingWriter) -> None:
        self._db = db
        self.recording_id = recording_id
        self._writer = writer
        self._closed = False

    def close(self) -> int:
        """The recording is complete; returns its size in bytes."""
        if self._closed:
            return self._writer.size
        size = self._writer.close()
        self._db.call(actions.finish_recording, self.recording_id, size)
        self._closed = True
        return size

    def __enter__(self) -> _Recording:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class ScreenRecording(_Recording):
    """WebM as a browser's MediaRecorder produces it, appended chunk by chunk."""

    def write(self, chunk: bytes) -> None:
        if self._writer.size == 0 and not chunk.startswith(EBML_MAGIC):
            raise RecordingError("A screen recording must be WebM")
        self._writer.write(chunk)


class ShellRecording(_Recording):
    """A command shell, written as asciicast v2 while it runs."""

    def __init__(self, db: Database, recording_id: int, writer: RecordingWriter, cast: AsciicastWriter) -> None:
        super().__init__(db, recording_id, writer)
        self.cast = cast
        self._started = time.monotonic()
        self.instance = 0

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def output(self, text: str, *, at: float | None = None) -> None:
        self.cast.output(self._elapsed() if at is None else at, text)

    def input(self, text: str, *, at: float | None = None) -> None:
        self.cast.input(self._elapsed() if at is None else at, text)

    def resize(self, width: int, height: int, *, at: float | None = None) -> None:
        self.cast.resize(self._elapsed() if at is None else at, width, height)


def record_screen(
    db: Database, store: RecordingStore, lsid: str, kind: RecordingKind = RecordingKind.SCREEN
) -> ScreenRecording:
    """Begin the session's screen (or presentation) recording."""
    if kind is RecordingKind.COMMAND_SHELL:
        raise RecordingError("Use record_command_shell for command shells")
    recording = db.call(lambda s: actions.begin_recording(s, _session_or_error(s, lsid), kind))
    return ScreenRecording(db, recording.id, store.writer(recording.storage_name))


def record_command_shell(
    db: Database, store: RecordingStore, lsid: str, rep: Actor, *, width: int = 80, height: int = 24
) -> ShellRecording:
    """A representative opens a command shell: logged, and recorded from now on."""

    def begin(session: Session) -> tuple[int, int, str]:
        support_session = _session_or_error(session, lsid)
        recording = actions.start_command_shell(session, support_session, rep, recorded=True)
        assert recording is not None
        return recording.id, recording.instance, recording.storage_name

    recording_id, instance, name = db.call(begin)
    writer = store.writer(name)
    cast = AsciicastWriter(writer, width=width, height=height, started_at=utcnow(), title=f"{lsid} shell {instance}")
    shell = ShellRecording(db, recording_id, writer, cast)
    shell.instance = instance
    return shell
