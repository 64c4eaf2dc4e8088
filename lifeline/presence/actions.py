"""Every write about who is connected: nodes, connections, rep logins.

A connection belongs to the node (appliance process) holding its socket. Nodes
heartbeat; the connections of a node that stopped heartbeating are closed by any
live node, so a crashed process never leaves reps "logged in" for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.models import Node
from lifeline.db.base import utcnow
from lifeline.directory.models import User
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.presence.models import PresenceError as PresenceError  # re-exported for its callers

NODE_GRACE = timedelta(seconds=30)
# How long the appliance waits for a customer who downloaded a launcher to connect: they
# still have to find and run it (and get past the warnings their system shows for
# downloaded programs).
DOWNLOAD_GRACE_SECONDS = 600.0


def register_node(session: Session, node_id: str, hostname: str) -> None:
    now = utcnow()
    node = session.get(Node, node_id)
    if node is None:
        session.add(Node(id=node_id, hostname=hostname, started_at=now, last_seen=now))
    else:
        node.last_seen = now


def heartbeat(session: Session, node_id: str) -> None:
    session.execute(update(Node).where(Node.id == node_id).values(last_seen=utcnow()))


def dead_nodes(session: Session, now: datetime | None = None) -> list[str]:
    """Nodes that stopped heartbeating, and nodes that hold live connections but are unknown
    (their process is long gone: a restored backup, a row deleted by hand)."""
    cutoff = (now or utcnow()) - NODE_GRACE
    stale = set(session.scalars(select(Node.id).where(Node.last_seen < cutoff)))
    orphaned = set(
        session.scalars(
            select(ClientConnection.node_id)
            .where(ClientConnection.disconnected_at.is_(None), ClientConnection.node_id.not_in(select(Node.id)))
            .distinct()
        )
    )
    return sorted(stale | orphaned)


def connect(
    session: Session,
    *,
    node_id: str,
    kind: ClientKind,
    info: ClientInfo,
    user: User | None = None,
    session_id: int | None = None,
    resume_token_sha256: str = "",
) -> ClientConnection:
    """A new connection and its gsnumber."""
    connection = ClientConnection(
        node_id=node_id,
        kind=kind.value,
        user_id=user.id if user else None,
        session_id=session_id,
        hostname=info.hostname[:255],
        platform=info.platform[:64],
        os=info.os[:255],
        public_ip=info.public_ip[:64],
        private_ip=info.private_ip[:64],
        timezone_offset=info.timezone_offset,
        showing_on_rep_list=True,
        resume_token_sha256=resume_token_sha256,
        connected_since=utcnow(),
    )
    session.add(connection)
    session.flush()
    stamps.bump(session, stamps.PRESENCE)
    return connection


def rep_log_in(
    session: Session, user: User, *, node_id: str, info: ClientInfo, resume_token_sha256: str = ""
) -> ClientConnection:
    """A representative logs into the console: a new connection with a new gsnumber."""
    if not user.enabled:
        raise PresenceError("This account is disabled.")
    if not user.perm_support:
        raise PresenceError("This account is not allowed to provide remote support.")
    return connect(
        session,
        node_id=node_id,
        kind=ClientKind.REPRESENTATIVE,
        info=info,
        user=user,
        resume_token_sha256=resume_token_sha256,
    )


def set_showing_on_rep_list(session: Session, connection: ClientConnection, showing: bool) -> None:
    if connection.showing_on_rep_list != showing:
        connection.showing_on_rep_list = showing
        stamps.bump(session, stamps.PRESENCE)


def adopt(
    session: Session, resume_token_sha256: str, *, node_id: str, kind: ClientKind, user_id: int | None = None
) -> ClientConnection | None:
    """A client reconnects with its resume token: the same connection (and gsnumber) moves to
    this node. None when the token is unknown, belongs to someone else, or its connection is over."""
    if not resume_token_sha256:
        return None
    connection = session.scalars(
        select(ClientConnection)
        .where(
            ClientConnection.resume_token_sha256 == resume_token_sha256,
            ClientConnection.kind == kind.value,
            ClientConnection.disconnected_at.is_(None),
        )
        # Locked: the node it leaves may be marking it away at this moment (realtime.customer.went_away).
        .with_for_update()
    ).first()
    if connection is None or (user_id is not None and connection.user_id != user_id):
        return None
    connection.node_id = node_id
    return connection
