"""Reads of the directory, returning typed records the adapters can cache and render."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, selectinload

from lifeline.db.base import utcnow
from lifeline.directory.models import (
    ApiAccount,
    ApiToken,
    CommandAccess,
    CustomAttribute,
    PublicSite,
    SignIn,
    Team,
    TeamMember,
    User,
    ViewReports,
)
from lifeline.directory.passwords import verify_password


@dataclass(frozen=True)
class Principal:
    """Who is calling an API, and what they may do: a user (username and password)
    or an OAuth API account (bearer token)."""

    kind: str  # "user" or "api_account"
    id: int
    name: str
    command: CommandAccess
    reporting: bool
    backup: bool
    admin: bool
    support: bool
    view_reports: ViewReports
    view_recordings: bool

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None


def principal_for_user(user: User) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        command=CommandAccess.FULL if user.perm_command_api else CommandAccess.DENY,
        reporting=user.perm_reporting_api,
        backup=user.perm_admin,
        admin=user.perm_admin,
        support=user.perm_support,
        view_reports=ViewReports(user.perm_view_reports),
        view_recordings=user.perm_view_recordings,
    )


def principal_for_account(account: ApiAccount) -> Principal:
    return Principal(
        kind="api_account",
        id=account.id,
        name=account.name,
        command=CommandAccess(account.perm_command),
        reporting=account.perm_reporting,
        backup=account.perm_backup,
        admin=False,
        support=False,
        # An API account with reporting access reads every session, recordings included.
        view_reports=ViewReports.ALL_SESSIONS if account.perm_reporting else ViewReports.NONE,
        view_recordings=account.perm_reporting,
    )


# What keeps a console's sign-in in force: not signed out nor ended by a new password, not
# run out, of an enabled user who may still give support.
_IN_FORCE = (SignIn.expires_at > bindparam("now"), User.enabled.is_(True), User.perm_support.is_(True))

# Run before each action of a console and by the hub's sweep, on the one writer every chat
# line waits for: built once and run on the connection, it costs a seventh of the same
# query built and run through the ORM each time (35 against 250 microseconds).
_SIGN_INS_IN_FORCE = (
    select(SignIn.nonce_sha256)
    .join(User, User.id == SignIn.user_id)
    .where(SignIn.nonce_sha256.in_(bindparam("sign_ins", expanding=True)), *_IN_FORCE)
)

# The same test as a column of a bigger query (a rep's chat line asks it with its sender,
# one statement for both); binds `sign_in` and `now`.
SIGN_IN_IN_FORCE = (
    exists()
    .where(SignIn.nonce_sha256 == bindparam("sign_in"), User.id == SignIn.user_id, *_IN_FORCE)
    .label("signed_in")
)


def console_sign_ins_in_force(session: Session, sign_in_ids: Iterable[str]) -> set[str]:
    """Of these sign-ins, those that may still work the console: not signed out nor ended by
    a new password, not run out, of an enabled user who may still give support."""
    wanted = list(set(sign_in_ids))
    if not wanted:
        return set()
    rows = session.connection().execute(_SIGN_INS_IN_FORCE, {"sign_ins": wanted, "now": utcnow()})
    return set(rows.scalars())


def console_sign_in_in_force(session: Session, sign_in_id: str) -> bool:
    return bool(console_sign_ins_in_force(session, [sign_in_id]))


def verify_api_client(session: Session, client_id: str, secret: str) -> ApiAccount | None:
    account = session.scalars(select(ApiAccount).where(ApiAccount.client_id == client_id)).first()
    ok = verify_password(account.secret_hash if account else None, secret)
    if account is None or not ok or not account.enabled:
        return None
    return account


def principal_for_token(session: Session, token_sha256: str) -> tuple[Principal, datetime] | None:
    row = session.execute(
        select(ApiAccount, ApiToken.expires_at)
        .join(ApiToken, ApiToken.account_id == ApiAccount.id)
        .where(ApiToken.token_sha256 == token_sha256)
    ).first()
    if row is None:
        return None
    account, expires_at = row
    if not account.enabled or expires_at <= utcnow():
        return None
    return principal_for_account(account), expires_at


# --- the directory as the APIs show it ----------------------------------------------------


@dataclass(frozen=True)
class IssueRecord:
    id: int
    title: str
    code_name: str


@dataclass(frozen=True)
class MemberRecord:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class TeamRecord:
    id: int
    name: str
    code_name: str
    is_embassy: bool
    issues: tuple[IssueRecord, ...]
    members: tuple[MemberRecord, ...]


@dataclass(frozen=True)
class SiteRecord:
    id: int
    name: str
    hostnames: tuple[str, ...]  # primary first
    general_queue_open: bool
    show_rep_list: bool
    show_reps_in_issue_menu: bool

    @property
    def primary_hostname(self) -> str:
        return self.hostnames[0]


@dataclass(frozen=True)
class DirectorySnapshot:
    teams: tuple[TeamRecord, ...]
    sites: tuple[SiteRecord, ...]
    custom_attributes: dict[str, str]  # code name -> display name

    @property
    def default_site(self) -> SiteRecord:
        return next(site for site in self.sites if site.id == 1) if self.sites else _NO_SITE

    def site_for_hostname(self, hostname: str) -> SiteRecord | None:
        hostname = hostname.lower().rstrip(".")
        return next((site for site in self.sites if hostname in site.hostnames), None)


_NO_SITE = SiteRecord(1, "Default", ("localhost",), True, True, False)


def load_directory(session: Session) -> DirectorySnapshot:
    teams = session.scalars(
        select(Team).options(selectinload(Team.issues), selectinload(Team.members)).order_by(Team.id)
    ).all()
    users = {
        user.id: user
        for user in session.scalars(select(User).join(TeamMember, TeamMember.user_id == User.id).distinct())
    }
    team_records = tuple(
        TeamRecord(
            id=team.id,
            name=team.name,
            code_name=team.code_name,
            is_embassy=team.is_embassy,
            issues=tuple(IssueRecord(i.id, i.title, i.code_name) for i in team.issues),
            members=tuple(
                MemberRecord(u.id, u.username, u.display_name)
                for u in sorted((users[m.user_id] for m in team.members), key=lambda u: u.id)
            ),
        )
        for team in teams
    )
    sites = session.scalars(
        select(PublicSite).options(selectinload(PublicSite.hostnames)).order_by(PublicSite.id)
    ).all()
    site_records = tuple(
        SiteRecord(
            id=site.id,
            name=site.name,
            hostnames=tuple(h.hostname for h in sorted(site.hostnames, key=lambda h: (not h.is_primary, h.id))),
            general_queue_open=site.general_queue_open,
            show_rep_list=site.show_rep_list,
            show_reps_in_issue_menu=site.show_reps_in_issue_menu,
        )
        for site in sites
        if site.hostnames
    )
    attributes = dict(
        session.execute(
            select(CustomAttribute.code_name, CustomAttribute.display_name).order_by(CustomAttribute.id)
        ).all()
    )
    return DirectorySnapshot(team_records, site_records, attributes)
