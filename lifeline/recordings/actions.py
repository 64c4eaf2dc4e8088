"""Every write about recordings: a recording begins (and a command shell is logged), and ends.

Recordings themselves are files (`store.py`); a row here says which session, kind and
instance a file belongs to, so reports can list and serve it.
"""

from __future__ import annotations

import enum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.recordings import asciicast
from lifeline.recordings.models import Recording
from lifeline.sessions.events import Actor, log_event
from lifeline.sessions.models import PRESENTATION, EventType, SupportSession

WEBM = "video/webm"


class RecordingKind(enum.StrEnum):
    SCREEN = "screen"  # screen sharing (SupportSessionRecording)
    COMMAND_SHELL = "command_shell"  # a remote command shell (CommandShellRecording)
    PRESENTATION = "presentation"  # a presentation (PresentationRecording)


CONTENT_TYPES = {
    RecordingKind.SCREEN: WEBM,
    RecordingKind.COMMAND_SHELL: asciicast.CONTENT_TYPE,
    RecordingKind.PRESENTATION: WEBM,
}
EXTENSIONS = {RecordingKind.SCREEN: "webm", RecordingKind.COMMAND_SHELL: "cast", RecordingKind.PRESENTATION: "webm"}


class RecordingError(ValueError):
    """A recording that cannot be made or kept; the message says why."""


def storage_name(lsid: str, kind: RecordingKind, instance: int) -> str:
    return f"{lsid[:2]}/{lsid}-{kind.value}-{instance}.{EXTENSIONS[kind]}"


def download_name(lsid: str, kind: RecordingKind, instance: int) -> str:
    if kind is RecordingKind.COMMAND_SHELL:
        return f"{lsid}-shell-{instance}.cast"
    return f"{lsid}-{kind.value}.webm"


def begin_recording(session: Session, support_session: SupportSession, kind: RecordingKind) -> Recording:
    """A new recording of the session; command shells are numbered from 0 in the order opened."""
    if support_session.ended:
        raise RecordingError("The session has already ended")
    instance = session.scalar(
        select(func.coalesce(func.max(Recording.instance) + 1, 0)).where(
            Recording.session_id == support_session.id, Recording.kind == kind.value
        )
    )
    if kind is not RecordingKind.COMMAND_SHELL and instance:
        raise RecordingError(f"The session already has a {kind.value} recording")
    recording = Recording(
        session_id=support_session.id,
        kind=kind.value,
        instance=instance or 0,
        storage_name=storage_name(support_session.lsid, kind, instance or 0),
        content_type=CONTENT_TYPES[kind],
        size=0,
        started_at=utcnow(),
    )
    session.add(recording)
    session.flush()
    return recording


def start_command_shell(
    session: Session, support_session: SupportSession, rep: Actor, *, recorded: bool
) -> Recording | None:
    """A representative opened a command shell on the customer's computer: logged, and
    recorded when command shell recording is on."""
    recording = begin_recording(session, support_session, RecordingKind.COMMAND_SHELL) if recorded else None
    log_event(
        session,
        support_session,
        EventType.COMMAND_SHELL_SESSION_STARTED,
        rep,
        data=[("instance", recording.instance)] if recording else (),
    )
    return recording


def finish_recording(session: Session, recording_id: int, size: int) -> None:
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise RecordingError("No such recording")
    recording.size = size
    recording.ended_at = utcnow()


def screen_kind(support_session: SupportSession) -> RecordingKind:
    """A presentation's screen is its presentation recording (PresentationRecording serves it)."""
    return RecordingKind.PRESENTATION if support_session.session_type == PRESENTATION else RecordingKind.SCREEN


def screen_recording(session: Session, lsid: str) -> tuple[int, str, float] | None:
    """The session's one screen recording, begun at its first share: (id, storage name, when
    it began as a Unix time). None when the session has ended (or is no session)."""
    support_session = session.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
    if support_session is None or support_session.ended:
        return None
    kind = screen_kind(support_session)
    recording = session.scalar(
        select(Recording).where(Recording.session_id == support_session.id, Recording.kind == kind.value)
    )
    if recording is None:
        recording = begin_recording(session, support_session, kind)
    return recording.id, recording.storage_name, recording.started_at.timestamp()


def unfinished_screen_recording(session: Session, session_id: int) -> tuple[int, str] | None:
    """The session's screen recording when it has not been made into its file yet."""
    row = session.execute(
        select(Recording.id, Recording.storage_name).where(
            Recording.session_id == session_id,
            Recording.kind.in_([RecordingKind.SCREEN.value, RecordingKind.PRESENTATION.value]),
            Recording.ended_at.is_(None),
        )
    ).first()
    return (row[0], row[1]) if row is not None else None
