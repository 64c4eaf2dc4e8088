"""Presentations: a representative shows their screen to attendees who join with a
presentation key (or its link) in a browser, and chat with the presenter and each other.

A presentation is a row of support_sessions of session_type "presentation" (its lsid,
start and end, its owner the presenting rep), so its event log, chat and recording are
those of any session; reports, queues and counts of support sessions leave it out. Its
key is a session key of session_type "presentation", usable by any number of attendees
until the presentation ends. An attendee is a connection of kind presentation_attendee
and a participant of role "attendee".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory.models import User
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.sessions import actions as engine
from lifeline.sessions.events import Actor, ActorType, log_event
from lifeline.sessions.keys import IssuedKey, KeyRequest, KeyState, find_key, generate_session_key
from lifeline.sessions.live import mark_changed
from lifeline.sessions.models import (
    PRESENTATION,
    EventType,
    SessionError,
    SessionKey,
    SessionParticipant,
    SessionStatus,
    SupportSession,
)
from lifeline.sessions.queues import rep_queue
from lifeline.text import is_xml_safe

ATTENDEE = "attendee"  # the participant role of an attendee
MAX_ATTENDEES = 200  # per presentation: each one is a socket and a copy of every frame
MAX_NAME = 100


@dataclass(frozen=True)
class Presenting:
    lsid: str
    key: IssuedKey


def live_presentation(session: Session, gsnumber: int) -> SupportSession | None:
    """The presentation this console connection is giving now, if any."""
    return session.scalars(
        select(SupportSession).where(
            SupportSession.session_type == PRESENTATION,
            SupportSession.owner_gsnumber == gsnumber,
            SupportSession.status != SessionStatus.ENDED.value,
        )
    ).first()


def start_presentation(
    session: Session,
    connection: ClientConnection,
    user: User,
    *,
    public_site_id: int,
    url_hostname: str,
    max_ttl: int,
) -> Presenting:
    """The rep starts presenting: the presentation, owned by them, and its key. One at a
    time per console: a second would share the same screen."""
    if connection.kind != ClientKind.REPRESENTATIVE.value or connection.disconnected_at is not None:
        raise SessionError("The representative is not logged in")
    if live_presentation(session, connection.gsnumber) is not None:
        raise SessionError("You are already presenting; end that presentation first")
    presentation = SupportSession(
        lsid=uuid.uuid4().hex,
        session_type=PRESENTATION,
        status=SessionStatus.WAITING.value,  # for a moment: joining makes the presenter its owner
        public_site_id=public_site_id,
        start_method="presentation",
        start_time=utcnow(),
        customer_name=f"Presentation by {user.display_name}",
    )
    session.add(presentation)
    session.flush()
    me = engine.rep_actor(connection, user)
    log_event(session, presentation, EventType.SESSION_START, me, data=[("start_method", "presentation")])
    engine.join_session(session, presentation, connection, user)
    key = generate_session_key(
        session,
        KeyRequest(
            queue=rep_queue(user),
            url_hostname=url_hostname,
            public_site_id=public_site_id,
            created_by_user_id=user.id,
            session_type=PRESENTATION,
        ),
        max_ttl=max_ttl,
    )
    row = session.get(SessionKey, key.id)
    assert row is not None
    row.support_session_id = presentation.id
    presentation.session_key_id = row.id
    return Presenting(presentation.lsid, key)


def presentation_for_key(session: Session, key_text: str) -> tuple[KeyState, SupportSession | None]:
    """The presentation a typed key (seven digits) or a link's key (32 hex) joins."""
    key_text = key_text.strip()
    if key_text.isdigit():
        state, key = find_key(session, short_key=key_text)
    else:
        state, key = find_key(session, url_key=key_text.lower())
    if key is None or key.session_type != PRESENTATION or key.support_session_id is None:
        return KeyState.UNKNOWN, None
    presentation = session.get(SupportSession, key.support_session_id)
    if presentation is None or presentation.ended:
        return KeyState.USED, None
    return state, presentation


def attend(
    session: Session, presentation: SupportSession, *, name: str, info: ClientInfo, node_id: str
) -> ClientConnection:
    """An attendee joins: a connection of their own, and a participant of the presentation."""
    if presentation.ended or presentation.session_type != PRESENTATION:
        raise SessionError("This presentation is over")
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise SessionError("Please give your name")
    if not is_xml_safe(name):  # it goes into the reports' XML with every chat line
        raise SessionError("Your name contains characters that are not allowed")
    attending = session.scalar(
        select(func.count(SessionParticipant.id)).where(
            SessionParticipant.session_id == presentation.id,
            SessionParticipant.role == ATTENDEE,
            SessionParticipant.joined_at.is_not(None),
        )
    )
    if (attending or 0) >= MAX_ATTENDEES:
        raise SessionError("This presentation is full")
    connection = presence.connect(
        session, node_id=node_id, kind=ClientKind.PRESENTATION_ATTENDEE, info=info, session_id=presentation.id
    )
    session.add(
        SessionParticipant(
            session_id=presentation.id,
            role=ATTENDEE,
            gsnumber=connection.gsnumber,
            display_name=name,
            public_ip=connection.public_ip,
            hostname=connection.hostname,
            os=connection.os,
            joined_at=utcnow(),
        )
    )
    mark_changed(session, presentation)
    return connection


def attendee_actor(session: Session, gsnumber: int) -> Actor:
    row = session.scalars(
        select(SessionParticipant).where(SessionParticipant.gsnumber == gsnumber, SessionParticipant.role == ATTENDEE)
    ).first()
    return Actor(ActorType.CUSTOMER, gsnumber, row.display_name if row else "Attendee")


def attendees(session: Session, presentation: SupportSession) -> list[dict[str, object]]:
    """Who attends now, in the order they came."""
    return [
        {"gsnumber": gsnumber, "name": name}
        for gsnumber, name in session.execute(
            select(SessionParticipant.gsnumber, SessionParticipant.display_name)
            .where(
                SessionParticipant.session_id == presentation.id,
                SessionParticipant.role == ATTENDEE,
                SessionParticipant.joined_at.is_not(None),
            )
            .order_by(SessionParticipant.id)
        )
    ]


def end_presentation(session: Session, presentation: SupportSession, performed_by: Actor, *, reason: str) -> None:
    if presentation.session_type != PRESENTATION:
        raise SessionError("That is not a presentation")
    engine.end_session(session, presentation, performed_by, reason=reason)
    stamps.bump(session, stamps.PRESENCE)
