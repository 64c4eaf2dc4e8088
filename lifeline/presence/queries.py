"""Reads of who is connected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.presence.models import ClientConnection, ClientKind
from lifeline.presence.tokens import resume_token_sha256


@dataclass(frozen=True)
class ConnectedClient:
    gsnumber: int
    kind: str
    node_id: str
    user_id: int | None
    session_id: int | None
    hostname: str
    platform: str
    os: str
    public_ip: str
    private_ip: str
    timezone_offset: int
    connected_since: datetime


def connected_clients(
    session: Session, kinds: tuple[str, ...] | None = None, gsnumbers: tuple[int, ...] | None = None
) -> list[ConnectedClient]:
    query = select(ClientConnection).where(ClientConnection.disconnected_at.is_(None))
    if kinds is not None:
        query = query.where(ClientConnection.kind.in_(kinds))
    if gsnumbers is not None:
        query = query.where(ClientConnection.gsnumber.in_(gsnumbers))
    return [
        ConnectedClient(
            gsnumber=c.gsnumber,
            kind=c.kind,
            node_id=c.node_id,
            user_id=c.user_id,
            session_id=c.session_id,
            hostname=c.hostname,
            platform=c.platform,
            os=c.os,
            public_ip=c.public_ip,
            private_ip=c.private_ip,
            timezone_offset=c.timezone_offset,
            connected_since=c.connected_since,
        )
        for c in session.scalars(query.order_by(ClientConnection.gsnumber))
    ]


def live_rep_connection(session: Session, user_id: int) -> ClientConnection | None:
    """The representative's most recent live console connection."""
    return session.scalars(
        select(ClientConnection)
        .where(
            ClientConnection.user_id == user_id,
            ClientConnection.kind == ClientKind.REPRESENTATIVE.value,
            ClientConnection.disconnected_at.is_(None),
        )
        .order_by(ClientConnection.gsnumber.desc())
    ).first()


def connection_by_resume_token(session: Session, token: str) -> ClientConnection | None:
    """The connection a resume token was handed out for, live or over; None for anything else."""
    if not 20 <= len(token) <= 100:
        return None
    return session.scalars(
        select(ClientConnection).where(ClientConnection.resume_token_sha256 == resume_token_sha256(token))
    ).first()
