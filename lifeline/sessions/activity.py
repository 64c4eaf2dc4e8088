"""What happens inside a running session: chat, notes, files, the customer's system
information and details. Every step is an event in the session's log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.directory.queries import SIGN_IN_IN_FORCE, console_sign_in_in_force
from lifeline.sessions.actions import CustomerDetails
from lifeline.sessions.events import (
    Actor,
    ActorType,
    AnyEvent,
    LoggedEvent,
    append_event,
    event_by_ref,
    lock_session_log,
    log_event,
)
from lifeline.sessions.models import (
    EventType,
    SessionError,
    SessionEvent,
    SessionFile,
    SessionParticipant,
    SessionStatus,
    SupportSession,
)
from lifeline.sessions.queries import joined_now
from lifeline.text import is_xml_safe

MAX_CHAT_LENGTH = 16 * 1024
MAX_NOTE_LENGTH = 16 * 1024
MAX_FILENAME_LENGTH = 255


def _live(support_session: SupportSession) -> None:
    if support_session.ended:
        raise SessionError("The session has already ended")


def _in_session(session: Session, support_session: SupportSession, actor: Actor) -> None:
    """Only someone taking part right now may speak in a session (the system always may)."""
    if actor.type is ActorType.SYSTEM:
        return
    role = "customer" if actor.type is ActorType.CUSTOMER else "representative"
    if not joined_now(session, support_session, role, actor.gsnumber):
        raise SessionError("Only people in the session can do that")


def _chat_body_problem(body: str) -> str | None:
    if not body:
        return "A chat message cannot be empty"
    if len(body) > MAX_CHAT_LENGTH:
        return f"A chat message is at most {MAX_CHAT_LENGTH} characters"
    return None


# Refs are unique per session, not per sender (a constraint of the event log).
REF_TAKEN = "This ref is already used by another line of the session; send it under a new ref"


def _write_chat_line(
    session: Session,
    *,
    session_id: int,
    lsid: str,
    team_id: int | None,
    sender: Actor,
    body: str,
    destination: Actor | None,
    client_ref: str | None,
) -> LoggedEvent | None:
    """The one place a chat line enters a session's log, kept exactly as typed (even
    characters XML cannot carry). None: a line under this `client_ref` is there already."""
    lock_session_log(session, session_id)
    return append_event(
        session,
        session_id=session_id,
        lsid=lsid,
        team_id=team_id,
        event_type=EventType.CHAT_MESSAGE,
        performed_by=sender,
        destination=destination,
        body=body,
        client_ref=client_ref,
    )


def send_chat(
    session: Session,
    support_session: SupportSession,
    sender: Actor,
    body: str,
    *,
    destination: Actor | None = None,
    client_ref: str | None = None,
) -> AnyEvent:
    """A chat line from `sender`, who must be in the session.

    With `client_ref`, a line the client sends again (it could not tell whether the first
    try arrived) is not logged twice: the first one is returned.
    """
    if client_ref:
        earlier = event_by_ref(session, support_session, client_ref)
        if earlier is not None:
            if earlier.performed_by_gsnumber != sender.gsnumber:
                raise SessionError(REF_TAKEN)
            return earlier
    _live(support_session)
    _in_session(session, support_session, sender)
    problem = _chat_body_problem(body)
    if problem:
        raise SessionError(problem)
    event = _write_chat_line(
        session,
        session_id=support_session.id,
        lsid=support_session.lsid,
        team_id=support_session.primary_team_id,
        sender=sender,
        body=body,
        destination=destination,
        client_ref=client_ref,
    )
    if event is not None:
        return event
    assert client_ref is not None
    first = event_by_ref(session, support_session, client_ref)
    assert first is not None
    return first


# The sender of a chat line and their session, in one query built once and run on the
# connection: the ORM's building and running it each time cost several times the query.
_CHAT_SENDER = (
    select(
        SupportSession.id,
        SupportSession.status,
        SupportSession.primary_team_id,
        SessionParticipant.role,
        SessionParticipant.display_name,
        SessionParticipant.user_id,
    )
    .join(SessionParticipant, SessionParticipant.session_id == SupportSession.id)
    .where(
        SupportSession.lsid == bindparam("lsid"),
        SessionParticipant.gsnumber == bindparam("gsnumber"),
        SessionParticipant.joined_at.is_not(None),
    )
)


# A console's line: the same, and whether the rep's sign-in still holds.
_REP_CHAT_SENDER = _CHAT_SENDER.add_columns(SIGN_IN_IN_FORCE)


class SignInEnded(SessionError):
    """The console's sign-in no longer holds: nothing it sends is logged."""


def chat(
    session: Session, *, lsid: str, gsnumber: int, body: str, client_ref: str | None = None, sign_in: str | None = None
) -> int:
    """A chat line from connection `gsnumber` into session `lsid`: the sender is found and
    checked with one query (the hot path of a busy appliance), with the console's `sign_in`
    when a rep sends it. Returns the event's id; a line sent again under the same
    `client_ref` returns the first one's."""
    problem = _chat_body_problem(body)
    if problem:
        raise SessionError(problem)
    if sign_in is None:
        found = session.connection().execute(_CHAT_SENDER, {"lsid": lsid, "gsnumber": gsnumber}).first()
    else:
        found = (
            session.connection()
            .execute(_REP_CHAT_SENDER, {"lsid": lsid, "gsnumber": gsnumber, "sign_in": sign_in, "now": utcnow()})
            .first()
        )
        if not (found.signed_in if found is not None else console_sign_in_in_force(session, sign_in)):
            raise SignInEnded("your sign-in has ended; sign in again")
    if found is None or found.status == SessionStatus.ENDED:
        earlier = _earlier(session, lsid, client_ref, gsnumber)
        if earlier is not None:
            return earlier
        if found is not None:
            raise SessionError("The session has already ended")
        if session.scalar(select(SupportSession.id).where(SupportSession.lsid == lsid)) is None:
            raise SessionError("There is no such session")
        raise SessionError("Only people in the session can do that")
    # A presentation's attendee speaks as its customers would (the event log knows no other kind).
    kind = ActorType.REPRESENTATIVE if found.role == "representative" else ActorType.CUSTOMER
    event = _write_chat_line(
        session,
        session_id=found.id,
        lsid=lsid,
        team_id=found.primary_team_id,
        sender=Actor(kind, gsnumber, found.display_name, found.user_id),
        body=body,
        destination=None,
        client_ref=client_ref,
    )
    if event is not None:
        return event.id
    earlier = _earlier(session, lsid, client_ref, gsnumber)
    assert earlier is not None
    return earlier


def _earlier(session: Session, lsid: str, client_ref: str | None, gsnumber: int | None = None) -> int | None:
    """The line already logged under `client_ref`. Refs are unique per session, not per
    sender: a ref another person's line holds fails this one in words rather than
    acknowledging a line that was never logged."""
    if not client_ref:
        return None
    found = session.execute(
        select(SessionEvent.id, SessionEvent.performed_by_gsnumber)
        .join(SupportSession, SupportSession.id == SessionEvent.session_id)
        .where(SupportSession.lsid == lsid, SessionEvent.client_ref == client_ref)
    ).first()
    if found is None:
        return None
    if gsnumber is not None and found.performed_by_gsnumber != gsnumber:
        raise SessionError(REF_TAKEN)
    return int(found.id)


def add_note(
    session: Session, support_session: SupportSession, rep: Actor, text: str, *, client_ref: str | None = None
) -> AnyEvent:
    """A representative's note on the session (customers never see notes)."""
    if client_ref:
        earlier = event_by_ref(session, support_session, client_ref)
        if earlier is not None:
            return earlier
    if rep.type is not ActorType.REPRESENTATIVE:
        raise SessionError("Only representatives add session notes")
    if not text.strip():
        raise SessionError("A note cannot be empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise SessionError(f"A note is at most {MAX_NOTE_LENGTH} characters")
    _in_session(session, support_session, rep)
    return log_event(session, support_session, EventType.SESSION_NOTE_ADDED, rep, body=text, client_ref=client_ref)


@dataclass(frozen=True)
class FileSent:
    name: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"


def check_file_sender(session: Session, support_session: SupportSession, sender: Actor) -> None:
    """Raises SessionError unless `sender` may send a file into the session now: checked
    before a byte of the file is read, and again by record_file when it is logged."""
    _live(support_session)
    _in_session(session, support_session, sender)


def stage_file(session: Session, support_session: SupportSession, sender: Actor, file: FileSent) -> SessionFile:
    """A file in the session's file store, not yet logged: what a representative sends to
    the customer's computer through the Lifeline client is logged once, as a File Upload,
    when the client has written it (clients.actions.finish_upload), not as a chat file."""
    _live(support_session)
    _in_session(session, support_session, sender)
    name = file.name.replace("/", "_").replace("\\", "_").strip() or "file"
    if len(name) > MAX_FILENAME_LENGTH:
        raise SessionError(f"A file name is at most {MAX_FILENAME_LENGTH} characters")
    if not is_xml_safe(name):
        raise SessionError("A file name cannot contain control characters")
    row = SessionFile(
        session_id=support_session.id,
        name=name,
        size=file.size,
        sha256=file.sha256,
        content_type=file.content_type[:255],
        sent_by_gsnumber=sender.gsnumber,
    )
    session.add(row)
    session.flush()
    return row


def record_file(
    session: Session,
    support_session: SupportSession,
    sender: Actor,
    file: FileSent,
    *,
    destination: Actor | None = None,
    client_ref: str | None = None,
) -> SessionFile:
    """A file went from one participant to another and is in the file store.

    Named as the reports name transfers, from the representative's side: a file sent
    to the customer's machine is a File Upload, one from the customer a File Download.
    """
    if client_ref:
        earlier = event_by_ref(session, support_session, client_ref)
        if earlier is not None:
            sent = session.scalars(select(SessionFile).where(SessionFile.event_id == earlier.id)).first()
            if sent is not None:
                return sent
    row = stage_file(session, support_session, sender, file)
    name = row.name
    to_customer = sender.type is not ActorType.CUSTOMER
    event = log_event(
        session,
        support_session,
        EventType.FILE_UPLOAD if to_customer else EventType.FILE_DOWNLOAD,
        sender,
        destination=destination,
        filename=name,
        filesize=file.size,
        files=[{"name": name, "size": file.size}],
        client_ref=client_ref,
        file_id=row.id,
    )
    row.event_id = event.id
    support_session.file_transfer_count += 1
    return row


@dataclass(frozen=True)
class InfoCategory:
    """One category of system information: a table with named, identified columns."""

    name: str
    fields: Sequence[tuple[str, str]]  # (id, display name), in column order
    rows: Sequence[Sequence[str]]


def record_system_information(
    session: Session, support_session: SupportSession, customer: Actor, categories: Sequence[InfoCategory]
) -> AnyEvent:
    """The system information pulled automatically when the session starts."""
    _live(support_session)
    payload: list[dict[str, Any]] = []
    for category in categories:
        width = len(category.fields)
        if any(len(row) != width for row in category.rows):
            raise SessionError(f"Every row of {category.name} needs {width} fields")
        payload.append(
            {
                "name": category.name,
                "fields": [[field_id, name] for field_id, name in category.fields],
                "rows": [list(row) for row in category.rows],
            }
        )
    return log_event(
        session, support_session, EventType.SYSTEM_INFORMATION_RETRIEVED, customer, system_information=payload
    )


def update_customer_details(
    session: Session, support_session: SupportSession, details: CustomerDetails, *, username: str = ""
) -> None:
    """What the customer told the front-end survey, or their computer reported. Never after
    the end: an ended session's people are frozen for reports (`reports.freezing`)."""
    _live(support_session)
    support_session.customer_name = details.name[:100]
    support_session.customer_company = details.company[:100]
    support_session.customer_company_code = details.company_code[:100]
    support_session.customer_issue = details.issue[:64]
    support_session.customer_details = details.details[:1024]
    primary = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id, SessionParticipant.primary_cust.is_(True)
        )
    ).first()
    if primary is not None:
        if details.name:
            primary.display_name = details.name[:100]
        if username:
            primary.username = username[:100]
