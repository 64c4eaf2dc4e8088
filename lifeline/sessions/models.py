"""Tables of the support-session engine."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, ExactText, UtcDateTime, utcnow

# support_sessions.session_type: a support session, or a presentation (sessions.presenting).
SUPPORT = "support"
PRESENTATION = "presentation"


class SessionError(ValueError):
    """A session change that cannot be made; the message says why."""


class SessionStatus(enum.StrEnum):
    """Where a session is in its life; the values are what `support_sessions.status` stores.

    A session starts waiting in a queue, is active while a representative owns it, goes
    back to waiting when it is transferred or its owner is lost, and ends once. Moving
    between queues, or from one owner to the next, is not a change of status.
    """

    WAITING = "waiting"  # in a queue, no owner
    ACTIVE = "active"  # owned by a representative
    ENDED = "ended"


_NEXT: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.WAITING: frozenset({SessionStatus.ACTIVE, SessionStatus.ENDED}),
    SessionStatus.ACTIVE: frozenset({SessionStatus.WAITING, SessionStatus.ENDED}),
    SessionStatus.ENDED: frozenset(),
}

_REFUSED = {
    SessionStatus.WAITING: "The session is already waiting in a queue",
    SessionStatus.ACTIVE: "The session already has an owner",
    SessionStatus.ENDED: "The session has already ended",
}


def session_move_problem(current: SessionStatus, to: SessionStatus) -> str | None:
    """Why a session cannot go from `current` to `to`, or None when it can."""
    if to in _NEXT[current]:
        return None
    return _REFUSED[SessionStatus.ENDED if current is SessionStatus.ENDED else to]


class EventType(enum.StrEnum):
    """Event types exactly as the 1.7 guide lists them."""

    CHAT_MESSAGE = "Chat Message"
    COMMAND_SHELL_SESSION_STARTED = "Command Shell Session Started"
    CALLBACK_BUTTON_DEPLOYED = "Callback Button Deployed"
    CALLBACK_BUTTON_REMOVED = "Callback Button Removed"
    CONFERENCE_MEMBER_ADDED = "Conference Member Added"
    CONFERENCE_MEMBER_DEPARTED = "Conference Member Departed"
    CONFERENCE_MEMBER_STATE_CHANGED = "Conference Member State Changed"
    CONFERENCE_OWNER_CHANGED = "Conference Owner Changed"
    CUSTOMER_EXIT_SURVEY = "Customer Exit Survey"
    EXTERNAL_KEY = "External Key"
    FILE_DOWNLOAD = "File Download"
    FILE_DOWNLOAD_FAILED = "File Download Failed"
    FILE_UPLOAD = "File Upload"
    FILE_UPLOAD_FAILED = "File Upload Failed"
    FILES_SHARED = "Files Shared"
    LEGAL_AGREEMENT_RESPONSE = "Legal Agreement Response"
    PINNED_SESSION_MOVED_AWAY_FROM_QUEUE = "Pinned Session Moved away from Queue"
    PINNED_SESSION_MOVED_TO_QUEUE = "Pinned Session Moved to Queue"
    PINNED_SESSION_PASSWORD_MODIFIED = "Pinned Session Password Modified"
    REPRESENTATIVE_EXIT_SURVEY = "Representative Exit Survey"
    SERVICE_ACCESS_ALLOWED = "Service Access Allowed"
    SESSION_ASSIGNED = "Session Assigned"
    SESSION_ASSIGNMENT_RESPONSE = "Session Assignment Response"
    SESSION_END = "Session End"
    SESSION_NOTE_ADDED = "Session Note Added"
    SESSION_PINNED_TO_QUEUE = "Session Pinned to Queue"
    SESSION_START = "Session Start"
    SESSION_TRANSFERRED_AWAY_FROM_QUEUE = "Session Transferred away from Queue"
    SESSION_TRANSFERRED_TO_QUEUE = "Session Transferred to Queue"
    SESSION_UNPINNED_FROM_QUEUE = "Session Unpinned from Queue"
    SYSTEM_INFORMATION_RETRIEVED = "System Information Retrieved"


class SessionKey(Base):
    """A seven-character key a customer types (or a URL they follow) to start a session."""

    __tablename__ = "session_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_key: Mapped[str] = mapped_column(String(7), index=True)
    # Set while the key can still be used; cleared when it is used or its code is recycled.
    active_short_key: Mapped[str | None] = mapped_column(String(7), unique=True, nullable=True)
    url_key: Mapped[str] = mapped_column(String(64), unique=True)
    session_type: Mapped[str] = mapped_column(String(16), default="support")
    queue_kind: Mapped[str] = mapped_column(String(16))
    queue_ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    external_key: Mapped[str] = mapped_column(String(1024), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url_hostname: Mapped[str] = mapped_column(String(255))
    public_site_id: Mapped[int | None] = mapped_column(ForeignKey("public_sites.id"), nullable=True)
    ttl: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_by_api_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_accounts.id", ondelete="SET NULL"), nullable=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    support_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_sessions.id", ondelete="SET NULL"), nullable=True
    )


class SupportSession(Base):
    """One support session; `id` is its lseq, `lsid` its 32-hex identifier."""

    __tablename__ = "support_sessions"
    __table_args__ = (
        Index("ix_support_sessions_start_time", "start_time"),
        Index("ix_support_sessions_end_time", "end_time"),
        Index("ix_support_sessions_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lsid: Mapped[str] = mapped_column(String(32), unique=True)
    session_type: Mapped[str] = mapped_column(String(16), default="support")
    status: Mapped[str] = mapped_column(String(16))  # a SessionStatus; changed only by move_to
    queue_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    queue_ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    public_site_id: Mapped[int] = mapped_column(ForeignKey("public_sites.id"))
    jumpoint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jumpoint_name: Mapped[str] = mapped_column(String(255), default="")
    # The Jump Client (or Jumpoint) a Jump session was started through: its pinned-session
    # events are logged in the live ones. No foreign key: the reports outlive the client.
    jump_client_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    external_key: Mapped[str] = mapped_column(String(1024), default="")
    start_method: Mapped[str] = mapped_column(String(32), default="")
    start_time: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_abnormally: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    owner_gsnumber: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    last_owner_gsnumber: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    primary_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    customer_name: Mapped[str] = mapped_column(String(100), default="")
    customer_company: Mapped[str] = mapped_column(String(100), default="")
    customer_company_code: Mapped[str] = mapped_column(String(100), default="")
    customer_issue: Mapped[str] = mapped_column(String(64), default="")
    customer_details: Mapped[str] = mapped_column(Text, default="")
    file_transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    session_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def state(self) -> SessionStatus:
        return SessionStatus(self.status)

    @property
    def ended(self) -> bool:
        return self.status == SessionStatus.ENDED

    def move_to(self, to: SessionStatus) -> None:
        """The one way a session's status changes; an impossible move is a SessionError."""
        problem = session_move_problem(self.state, to)
        if problem is not None:
            raise SessionError(problem)
        self.status = to.value


class SessionParticipant(Base):
    """A customer or representative connection that took part in a session (one row per gsnumber)."""

    __tablename__ = "session_participants"
    __table_args__ = (UniqueConstraint("session_id", "role", "gsnumber"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    gsnumber: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    username: Mapped[str] = mapped_column(String(100), default="")
    display_name: Mapped[str] = mapped_column(String(100), default="")
    display_number: Mapped[str] = mapped_column(String(32), default="")
    public_ip: Mapped[str] = mapped_column(String(64), default="")
    private_ip: Mapped[str] = mapped_column(String(64), default="")
    hostname: Mapped[str] = mapped_column(String(255), default="")
    os: Mapped[str] = mapped_column(String(255), default="")
    session_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    primary_cust: Mapped[bool] = mapped_column(Boolean, default=False)
    embassy: Mapped[bool] = mapped_column(Boolean, default=False)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    seconds_involved: Mapped[int] = mapped_column(Integer, default=0)


class SessionTeam(Base):
    """A team the session belonged to at some point (the report's team_list)."""

    __tablename__ = "session_teams"

    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SessionAttribute(Base):
    """A `session.custom.<code_name>` value other than the external key."""

    __tablename__ = "session_attributes"

    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), primary_key=True)
    code_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024))


class SessionEvent(Base):
    """One entry of a session's event log; reports are read from here."""

    __tablename__ = "session_events"
    __table_args__ = (
        Index("ix_session_events_session_id_id", "session_id", "id"),
        Index("ix_session_events_team_id", "team_id"),
        # A client's own id for what it sent, so a resend after a reconnect is not logged twice.
        UniqueConstraint("session_id", "client_ref"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    performed_by_type: Mapped[str] = mapped_column(String(16))
    performed_by_gsnumber: Mapped[int] = mapped_column(BigInteger, default=0)
    performed_by_name: Mapped[str] = mapped_column(String(255), default="")
    performed_by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destination_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    destination_gsnumber: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    destination_name: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str | None] = mapped_column(ExactText, nullable=True)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    filesize: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    data: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    system_information: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SessionFile(Base):
    """A file sent during a session, kept in the file store under its SHA-256."""

    __tablename__ = "session_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    sent_by_gsnumber: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
