"""The session event log: the documented event types and the one function that appends to it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.db.engine import on_commit
from lifeline.sessions.live import SessionEventAdded, event_payload, mark_changed
from lifeline.sessions.models import SessionEvent, SupportSession


class EventType(enum.StrEnum):
    """Event types exactly as the 1.7 guide lists them."""

    CHAT_MESSAGE = "Chat Message"
    COMMAND_SHELL_SESSION_STARTED = "Command Shell Session Started"
    CALLBACK_BUTTON_DEPLOYED = "Callback Button Deployed"
    CALLBACK_BUTTON_REMOVED = "Callback Button Removed"
    CONFERENCE_MEMBER_ADDED = "Conference Member Added"
    CONFERENCE_MEMBER_DEPARTED = "Conference Member Departed"
    CONFERENCE_MEMBER_STATE_CHANGED = "Conference Member State Changed"
    CONFERENCE_OWNER_CHANGED = "Conference Owner Changed"
    CUSTOMER_EXIT_SURVEY = "Customer Exit Survey"
    EXTERNAL_KEY = "External Key"
    FILE_DOWNLOAD = "File Download"
    FILE_DOWNLOAD_FAILED = "File Download Failed"
    FILE_UPLOAD = "File Upload"
    FILE_UPLOAD_FAILED = "File Upload Failed"
    FILES_SHARED = "Files Shared"
    LEGAL_AGREEMENT_RESPONSE = "Legal Agreement Response"
    PINNED_SESSION_MOVED_AWAY_FROM_QUEUE = "Pinned Session Moved away from Queue"
    PINNED_SESSION_MOVED_TO_QUEUE = "Pinned Session Moved to Queue"
    PINNED_SESSION_PASSWORD_MODIFIED = "Pinned Session Password Modified"
    REPRESENTATIVE_EXIT_SURVEY = "Representative Exit Survey"
    SERVICE_ACCESS_ALLOWED = "Service Access Allowed"
    SESSION_ASSIGNED = "Session Assigned"
    SESSION_ASSIGNMENT_RESPONSE = "Session Assignment Response"
    SESSION_END = "Session End"
    SESSION_NOTE_ADDED = "Session Note Added"
    SESSION_PINNED_TO_QUEUE = "Session Pinned to Queue"
    SESSION_START = "Session Start"
    SESSION_TRANSFERRED_AWAY_FROM_QUEUE = "Session Transferred away from Queue"
    SESSION_TRANSFERRED_TO_QUEUE = "Session Transferred to Queue"
    SESSION_UNPINNED_FROM_QUEUE = "Session Unpinned from Queue"
    SYSTEM_INFORMATION_RETRIEVED = "System Information Retrieved"


class ActorType(enum.StrEnum):
    SYSTEM = "system"
    CUSTOMER = "customer"
    REPRESENTATIVE = "representative"


@dataclass(frozen=True)
class Actor:
    """Who performed an event, or whom it was directed to, as the reports name them."""

    type: ActorType
    gsnumber: int
    name: str
    user_id: int | None = None


SYSTEM = Actor(ActorType.SYSTEM, 0, "System")


def api_actor(caller_name: str) -> Actor:
    """The system acting on behalf of an API caller; the caller is kept in the name."""
    return Actor(ActorType.SYSTEM, 0, f"API ({caller_name})")


# Events that do not change who is in a session or where it waits (no new state snapshot).
CONVERSATION = frozenset(
    {
        EventType.CHAT_MESSAGE,
        EventType.SESSION_NOTE_ADDED,
        EventType.FILE_UPLOAD,
        EventType.FILE_DOWNLOAD,
        EventType.SYSTEM_INFORMATION_RETRIEVED,
        EventType.CUSTOMER_EXIT_SURVEY,
        EventType.REPRESENTATIVE_EXIT_SURVEY,
    }
)


def event_by_ref(session: Session, support_session: SupportSession, client_ref: str) -> SessionEvent | None:
    """The event a client already sent under this reference (it is resending after a reconnect)."""
    return session.scalars(
        select(SessionEvent).where(SessionEvent.session_id == support_session.id, SessionEvent.client_ref == client_ref)
    ).first()


_LOCKED = "lifeline.locked_session_logs"


def _lock_session_log(session: Session, support_session: SupportSession) -> None:
    """On PostgreSQL, writers of one session's log queue behind each other, so event ids of a
    session are in commit order and a client resuming "after event N" misses nothing.
    (SQLite has a single writer: ids are in commit order already.)"""
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    if support_session.id in locked or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(SupportSession.id).where(SupportSession.id == support_session.id).with_for_update())
    locked.add(support_session.id)


def log_event(
    session: Session,
    support_session: SupportSession,
    event_type: EventType,
    performed_by: Actor,
    *,
    destination: Actor | None = None,
    body: str | None = None,
    filename: str | None = None,
    filesize: int | None = None,
    data: Sequence[tuple[str, Any]] = (),
    files: Sequence[dict[str, Any]] = (),
    system_information: list[dict[str, Any]] | None = None,
    client_ref: str | None = None,
    file_id: int | None = None,
) -> SessionEvent:
    """Append one event to the session's log, in the caller's transaction."""
    _lock_session_log(session, support_session)
    row = SessionEvent(
        session_id=support_session.id,
        event_type=event_type.value,
        occurred_at=utcnow(),
        performed_by_type=performed_by.type.value,
        performed_by_gsnumber=performed_by.gsnumber,
        performed_by_name=performed_by.name,
        performed_by_user_id=performed_by.user_id,
        destination_type=destination.type.value if destination else None,
        destination_gsnumber=destination.gsnumber if destination else None,
        destination_name=destination.name if destination else "",
        body=body,
        filename=filename,
        filesize=filesize,
        data=[[str(name), "" if value is None else str(value)] for name, value in data],
        files=list(files),
        system_information=system_information,
        team_id=support_session.primary_team_id,
        client_ref=client_ref,
    )
    session.add(row)
    session.flush()
    on_commit(session, SessionEventAdded(support_session.lsid, support_session.id, event_payload(row, file_id)))
    if event_type not in CONVERSATION:
        mark_changed(session, support_session)
    return row
