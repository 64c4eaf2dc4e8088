"""What consoles and customer clients are told about sessions, as plain JSON-ready data.

Two live events leave after commit: `SessionEventAdded` for every entry of a session's
log (chat lines included), and `SessionState` with the session as a transaction left it
(queue, owner, members, customer) for the queues and tabs of the consoles. A third,
`SomeoneTyping`, never touches the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.bus.wire import live_event
from lifeline.db.engine import snapshot_on_commit
from lifeline.directory.models import Team, User
from lifeline.presence.models import ClientConnection, ConnectionState
from lifeline.sessions.models import (
    PRESENTATION,
    SessionAttribute,
    SessionEvent,
    SessionFile,
    SessionKey,
    SessionParticipant,
    SupportSession,
)
from lifeline.sessions.queries import issues_picked


@live_event
@dataclass(frozen=True)
class SessionEventAdded:
    lsid: str
    session_id: int
    event: dict[str, Any]


@live_event
@dataclass(frozen=True)
class SessionState:
    lsid: str
    session_id: int
    state: dict[str, Any]


@live_event
@dataclass(frozen=True)
class SomeoneTyping:
    """Someone in a session is typing a chat line. Not logged: it only shows for a moment."""

    lsid: str
    gsnumber: int
    who: str  # representative or customer
    name: str


def _actor(kind: str | None, gsnumber: int | None, name: str) -> dict[str, Any] | None:
    if kind is None:
        return None
    return {"type": kind, "gsnumber": gsnumber or 0, "name": name}


class EventRow(Protocol):
    """What an event payload is read from: a SessionEvent row, or the values just appended."""

    @property
    def id(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def performed_by_type(self) -> str: ...
    @property
    def performed_by_gsnumber(self) -> int: ...
    @property
    def performed_by_name(self) -> str: ...
    @property
    def destination_type(self) -> str | None: ...
    @property
    def destination_gsnumber(self) -> int | None: ...
    @property
    def destination_name(self) -> str: ...
    @property
    def body(self) -> str | None: ...
    @property
    def filename(self) -> str | None: ...
    @property
    def filesize(self) -> int | None: ...
    @property
    def data(self) -> list[list[str]]: ...
    @property
    def client_ref(self) -> str | None: ...


def event_payload(row: EventRow, file_id: int | None = None) -> dict[str, Any]:
    """An event as clients see it; `id` orders events and is what a reconnecting client resumes from."""
    return {
        "id": row.id,
        "type": row.event_type,
        "at": row.occurred_at.timestamp(),
        "performed_by": _actor(row.performed_by_type, row.performed_by_gsnumber, row.performed_by_name),
        "destination": _actor(row.destination_type, row.destination_gsnumber, row.destination_name),
        "body": row.body,
        "filename": row.filename,
        "filesize": row.filesize,
        "file_id": file_id,
        "data": row.data,
        "ref": row.client_ref,
    }


def session_state(session: Session, support_session: SupportSession) -> dict[str, Any]:
    """The session as the rep console shows it in a queue or a tab."""
    participants = session.scalars(
        select(SessionParticipant)
        .where(SessionParticipant.session_id == support_session.id, SessionParticipant.joined_at.is_not(None))
        .order_by(SessionParticipant.id)
    ).all()
    queue_name = ""
    if support_session.queue_kind in ("team", "embassy") and support_session.queue_ref_id:
        team = session.get(Team, support_session.queue_ref_id)
        queue_name = team.name if team else ""
    elif support_session.queue_kind == "rep" and support_session.queue_ref_id:
        user = session.get(User, support_session.queue_ref_id)
        queue_name = user.display_name if user else ""
    elif support_session.queue_kind == "general":
        queue_name = "General"
    customer = next((p for p in participants if p.role == "customer"), None)
    issue_title = issues_picked(session, [support_session.id]).get(support_session.id, "")
    version = session.scalar(select(func.max(SessionEvent.id)).where(SessionEvent.session_id == support_session.id))
    attributes = dict(
        session.execute(
            select(SessionAttribute.code_name, SessionAttribute.value).where(
                SessionAttribute.session_id == support_session.id
            )
        ).all()
    )
    state: dict[str, Any] = {
        "lsid": support_session.lsid,
        "session_type": support_session.session_type,
        "version": version or 0,
        "status": support_session.status,
        "queue": {
            "kind": support_session.queue_kind,
            "id": support_session.queue_ref_id,
            "name": queue_name,
        },
        "start_time": support_session.start_time.timestamp(),
        "end_time": support_session.end_time.timestamp() if support_session.end_time else None,
        "external_key": support_session.external_key,
        "attributes": attributes,
        "customer": {
            "name": support_session.customer_name or (customer.display_name if customer else "Customer"),
            "company": support_session.customer_company,
            "company_code": support_session.customer_company_code,
            "issue": support_session.customer_issue,
            "issue_title": issue_title,
            "details": support_session.customer_details,
            "gsnumber": customer.gsnumber if customer else None,
            "connected": customer is not None,
            "connection": _customer_connection(session, support_session, customer),
        },
        "owner": support_session.owner_gsnumber,
        "owner_user_id": support_session.owner_user_id,
        "members": [
            {"gsnumber": p.gsnumber, "user_id": p.user_id, "name": p.display_name}
            for p in participants
            if p.role == "representative"
        ],
        "primary_team_id": support_session.primary_team_id,
        "public_site_id": support_session.public_site_id,
    }
    if support_session.session_type == PRESENTATION:
        state["presentation"] = _presentation_view(session, support_session, participants)
    return state


def _presentation_view(
    session: Session, presentation: SupportSession, participants: Sequence[SessionParticipant]
) -> dict[str, Any]:
    """A presentation's key, for its presenter's console, and who attends now."""
    key = session.get(SessionKey, presentation.session_key_id) if presentation.session_key_id else None
    return {
        "short_key": key.short_key if key else "",
        "url_key": key.url_key if key else "",
        "attendees": [{"gsnumber": p.gsnumber, "name": p.display_name} for p in participants if p.role == "attendee"],
    }


def _customer_connection(session: Session, support_session: SupportSession, customer: SessionParticipant | None) -> str:
    """connected, reconnecting (their socket closed; a reload comes back within seconds) or gone."""
    if support_session.ended or customer is None:
        return ConnectionState.GONE.value
    connection = session.get(ClientConnection, customer.gsnumber)
    return (ConnectionState.GONE if connection is None else connection.state).value


def mark_changed(session: Session, support_session: SupportSession) -> None:
    """Tell consoles how the session looks once this transaction commits."""

    def make(db: Session) -> SessionState:
        return SessionState(support_session.lsid, support_session.id, session_state(db, support_session))

    snapshot_on_commit(session, ("session", support_session.id), make)


def file_ids_by_event(session: Session, event_ids: list[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    rows = session.execute(select(SessionFile.event_id, SessionFile.id).where(SessionFile.event_id.in_(event_ids)))
    return {event_id: file_id for event_id, file_id in rows if event_id is not None}
