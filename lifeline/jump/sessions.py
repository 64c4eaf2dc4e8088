"""Jump sessions: a support session a representative starts with a computer nobody has to
be at (a Jump Client), or through a Jumpoint with a host on its network (a Shell Jump or a
local push).

The computer is the session's customer (the spec: `primary_customer` is the computer's
name for a Jump session; the target host for a Shell Jump or push), and the jumping rep
owns the session at once, from their personal queue. The session remembers its Jump
Client, so that what happens to the client while the session lives (removed, moved to
another group) is logged in it as the spec's pinned-session events.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import User
from lifeline.jump.models import JumpClient, JumpGroup, JumpMode
from lifeline.jump.queries import pinned_to
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.presence.queries import live_rep_connection
from lifeline.presence.tokens import new_resume_token, resume_token_sha256
from lifeline.sessions import actions as engine
from lifeline.sessions.connections import disconnect
from lifeline.sessions.events import SYSTEM, Actor, ActorType, log_event
from lifeline.sessions.models import EventType, SessionStatus, SupportSession
from lifeline.sessions.queues import rep_queue
from lifeline.sessions.starting import Started

# The start methods of Jump sessions, as the reports show them (docs/decisions.md).
JUMP_CLIENT = "jump_client"
SHELL_JUMP = "shell_jump"
LOCAL_PUSH = "local_push"
MAX_CUSTOMER_NAME = 100  # SupportSession.customer_name


def computer_name(client: JumpClient) -> str:
    return client.name or client.hostname or f"Jump Client {client.id}"


def start_jump_session(
    session: Session,
    *,
    jump_client: JumpClient,
    user: User,
    rep_connection: ClientConnection,
    node_id: str,
    external_key: str = "",
    jumpoint: JumpClient | None = None,
    target_host: str = "",
    start_method: str = "",
) -> Started:
    """Start a session with `jump_client`'s computer (or, through `jumpoint`, with
    `target_host`), owned by `user` on their console connection. The customer's connection
    is made here; the Jump Client (or Jumpoint) attaches to it with the returned token."""
    through = jumpoint if jumpoint is not None else jump_client
    if jumpoint is not None:
        name = target_host
        info = ClientInfo(hostname=target_host, platform="", os="", public_ip="", private_ip="")
        method = start_method or SHELL_JUMP
    else:
        name = computer_name(jump_client)
        info = ClientInfo(
            hostname=jump_client.hostname,
            platform=jump_client.platform,
            os=jump_client.os,
            public_ip=jump_client.public_ip,
            private_ip=jump_client.private_ip,
            timezone_offset=jump_client.timezone_offset,
        )
        method = start_method or JUMP_CLIENT
    token = new_resume_token()
    customer = presence.connect(
        session,
        node_id=node_id,
        kind=ClientKind.SUPPORT_CUSTOMER,
        info=info,
        resume_token_sha256=resume_token_sha256(token),
    )
    support_session = engine.start_session(
        session,
        queue=rep_queue(user),
        public_site_id=through.public_site_id or 1,
        customer_connection=customer,
        details=engine.CustomerDetails(name=name[:MAX_CUSTOMER_NAME]),
        start_method=method,
        external_key=external_key,
    )
    support_session.jump_client_id = through.id
    if jumpoint is not None:
        support_session.jumpoint_id = jumpoint.id
        support_session.jumpoint_name = computer_name(jumpoint)[:255]
    log_event(
        session,
        support_session,
        EventType.SESSION_PINNED_TO_QUEUE,
        SYSTEM,
        data=[("name", pinned_to(session, through)), ("jump_client_id", str(through.id))],
    )
    engine.join_session(session, support_session, rep_connection, user)
    return Started(support_session.lsid, customer.gsnumber, token)


def live_sessions_of(session: Session, jump_client_id: int) -> list[SupportSession]:
    """The sessions started through this Jump Client or Jumpoint that have not ended."""
    return list(
        session.scalars(
            select(SupportSession)
            .where(
                SupportSession.jump_client_id == jump_client_id,
                SupportSession.status != SessionStatus.ENDED.value,
            )
            .order_by(SupportSession.id)
        )
    )


def unpinned(session: Session, jump_client_id: int, by_user: int | None = None) -> None:
    """The Jump Client is being removed (by `by_user`, or the system): its live sessions log
    "Session Unpinned from Queue" (they go on; only the way back to that computer is gone).
    Called by `actions.revoke`."""
    client = session.get(JumpClient, jump_client_id)
    if client is None:
        return
    queue = pinned_to(session, client)
    by = _actor(session, by_user)
    for support_session in live_sessions_of(session, jump_client_id):
        log_event(session, support_session, EventType.SESSION_UNPINNED_FROM_QUEUE, by, data=[("name", queue)])


def _actor(session: Session, user_id: int | None) -> Actor:
    """Who did it, as the event log names them: a rep (on their console connection, if they
    are logged in), or the system."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return SYSTEM
    connection = live_rep_connection(session, user.id)
    return Actor(ActorType.REPRESENTATIVE, connection.gsnumber if connection else 0, user.display_name, user.id)


def moved(
    session: Session,
    jump_client_id: int,
    to_group: JumpGroup | None,
    *,
    personal_user_id: int | None = None,
    by_user: int | None = None,
) -> None:
    """Move the Jump Client to `to_group` (or, with None, to `personal_user_id`'s personal
    list): its live sessions log "Pinned Session Moved away from Queue" (the old one) and
    "Pinned Session Moved to Queue" (the new one)."""
    client = session.get(JumpClient, jump_client_id)
    if client is None:
        return
    before = pinned_to(session, client)
    if to_group is not None:
        client.jump_group_id = to_group.id
        client.personal_user_id = None
    else:
        client.jump_group_id, client.personal_user_id = None, personal_user_id
    after = pinned_to(session, client)
    if after == before:
        return
    by = _actor(session, by_user)
    for support_session in live_sessions_of(session, jump_client_id):
        log_event(session, support_session, EventType.PINNED_SESSION_MOVED_AWAY_FROM_QUEUE, by, data=[("name", before)])
        log_event(session, support_session, EventType.PINNED_SESSION_MOVED_TO_QUEUE, by, data=[("name", after)])


def is_jumpoint(client: JumpClient) -> bool:
    return client.mode == JumpMode.JUMPOINT.value


def abandon(session: Session, lsid: str, customer_gsnumber: int, reason: str) -> None:
    """The Jump Client could not start the session (it said why, or never answered): the
    session ends with the reason, and the connection its client would have used goes."""
    support_session = session.scalars(select(SupportSession).where(SupportSession.lsid == lsid)).first()
    if support_session is not None and not support_session.ended:
        engine.end_session(session, support_session, SYSTEM, reason=reason, abnormal=True)
    connection = session.get(ClientConnection, customer_gsnumber)
    if connection is not None:
        disconnect(session, connection)
