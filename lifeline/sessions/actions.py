"""Every change to a support session. Each appends its events in the caller's transaction.

The lifecycle is a state machine (`models.SessionStatus`, changed only through
`SupportSession.move_to`): a session waits in a queue until a representative owns it,
goes back to waiting when it is transferred or its owner is lost, and ends once.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory.models import Team, TeamMember, User
from lifeline.presence.models import ClientConnection, ClientKind, ConnectionState
from lifeline.sessions.events import SYSTEM, Actor, ActorType, log_event
from lifeline.sessions.live import mark_changed
from lifeline.sessions.models import (
    PRESENTATION,
    EventType,
    SessionAttribute,
    SessionKey,
    SessionParticipant,
    SessionTeam,
    SupportSession,
)

# Re-exported: adapters catch engine.SessionError and read engine.SessionStatus.
from lifeline.sessions.models import SessionError as SessionError
from lifeline.sessions.models import SessionStatus as SessionStatus
from lifeline.sessions.queries import joined_now
from lifeline.sessions.queues import GENERAL, Queue, QueueKind
from lifeline.text import is_xml_safe


@dataclass(frozen=True)
class CustomerDetails:
    """What the customer told us (front-end survey) or an integration set for them."""

    name: str = ""
    company: str = ""
    company_code: str = ""
    issue: str = ""
    details: str = ""


ONE_PRESENTER = "A presentation has one presenter: nobody else joins it"


def rep_actor(connection: ClientConnection, user: User) -> Actor:
    return Actor(ActorType.REPRESENTATIVE, connection.gsnumber, user.display_name, user.id)


def customer_actor(session: Session, support_session: SupportSession) -> Actor:
    primary = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id,
            SessionParticipant.role == "customer",
            SessionParticipant.primary_cust.is_(True),
        )
    ).first()
    if primary is None:
        return Actor(ActorType.CUSTOMER, 0, support_session.customer_name or "Customer")
    return Actor(ActorType.CUSTOMER, primary.gsnumber, primary.display_name)


# --- starting ----------------------------------------------------------------------------


def start_session(
    session: Session,
    *,
    queue: Queue,
    public_site_id: int,
    customer_connection: ClientConnection,
    details: CustomerDetails,
    start_method: str,
    external_key: str = "",
    attributes: Mapping[str, str] | None = None,
    session_key: SessionKey | None = None,
) -> SupportSession:
    """A customer's client connected: the session starts, waiting in `queue`."""
    now = utcnow()
    support_session = SupportSession(
        lsid=uuid.uuid4().hex,
        session_type="support",
        status=SessionStatus.WAITING.value,  # where every session starts
        queue_kind=queue.kind.value,
        queue_ref_id=queue.ref_id,
        public_site_id=public_site_id,
        start_method=start_method,
        start_time=now,
        customer_name=details.name,
        customer_company=details.company,
        customer_company_code=details.company_code,
        customer_issue=details.issue,
        customer_details=details.details,
        session_key_id=session_key.id if session_key else None,
    )
    session.add(support_session)
    session.flush()
    customer = SessionParticipant(
        session_id=support_session.id,
        role="customer",
        gsnumber=customer_connection.gsnumber,
        display_name=details.name or "Customer",
        public_ip=customer_connection.public_ip,
        private_ip=customer_connection.private_ip,
        hostname=customer_connection.hostname,
        os=customer_connection.os,
        primary_cust=True,
        joined_at=now,
    )
    session.add(customer)
    customer_connection.session_id = support_session.id
    if queue.team_id is not None:
        _enter_team(session, support_session, queue.team_id)
    actor = Actor(ActorType.CUSTOMER, customer_connection.gsnumber, customer.display_name)
    log_event(
        session,
        support_session,
        EventType.SESSION_START,
        actor,
        data=[
            ("start_method", start_method),
            ("queue", queue.spec),
            ("queue_name", queue.name),
            ("issue", queue.issue_code),
        ],
    )
    changes: dict[str, str | None] = dict(attributes or {})
    if external_key:
        changes["external_key"] = external_key
    if changes:
        set_attributes(session, support_session, changes, actor)
    if session_key is not None:
        session_key.used_at = now
        session_key.active_short_key = None
        session_key.support_session_id = support_session.id
    return support_session


def _enter_team(session: Session, support_session: SupportSession, team_id: int) -> None:
    support_session.primary_team_id = team_id
    if session.get(SessionTeam, (support_session.id, team_id)) is None:
        session.add(SessionTeam(session_id=support_session.id, team_id=team_id, first_at=utcnow()))


# --- representatives joining and leaving --------------------------------------------------


def member_data(session: Session, connection: ClientConnection, user: User) -> list[tuple[str, str]]:
    """The data values of a Conference Member Added event, in the 1.7 guide's order."""
    teams = session.scalars(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user.id)
    ).all()
    return [
        ("name", user.display_name),
        ("username", user.username),
        ("private_ip", connection.private_ip),
        ("public_ip", connection.public_ip),
        ("embassies", ",".join(t.name for t in teams if t.is_embassy)),
        ("hostname", connection.hostname),
        ("os", connection.os),
        ("support_teams", ",".join(t.name for t in teams if not t.is_embassy)),
        ("user_id", str(user.id)),
    ]


def _participant(
    session: Session, support_session: SupportSession, role: str, gsnumber: int
) -> SessionParticipant | None:
    return session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id,
            SessionParticipant.role == role,
            SessionParticipant.gsnumber == gsnumber,
        )
    ).first()


def _joined_reps(session: Session, support_session: SupportSession) -> list[SessionParticipant]:
    return list(
        session.scalars(
            select(SessionParticipant)
            .where(
                SessionParticipant.session_id == support_session.id,
                SessionParticipant.role == "representative",
                SessionParticipant.joined_at.is_not(None),
            )
            .order_by(SessionParticipant.id)
        )
    )


def join_session(
    session: Session,
    support_session: SupportSession,
    connection: ClientConnection,
    user: User,
    *,
    performed_by: Actor | None = None,
) -> None:
    """A representative joins the session; if nobody owns it, they become its owner."""
    if support_session.ended:
        raise SessionError("The session has already ended")
    if connection.kind != ClientKind.REPRESENTATIVE.value or connection.disconnected_at is not None:
        raise SessionError("The representative is not logged in")
    if support_session.session_type == PRESENTATION and support_session.owner_gsnumber is not None:
        raise SessionError(ONE_PRESENTER)
    me = rep_actor(connection, user)
    row = _participant(session, support_session, "representative", connection.gsnumber)
    if row is not None and row.joined_at is not None:
        raise SessionError("The representative is already in this session")
    now = utcnow()
    if row is None:
        row = SessionParticipant(
            session_id=support_session.id,
            role="representative",
            gsnumber=connection.gsnumber,
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            display_number=user.display_number,
            public_ip=connection.public_ip,
            private_ip=connection.private_ip,
            hostname=connection.hostname,
            os=connection.os,
            embassy=user.kind == "Embassy",
            invited=user.kind == "Invited",
        )
        session.add(row)
    row.joined_at = now
    log_event(
        session,
        support_session,
        EventType.CONFERENCE_MEMBER_ADDED,
        performed_by or me,
        destination=me,
        data=member_data(session, connection, user),
    )
    if support_session.owner_gsnumber is None:
        _make_owner(session, support_session, row, me, performed_by or me)
    stamps.bump(session, stamps.PRESENCE)


def take_session(session: Session, support_session: SupportSession, connection: ClientConnection, user: User) -> None:
    """A representative takes a waiting session from a queue."""
    if support_session.state is not SessionStatus.WAITING:
        raise SessionError("The session is not waiting in a queue")
    if not may_take(session, user, support_session):
        raise SessionError("The representative may not take sessions from this queue")
    join_session(session, support_session, connection, user)


def may_take(session: Session, user: User, support_session: SupportSession) -> bool:
    kind = support_session.queue_kind
    if not user.enabled or not user.perm_support:
        return False
    if kind == QueueKind.GENERAL.value:
        return user.perm_general_queue
    if kind == QueueKind.REP.value:
        return support_session.queue_ref_id == user.id
    if kind in (QueueKind.TEAM.value, QueueKind.EMBASSY.value):
        return session.get(TeamMember, (support_session.queue_ref_id, user.id)) is not None
    return False


def _make_owner(
    session: Session, support_session: SupportSession, row: SessionParticipant, owner: Actor, performed_by: Actor
) -> None:
    if support_session.state is not SessionStatus.ACTIVE:  # an heir taking over is not a change of status
        support_session.move_to(SessionStatus.ACTIVE)
    support_session.owner_user_id = row.user_id
    support_session.owner_gsnumber = row.gsnumber
    support_session.last_owner_user_id = row.user_id
    support_session.last_owner_gsnumber = row.gsnumber
    support_session.queue_kind = None
    support_session.queue_ref_id = None
    row.session_owner = True
    log_event(session, support_session, EventType.CONFERENCE_OWNER_CHANGED, performed_by, destination=owner)


def leave_session(
    session: Session,
    support_session: SupportSession,
    connection: ClientConnection,
    user: User,
    *,
    performed_by: Actor | None = None,
) -> None:
    """A representative leaves. An owner leaving hands the session on (or back to a queue)."""
    row = _participant(session, support_session, "representative", connection.gsnumber)
    if row is None or row.joined_at is None:
        raise SessionError("The representative is not in this session")
    if support_session.session_type == PRESENTATION:
        raise SessionError("A presenter does not leave a presentation: end it instead")
    me = rep_actor(connection, user)
    _depart(session, support_session, row, me, performed_by or me)
    if support_session.owner_gsnumber == connection.gsnumber:
        _owner_lost(session, support_session, performed_by or me)
    stamps.bump(session, stamps.PRESENCE)


def _depart(
    session: Session, support_session: SupportSession, row: SessionParticipant, who: Actor, performed_by: Actor
) -> None:
    now = utcnow()
    if row.joined_at is not None:
        row.seconds_involved += max(0, int((now - row.joined_at).total_seconds()))
        row.joined_at = None
    log_event(session, support_session, EventType.CONFERENCE_MEMBER_DEPARTED, performed_by, destination=who)


def _owner_lost(session: Session, support_session: SupportSession, performed_by: Actor) -> None:
    support_session.owner_user_id = None
    support_session.owner_gsnumber = None
    remaining = _joined_reps(session, support_session)
    if remaining:
        heir = remaining[0]
        heir_actor = Actor(ActorType.REPRESENTATIVE, heir.gsnumber, heir.display_name, heir.user_id)
        _make_owner(session, support_session, heir, heir_actor, performed_by)
        return
    fallback = GENERAL
    if support_session.primary_team_id is not None:
        team = session.get(Team, support_session.primary_team_id)
        if team is not None:
            fallback = Queue(QueueKind.EMBASSY if team.is_embassy else QueueKind.TEAM, team.id, team.name)
    _into_queue(session, support_session, fallback, SYSTEM)


def require_member(session: Session, support_session: SupportSession, connection: ClientConnection) -> None:
    """Only a representative in the session may change it from their console."""
    if not joined_now(session, support_session, "representative", connection.gsnumber):
        raise SessionError("You are not in this session")


def require_owner(support_session: SupportSession, connection: ClientConnection) -> None:
    if support_session.owner_gsnumber != connection.gsnumber:
        raise SessionError("Only the session's owner can do that")


# --- transfers ---------------------------------------------------------------------------


def transfer_session(session: Session, support_session: SupportSession, queue: Queue, performed_by: Actor) -> None:
    """Move the session to another queue; its owner, if any, leaves it."""
    if support_session.ended:
        raise SessionError("The session has already ended")
    if support_session.session_type == PRESENTATION:
        raise SessionError("A presentation is not in a queue: it cannot be transferred")
    if support_session.owner_gsnumber is not None:
        row = _participant(session, support_session, "representative", support_session.owner_gsnumber)
        support_session.owner_user_id = None
        support_session.owner_gsnumber = None
        if row is not None and row.joined_at is not None:
            who = Actor(ActorType.REPRESENTATIVE, row.gsnumber, row.display_name, row.user_id)
            _depart(session, support_session, row, who, performed_by)
    _into_queue(session, support_session, queue, performed_by)
    stamps.bump(session, stamps.PRESENCE)


def _into_queue(session: Session, support_session: SupportSession, queue: Queue, performed_by: Actor) -> None:
    if support_session.state is not SessionStatus.WAITING:  # from one queue to another is not a change of status
        support_session.move_to(SessionStatus.WAITING)
    support_session.queue_kind = queue.kind.value
    support_session.queue_ref_id = queue.ref_id
    if queue.team_id is not None:
        _enter_team(session, support_session, queue.team_id)
    destination = None
    if queue.kind is QueueKind.REP:
        live = session.scalars(
            select(ClientConnection.gsnumber)
            .where(
                ClientConnection.user_id == queue.ref_id,
                ClientConnection.kind == ClientKind.REPRESENTATIVE.value,
                ClientConnection.disconnected_at.is_(None),
            )
            .order_by(ClientConnection.gsnumber.desc())
        ).first()
        destination = Actor(ActorType.REPRESENTATIVE, live or 0, queue.name, queue.ref_id)
    log_event(
        session,
        support_session,
        EventType.SESSION_TRANSFERRED_TO_QUEUE,
        performed_by,
        destination=destination,
        data=[("queue", queue.spec), ("queue_type", queue.kind.value), ("queue_name", queue.name)],
    )


# --- attributes --------------------------------------------------------------------------

MAX_ATTRIBUTE_LENGTH = 1024
MAX_ATTRIBUTES_TOTAL = 10 * 1024


def attributes_problem(values: Mapping[str, str], defined: Collection[str]) -> str | None:
    """Why these `session.custom.*` values (by code name, external_key among them) cannot be
    set, or None: each names an attribute an admin defined, is at most 1,024 characters and
    XML-safe, and all together are at most 10 KB. The Command API and /api/start_session
    both ask here."""
    total = 0
    for code_name, value in values.items():
        if code_name != "external_key" and code_name not in defined:
            return f"Unknown custom attribute session.custom.{code_name}"
        if len(value) > MAX_ATTRIBUTE_LENGTH:
            return f"The parameter session.custom.{code_name} is longer than {MAX_ATTRIBUTE_LENGTH} characters."
        total += len(value)
    if total > MAX_ATTRIBUTES_TOTAL:
        return "The custom attributes are longer than 10 KB together."
    for code_name, value in values.items():
        if not is_xml_safe(value):
            return f"The parameter session.custom.{code_name} contains characters that are not allowed."
    return None


def set_attributes(
    session: Session, support_session: SupportSession, changes: Mapping[str, str | None], performed_by: Actor
) -> bool:
    """Set `session.custom.*` attributes: a value sets, "" clears, None leaves unchanged.

    Logged as one External Key event whose data values name every attribute changed
    (the 1.7 event types predate custom attributes; external_key is one of them).
    """
    if support_session.ended:
        raise SessionError("The session has already ended")
    changed: list[tuple[str, str]] = []
    for code_name, value in changes.items():
        if value is None:
            continue
        if code_name == "external_key":
            if support_session.external_key != value:
                support_session.external_key = value
                changed.append((code_name, value))
            continue
        row = session.get(SessionAttribute, (support_session.id, code_name))
        if value == "":
            if row is not None:
                session.delete(row)
                changed.append((code_name, value))
        elif row is None:
            session.add(SessionAttribute(session_id=support_session.id, code_name=code_name, value=value))
            changed.append((code_name, value))
        elif row.value != value:
            row.value = value
            changed.append((code_name, value))
    if changed:
        body = support_session.external_key if any(name == "external_key" for name, _ in changed) else None
        log_event(session, support_session, EventType.EXTERNAL_KEY, performed_by, body=body, data=changed)
    return bool(changed)


# --- ending ------------------------------------------------------------------------------


def end_session(
    session: Session,
    support_session: SupportSession,
    performed_by: Actor,
    *,
    reason: str = "",
    abnormal: bool = False,
    at: datetime | None = None,
) -> None:
    """End the session once; everyone still in it is counted out at this moment, or at `at`
    (earlier: when the customer left a session that ends because they never came back)."""
    if support_session.ended:
        raise SessionError("The session has already ended")
    now = utcnow() if at is None else min(at, utcnow())
    for row in session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.session_id == support_session.id, SessionParticipant.joined_at.is_not(None)
        )
    ):
        assert row.joined_at is not None
        row.seconds_involved += max(0, int((now - row.joined_at).total_seconds()))
        row.joined_at = None
    support_session.move_to(SessionStatus.ENDED)
    support_session.end_time = now
    support_session.closed_abnormally = abnormal
    support_session.owner_user_id = None
    support_session.owner_gsnumber = None
    support_session.queue_kind = None
    support_session.queue_ref_id = None
    log_event(
        session, support_session, EventType.SESSION_END, performed_by, data=[("reason", reason)] if reason else ()
    )
    if support_session.session_type == PRESENTATION:
        _presentation_over(session, support_session, now)
    stamps.bump(session, stamps.PRESENCE)


def _presentation_over(session: Session, presentation: SupportSession, now: datetime) -> None:
    """Its attendees' connections end with it (their pages are told by the Session End
    event), and its key joins nobody any more."""
    for connection in session.scalars(
        select(ClientConnection).where(
            ClientConnection.session_id == presentation.id,
            ClientConnection.kind == ClientKind.PRESENTATION_ATTENDEE.value,
            ClientConnection.disconnected_at.is_(None),
        )
    ):
        connection.move_to(ConnectionState.GONE, now)
    if presentation.session_key_id is not None:
        key = session.get(SessionKey, presentation.session_key_id)
        if key is not None and key.used_at is None:
            key.used_at = now
            key.active_short_key = None


def connection_gone(session: Session, connection: ClientConnection) -> None:
    """A connection is over for good: its rep leaves every session (and ends the presentation
    they give), its customer's session ends, its attendee leaves the presentation."""
    if connection.kind == ClientKind.PRESENTATION_ATTENDEE.value:
        _attendee_left(session, connection)
        return
    if connection.kind == ClientKind.SUPPORT_CUSTOMER.value and connection.session_id is not None:
        support_session = session.get(SupportSession, connection.session_id)
        if support_session is not None and not support_session.ended:
            who = Actor(ActorType.CUSTOMER, connection.gsnumber, support_session.customer_name or "Customer")
            # Nobody took it: the customer gave up waiting. Either way the session lasted
            # until the customer left, not until the appliance gave up on them.
            reason = "abandoned" if support_session.state is SessionStatus.WAITING else "customer disconnected"
            end_session(session, support_session, who, reason=reason, abnormal=True, at=connection.away_since)
        return
    if connection.kind != ClientKind.REPRESENTATIVE.value or connection.user_id is None:
        return
    user = session.get(User, connection.user_id)
    rows = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.role == "representative",
            SessionParticipant.gsnumber == connection.gsnumber,
            SessionParticipant.joined_at.is_not(None),
        )
    ).all()
    for row in rows:
        support_session = session.get(SupportSession, row.session_id)
        if support_session is None or user is None:
            continue
        if support_session.session_type == PRESENTATION:  # its presenter is gone: it is over
            end_session(session, support_session, SYSTEM, reason="presenter logged out")
            continue
        leave_session(session, support_session, connection, user, performed_by=SYSTEM)


def _attendee_left(session: Session, connection: ClientConnection) -> None:
    row = session.scalars(
        select(SessionParticipant).where(
            SessionParticipant.role == "attendee",
            SessionParticipant.gsnumber == connection.gsnumber,
            SessionParticipant.joined_at.is_not(None),
        )
    ).first()
    if row is None or row.joined_at is None:
        return
    row.seconds_involved += max(0, int((utcnow() - row.joined_at).total_seconds()))
    row.joined_at = None
    presentation = session.get(SupportSession, row.session_id)
    if presentation is not None and not presentation.ended:
        mark_changed(session, presentation)
