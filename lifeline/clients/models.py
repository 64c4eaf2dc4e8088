"""Tables of the Lifeline client: files on their way between the customer's computer and
the file store."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, UtcDateTime, utcnow


class Direction(enum.StrEnum):
    """The representative's words: a download comes from the customer's computer."""

    DOWNLOAD = "download"
    UPLOAD = "upload"


class TransferStatus(enum.StrEnum):
    MOVING = "moving"
    DONE = "done"
    FAILED = "failed"


class ClientTransfer(Base):
    """One file moving over `/client/transfers/<id>`. Its id is a random name (the client is
    told it), so knowing one transfer says nothing of another."""

    __tablename__ = "client_transfers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # a Direction
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.MOVING.value)
    rep_gsnumber: Mapped[int] = mapped_column(BigInteger, default=0)  # who asked
    name: Mapped[str] = mapped_column(String(255), default="")
    path: Mapped[str] = mapped_column(String(4096), default="")  # on the customer's computer
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes in all (0 until known, downloads)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes moved so far
    sha256: Mapped[str] = mapped_column(String(64), default="")  # uploads: the stored file sent
    file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the session file, once done
    error: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
