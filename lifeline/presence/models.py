"""Tables of live connections, and the kinds and facts of the clients that hold them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, UtcDateTime, utcnow


class ClientKind(enum.StrEnum):
    """Client types, as get_connected_client_list names them."""

    REPRESENTATIVE = "representative"
    SUPPORT_CUSTOMER = "support_customer"
    PRESENTATION_ATTENDEE = "presentation_attendee"
    PUSH_AGENT = "push_agent"
    PINNED_CLIENT = "pinned_client"


@dataclass(frozen=True)
class ClientInfo:
    hostname: str = ""
    platform: str = ""
    os: str = ""
    public_ip: str = ""
    private_ip: str = ""
    timezone_offset: int = 0


class PresenceError(ValueError):
    """A login or connection that cannot be made; the message says why."""


class ConnectionState(enum.StrEnum):
    """Where a connection is in its life, read from its columns (nothing else is stored);
    the values are what consoles are told of a session's customer.

    Connected until its socket closes; then reconnecting until it comes back (a reload, a
    blip) or is given up; gone once, for good.
    """

    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # away_since is set
    GONE = "gone"  # disconnected_at is set


_NEXT: dict[ConnectionState, frozenset[ConnectionState]] = {
    ConnectionState.CONNECTED: frozenset({ConnectionState.RECONNECTING, ConnectionState.GONE}),
    ConnectionState.RECONNECTING: frozenset({ConnectionState.CONNECTED, ConnectionState.GONE}),
    ConnectionState.GONE: frozenset(),
}


def connection_move_problem(current: ConnectionState, to: ConnectionState) -> str | None:
    """Why a connection cannot go from `current` to `to`, or None when it can."""
    if to in _NEXT[current]:
        return None
    if current is ConnectionState.GONE:
        return "The connection is over"
    return f"The connection is already {to.value}"


class ClientConnection(Base):
    """One connection of a client to the appliance. Its primary key is the connection's gsnumber."""

    __tablename__ = "client_connections"
    __table_args__ = (
        Index("ix_client_connections_live", "kind", "disconnected_at"),
        Index("ix_client_connections_away_since", "away_since"),
    )

    gsnumber: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    platform: Mapped[str] = mapped_column(String(64), default="")
    os: Mapped[str] = mapped_column(String(255), default="")
    public_ip: Mapped[str] = mapped_column(String(64), default="")
    private_ip: Mapped[str] = mapped_column(String(64), default="")
    timezone_offset: Mapped[int] = mapped_column(Integer, default=0)
    showing_on_rep_list: Mapped[bool] = mapped_column(Boolean, default=True)
    resume_token_sha256: Mapped[str] = mapped_column(String(64), default="")
    connected_since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When its client's socket closed, while the client has not come back (a reload, a blip,
    # or a closed tab): the customer shows as reconnecting, and a session that ends because
    # they never came back ends at this moment.
    away_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    @property
    def state(self) -> ConnectionState:
        if self.disconnected_at is not None:
            return ConnectionState.GONE
        return ConnectionState.CONNECTED if self.away_since is None else ConnectionState.RECONNECTING

    def move_to(self, to: ConnectionState, at: datetime | None = None) -> None:
        """The one way a connection's state changes; an impossible move is a PresenceError."""
        problem = connection_move_problem(self.state, to)
        if problem is not None:
            raise PresenceError(problem)
        if to is ConnectionState.GONE:
            self.disconnected_at = at or utcnow()
        else:
            self.away_since = (at or utcnow()) if to is ConnectionState.RECONNECTING else None
