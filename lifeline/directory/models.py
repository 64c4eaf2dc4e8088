"""Tables of the directory."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lifeline.db.base import Base, UtcDateTime, utcnow


class ViewReports(enum.StrEnum):
    """`perm_view_reports` levels, as the 1.7 guide names them."""

    NONE = "none"
    USER_SESSIONS = "user_sessions"
    TEAM_SESSIONS = "team_sessions"
    ALL_SESSIONS = "all_sessions"


class RepKind(enum.StrEnum):
    """The `type` get_logged_in_reps reports for a representative."""

    NORMAL = "Normal"
    EMBASSY = "Embassy"
    INVITED = "Invited"


class CommandAccess(enum.StrEnum):
    """An OAuth API account's `perm_command`."""

    FULL = "full"
    READ_ONLY = "read_only"
    DENY = "deny"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    private_display_name: Mapped[str] = mapped_column(String(100), default="")
    display_number: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(16), default=RepKind.NORMAL.value)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    perm_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_command_api: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_reporting_api: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_view_reports: Mapped[str] = mapped_column(String(16), default=ViewReports.NONE.value)
    perm_view_recordings: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_support: Mapped[bool] = mapped_column(Boolean, default=False)
    # May make Jump Client installers for the groups they are in and their personal list.
    perm_jump_deploy: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_show_on_rep_list: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_general_queue: Mapped[bool] = mapped_column(Boolean, default=True)
    password_never_expires: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # wrong passwords since the last sign-in
    # The end of the latest wait wrong passwords earned at some address (sign_in_waits); the
    # account itself never locks: other addresses, signed-in browsers and tokens are unaffected.
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    memberships: Mapped[list[TeamMember]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def public_display_name(self) -> str:
        return self.display_name

    @property
    def effective_private_display_name(self) -> str:
        return self.private_display_name or self.display_name


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code_name: Mapped[str] = mapped_column(String(64), unique=True)
    is_embassy: Mapped[bool] = mapped_column(Boolean, default=False)
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[TeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan")
    issues: Mapped[list[Issue]] = relationship(back_populates="team", cascade="all, delete-orphan", order_by="Issue.id")


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="member")

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class Issue(Base):
    """A support issue customers pick on the public site; it leads to its team's queue."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    code_name: Mapped[str] = mapped_column(String(64), unique=True)

    team: Mapped[Team] = relationship(back_populates="issues")


class PublicSite(Base):
    __tablename__ = "public_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    general_queue_open: Mapped[bool] = mapped_column(Boolean, default=True)
    show_rep_list: Mapped[bool] = mapped_column(Boolean, default=True)
    show_reps_in_issue_menu: Mapped[bool] = mapped_column(Boolean, default=False)
    show_issue_form: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    hostnames: Mapped[list[PublicSiteHostname]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="PublicSiteHostname.id"
    )


class PublicSiteHostname(Base):
    __tablename__ = "public_site_hostnames"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("public_sites.id", ondelete="CASCADE"))
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    site: Mapped[PublicSite] = relationship(back_populates="hostnames")


class ApiAccount(Base):
    """An OAuth client (later API versions): a client id and secret with its own permissions."""

    __tablename__ = "api_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    perm_command: Mapped[str] = mapped_column(String(16), default=CommandAccess.DENY.value)
    perm_reporting: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_backup: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiToken(Base):
    """A live bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("api_accounts.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomAttribute(Base):
    """A `session.custom.<code_name>` attribute an admin defined (external_key is built in)."""

    __tablename__ = "custom_attributes"
    __table_args__ = (UniqueConstraint("code_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_name: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))


class SignInWait(Base):
    """Wrong passwords for one sign-in name from one client address: beyond a few free ones,
    each makes the next attempt from there wait twice as long (`directory.logins`). Keyed by
    the name as typed (lower case), so names that do not exist are slowed the same way."""

    __tablename__ = "sign_in_waits"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    wait_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class SignIn(Base):
    """A browser signed in (the /login pages and the console): its cookie names it by a
    random nonce, stored as SHA-256. Signing out deletes it; a password change deletes the
    user's others."""

    __tablename__ = "sign_ins"

    nonce_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
