"""The session event log: the documented event types and the one function that appends to it."""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from lifeline.db.base import utcnow
from lifeline.db.engine import on_commit
from lifeline.sessions.live import SessionEventAdded, event_payload, mark_changed
from lifeline.sessions.models import EventType, SessionEvent, SupportSession


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


@dataclass(frozen=True)
class LoggedEvent:
    """An event as it was appended (the names are those of SessionEvent's columns)."""

    id: int
    session_id: int
    event_type: str
    occurred_at: datetime
    performed_by_type: str
    performed_by_gsnumber: int
    performed_by_name: str
    performed_by_user_id: int | None
    destination_type: str | None
    destination_gsnumber: int | None
    destination_name: str
    body: str | None
    filename: str | None
    filesize: int | None
    data: list[list[str]]
    files: list[dict[str, Any]]
    system_information: list[dict[str, Any]] | None
    team_id: int | None
    client_ref: str | None


AnyEvent = LoggedEvent | SessionEvent


@functools.cache
def _insert(dialect: str, with_ref: bool) -> Executable:
    """INSERT ... RETURNING id, built once; with a client's ref, a repeat is skipped, not an error."""
    table = cast(Table, SessionEvent.__table__)
    if not with_ref:
        return insert(table).returning(table.c.id)
    statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
    return statement.on_conflict_do_nothing(index_elements=["session_id", "client_ref"]).returning(table.c.id)


def append_event(
    session: Session,
    *,
    session_id: int,
    lsid: str,
    team_id: int | None,
    event_type: EventType,
    performed_by: Actor,
    destination: Actor | None = None,
    body: str | None = None,
    filename: str | None = None,
    filesize: int | None = None,
    data: Sequence[tuple[str, Any]] = (),
    files: Sequence[dict[str, Any]] = (),
    system_information: list[dict[str, Any]] | None = None,
    client_ref: str | None = None,
    file_id: int | None = None,
) -> LoggedEvent | None:
    """One row in the log, and its live event after commit. None: the client's ref was used already."""
    values: dict[str, Any] = {
        "session_id": session_id,
        "event_type": event_type.value,
        "occurred_at": utcnow(),
        "performed_by_type": performed_by.type.value,
        "performed_by_gsnumber": performed_by.gsnumber,
        "performed_by_name": performed_by.name,
        "performed_by_user_id": performed_by.user_id,
        "destination_type": destination.type.value if destination else None,
        "destination_gsnumber": destination.gsnumber if destination else None,
        "destination_name": destination.name if destination else "",
        "body": body,
        "filename": filename,
        "filesize": filesize,
        "data": [[str(name), "" if value is None else str(value)] for name, value in data],
        "files": list(files),
        "system_information": system_information,
        "team_id": team_id,
        "client_ref": client_ref,
    }
    statement = _insert(session.get_bind().dialect.name, client_ref is not None)
    event_id = session.connection().execute(statement, values).scalar()
    if event_id is None:
        return None
    event = LoggedEvent(id=event_id, **values)
    on_commit(session, SessionEventAdded(lsid, session_id, event_payload(event, file_id)))
    return event


_LOCK_SESSION = select(SupportSession.id).where(SupportSession.id == bindparam("session_id")).with_for_update()


def lock_session_log(session: Session, session_id: int) -> None:
    """On PostgreSQL, writers of one session's log queue behind each other, so event ids of a
    session are in commit order and a client resuming "after event N" misses nothing.
    (SQLite has a single writer: ids are in commit order already.)"""
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    if session_id in locked or session.get_bind().dialect.name != "postgresql":
        return
    session.connection().execute(_LOCK_SESSION, {"session_id": session_id})
    locked.add(session_id)


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
) -> AnyEvent:
    """Append one event to the session's log, in the caller's transaction."""
    lock_session_log(session, support_session.id)
    event = append_event(
        session,
        session_id=support_session.id,
        lsid=support_session.lsid,
        team_id=support_session.primary_team_id,
        event_type=event_type,
        performed_by=performed_by,
        destination=destination,
        body=body,
        filename=filename,
        filesize=filesize,
        data=data,
        files=files,
        system_information=system_information,
        client_ref=client_ref,
        file_id=file_id,
    )
    if event is None:  # a repeat under the client's ref: the first one stands
        assert client_ref is not None
        earlier = event_by_ref(session, support_session, client_ref)
        assert earlier is not None
        return earlier
    if event_type not in CONVERSATION:
        mark_changed(session, support_session)
    return event
