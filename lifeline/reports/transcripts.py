"""A session's chat transcript: what was said, and the moments around it that a reader
needs to follow the conversation (joins, transfers, files, the end). Notes are left out:
customers never see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.models import EventType, SessionEvent, SupportSession


@dataclass(frozen=True)
class TranscriptLine:
    at: datetime
    speaker: str  # empty for what the system says
    text: str


@dataclass(frozen=True)
class Transcript:
    lsid: str
    start_time: datetime
    end_time: datetime | None
    customer_name: str
    lines: list[TranscriptLine]


def _data(event: SessionEvent, name: str) -> str:
    return next((value for key, value in event.data if key == name), "")


def _said(event: SessionEvent) -> str | None:
    """What the system says about an event in the transcript, if anything."""
    match event.event_type:
        case EventType.SESSION_START:
            return "The session started"
        case EventType.CONFERENCE_MEMBER_ADDED:
            return f"{event.destination_name} joined the session"
        case EventType.CONFERENCE_MEMBER_DEPARTED:
            return f"{event.destination_name} left the session"
        case EventType.CONFERENCE_OWNER_CHANGED:
            return f"{event.destination_name} now owns the session"
        case EventType.SESSION_TRANSFERRED_TO_QUEUE:
            return f"The session was transferred to {_data(event, 'queue_name')}"
        case EventType.FILE_UPLOAD | EventType.FILE_DOWNLOAD:
            return f"{event.performed_by_name} sent the file {event.filename} ({event.filesize} bytes)"
        case EventType.SESSION_END:
            return "The session ended"
    return None


def _line(event: SessionEvent) -> TranscriptLine | None:
    if event.event_type == EventType.CHAT_MESSAGE:
        return TranscriptLine(event.occurred_at, event.performed_by_name, event.body or "")
    said = _said(event)
    return TranscriptLine(event.occurred_at, "", said) if said else None


def transcript(db: Session, lsid: str) -> Transcript | None:
    found = db.scalars(select(SupportSession).where(SupportSession.lsid == lsid)).first()
    if found is None:
        return None
    lines = []
    for event in db.scalars(select(SessionEvent).where(SessionEvent.session_id == found.id).order_by(SessionEvent.id)):
        line = _line(event)
        if line is not None:
            lines.append(line)
    return Transcript(found.lsid, found.start_time, found.end_time, found.customer_name, lines)
