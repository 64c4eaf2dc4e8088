"""Tables of Jump Groups, installers and installed Jump Clients and Jumpoints."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, UtcDateTime, utcnow


class JumpMode(enum.StrEnum):
    """A Jump Client reaches its own computer; a Jumpoint reaches others on its network."""

    JUMP_CLIENT = "jump_client"
    JUMPOINT = "jumpoint"


class JumpGroup(Base):
    """A shared list of Jump Clients; its members (users, teams) see and jump to them."""

    __tablename__ = "jump_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    comments: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JumpGroupMember(Base):
    """A user or a team (exactly one of them) in a Jump Group."""

    __tablename__ = "jump_group_members"
    __table_args__ = (UniqueConstraint("jump_group_id", "user_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jump_group_id: Mapped[int] = mapped_column(ForeignKey("jump_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), nullable=True, index=True)


class JumpInstaller(Base):
    """What `lifeline-client jump install --key KEY` redeems: where the new installation
    goes (a group, or a rep's personal list), what it is listed with, until when the key
    works. Only the key's SHA-256 is kept."""

    __tablename__ = "jump_installers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default=JumpMode.JUMP_CLIENT.value)
    jump_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("jump_groups.id", ondelete="CASCADE"), nullable=True, index=True
    )
    personal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    public_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_sites.id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")  # a Jumpoint's name; a Jump Client's is its hostname
    comments: Mapped[str] = mapped_column(String(1024), default="")
    tag: Mapped[str] = mapped_column(String(255), default="")
    consent_required: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    installs: Mapped[int] = mapped_column(Integer, default=0)


class JumpClient(Base):
    """One installation: its public key, where it is listed, and what it last said.

    Online is `connected_node` set (the appliance process holding its socket; cleared when
    the socket closes, and for every client of a node found dead). `revoked_at` set means
    removed: it is told to uninstall when it next connects, and is no longer listed."""

    __tablename__ = "jump_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default=JumpMode.JUMP_CLIENT.value)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)  # Ed25519, base64url raw
    installer_id: Mapped[int | None] = mapped_column(
        ForeignKey("jump_installers.id", ondelete="SET NULL"), nullable=True
    )
    jump_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("jump_groups.id", ondelete="CASCADE"), nullable=True, index=True
    )
    personal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    public_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_sites.id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    comments: Mapped[str] = mapped_column(String(1024), default="")
    tag: Mapped[str] = mapped_column(String(255), default="")
    consent_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the computer last said (its hello and statistics).
    hostname: Mapped[str] = mapped_column(String(255), default="", index=True)
    os: Mapped[str] = mapped_column(String(1024), default="")
    platform: Mapped[str] = mapped_column(String(16), default="")
    username: Mapped[str] = mapped_column(String(255), default="")
    private_ip: Mapped[str] = mapped_column(String(64), default="")
    public_ip: Mapped[str] = mapped_column(String(64), default="")
    timezone_offset: Mapped[int] = mapped_column(Integer, default=0)
    client_version: Mapped[str] = mapped_column(String(64), default="")
    console_user: Mapped[str] = mapped_column(String(255), default="")
    cpu: Mapped[float | None] = mapped_column(Float, nullable=True)
    disk: Mapped[float | None] = mapped_column(Float, nullable=True)
    uptime: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumbnail: Mapped[str] = mapped_column(Text, default="")
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    connected_node: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
