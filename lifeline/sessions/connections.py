"""Connections ending, and with them their part in sessions: a rep leaves the sessions they
were in, a customer's session ends. Written in the session engine because it sits above
presence (presence knows connections, not sessions); every connection ends through here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.models import Node
from lifeline.presence.models import ClientConnection, ClientKind, ConnectionState
from lifeline.sessions.actions import connection_gone


def disconnect(session: Session, connection: ClientConnection) -> None:
    """The connection is over (logout, or its node died). Sessions it took part in are told."""
    if connection.disconnected_at is not None:
        return
    connection_gone(session, connection)
    connection.move_to(ConnectionState.GONE)
    stamps.bump(session, stamps.PRESENCE)


def close_node(session: Session, node_id: str) -> int:
    """Close every live connection of a node (it stopped, or stopped heartbeating)."""
    live = session.scalars(
        select(ClientConnection).where(ClientConnection.node_id == node_id, ClientConnection.disconnected_at.is_(None))
    ).all()
    for connection in live:
        disconnect(session, connection)
    node = session.get(Node, node_id)
    if node is not None:
        session.delete(node)
    return len(live)


def expire_if_still_held(session: Session, gsnumber: int, node_id: str) -> bool:
    """A client that dropped never came back: its connection ends, unless another node adopted it."""
    connection = session.get(ClientConnection, gsnumber)
    if connection is None or connection.node_id != node_id or connection.disconnected_at is not None:
        return False
    disconnect(session, connection)
    return True


def _away_before(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        ClientConnection.away_since < cutoff,
        ClientConnection.disconnected_at.is_(None),
        ClientConnection.kind == ClientKind.SUPPORT_CUSTOMER.value,
    )


def any_away_before(session: Session, cutoff: datetime) -> bool:
    """A cheap read first: most of the time nobody is due and nothing needs writing."""
    return session.scalar(select(ClientConnection.gsnumber).where(*_away_before(cutoff)).limit(1)) is not None


def expire_away_customers(session: Session, cutoff: datetime) -> int:
    """Customers whose socket closed before `cutoff` and who never came back are gone: their
    connections end (and so their sessions). Kept in the database, so any process does it,
    and a restarted one too."""
    gone = session.scalars(
        select(ClientConnection)
        .where(*_away_before(cutoff))
        .with_for_update(skip_locked=True)  # two processes sweeping at once end each one once
    ).all()
    for connection in gone:
        disconnect(session, connection)
    return len(gone)


def disconnect_by_gsnumber(session: Session, gsnumber: int) -> None:
    connection = session.get(ClientConnection, gsnumber)
    if connection is not None:
        disconnect(session, connection)
