"""Every write to the directory. Each bumps the directory stamp so caches everywhere rebuild."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory.models import (
    ApiAccount,
    ApiToken,
    CommandAccess,
    CustomAttribute,
    Issue,
    PublicSite,
    PublicSiteHostname,
    RepKind,
    Team,
    TeamMember,
    User,
    ViewReports,
)
from lifeline.directory.passwords import (
    check_password_rules,
    hash_password,
    new_token,
    sha256_hex,
)
from lifeline.text import check_text


class DirectoryError(ValueError):
    """A directory change that cannot be made; the message says why, for the person asking."""


USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
CODE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)

MAX_LIVE_TOKENS = 30
_TOKEN_ALPHABET = string.ascii_letters + string.digits  # tokens are 40 alphanumerics, like the real thing


def _text(value: str, what: str, limit: int, *, allow_empty: bool = False) -> str:
    problem = check_text(value, limit, allow_empty=allow_empty)
    if problem:
        raise DirectoryError(f"{what} {problem}")
    return value


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")[:64] or "item"


# --- users -----------------------------------------------------------------------------


@dataclass
class UserChanges:
    """Fields to set on a user; None leaves a field as it is."""

    display_name: str | None = None
    private_display_name: str | None = None
    display_number: str | None = None
    email: str | None = None
    kind: RepKind | None = None
    enabled: bool | None = None
    perm_admin: bool | None = None
    perm_command_api: bool | None = None
    perm_reporting_api: bool | None = None
    perm_view_reports: ViewReports | None = None
    perm_view_recordings: bool | None = None
    perm_support: bool | None = None
    perm_show_on_rep_list: bool | None = None
    perm_general_queue: bool | None = None
    password_never_expires: bool | None = None


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def add_user(session: Session, username: str, password: str, changes: UserChanges | None = None) -> User:
    if not USERNAME_RE.match(username):
        raise DirectoryError(
            "a username is 1 to 64 letters, digits and . _ @ + - characters, starting with a letter or digit"
        )
    if find_user(session, username) is not None:
        raise DirectoryError(f"a user named {username!r} already exists")
    problem = check_password_rules(password)
    if problem:
        raise DirectoryError(problem)
    user = User(username=username, password_hash=hash_password(password), display_name=username)
    session.add(user)
    update_user(session, user, changes or UserChanges())
    session.flush()
    return user


def update_user(session: Session, user: User, changes: UserChanges) -> User:
    if changes.display_name is not None:
        user.display_name = _text(changes.display_name, "the display name", 100)
    if changes.private_display_name is not None:
        user.private_display_name = _text(
            changes.private_display_name, "the private display name", 100, allow_empty=True
        )
    if changes.display_number is not None:
        user.display_number = _text(changes.display_number, "the display number", 32, allow_empty=True)
    if changes.email is not None:
        user.email = _text(changes.email, "the email address", 255, allow_empty=True)
    for name in (
        "kind",
        "enabled",
        "perm_admin",
        "perm_command_api",
        "perm_reporting_api",
        "perm_view_reports",
        "perm_view_recordings",
        "perm_support",
        "perm_show_on_rep_list",
        "perm_general_queue",
        "password_never_expires",
    ):
        value = getattr(changes, name)
        if value is not None:
            setattr(user, name, value.value if isinstance(value, RepKind | ViewReports) else value)
    stamps.bump(session, stamps.DIRECTORY)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    problem = check_password_rules(password)
    if problem:
        raise DirectoryError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    stamps.bump(session, stamps.DIRECTORY)


# --- teams and issues ------------------------------------------------------------------


def add_team(session: Session, name: str, *, embassy: bool = False, code_name: str | None = None) -> Team:
    _text(name, "the team name", 100)
    if session.scalars(select(Team).where(func.lower(Team.name) == name.lower())).first():
        raise DirectoryError(f"a team named {name!r} already exists")
    code = _unique_code(session, Team, code_name or slug(name), explicit=code_name is not None)
    team = Team(name=name, code_name=code, is_embassy=embassy)
    session.add(team)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return team


def add_team_member(session: Session, team: Team, user: User, role: str = "member") -> None:
    if session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id, role=role))
        if team.is_embassy and user.kind == RepKind.NORMAL.value:
            user.kind = RepKind.EMBASSY.value
        session.flush()
        stamps.bump(session, stamps.DIRECTORY)


def remove_team_member(session: Session, team: Team, user: User) -> None:
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id))
    stamps.bump(session, stamps.DIRECTORY)


def add_issue(session: Session, team: Team, title: str, code_name: str | None = None) -> Issue:
    _text(title, "the issue title", 255)
    code = _unique_code(session, Issue, code_name or slug(title), explicit=code_name is not None)
    issue = Issue(team_id=team.id, title=title, code_name=code)
    session.add(issue)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return issue


def _unique_code(session: Session, model: type[Team] | type[Issue], wanted: str, *, explicit: bool) -> str:
    if not CODE_NAME_RE.match(wanted):
        raise DirectoryError("a code name is 1 to 64 lowercase letters, digits and underscores")
    taken = set(session.scalars(select(model.code_name).where(model.code_name.startswith(wanted))))
    if wanted not in taken:
        return wanted
    if explicit:
        raise DirectoryError(f"the code name {wanted!r} is already used")
    n = 2
    while f"{wanted}_{n}"[:64] in taken:
        n += 1
    return f"{wanted}_{n}"[:64]


# --- public sites ----------------------------------------------------------------------


def check_hostname(hostname: str) -> str:
    hostname = hostname.strip().lower().rstrip(".")
    if not HOSTNAME_RE.match(hostname):
        raise DirectoryError(f"{hostname!r} is not a valid hostname")
    return hostname


def add_site(session: Session, name: str, hostname: str) -> PublicSite:
    _text(name, "the site name", 100)
    hostname = check_hostname(hostname)
    if session.scalars(select(PublicSite).where(PublicSite.name == name)).first():
        raise DirectoryError(f"a public site named {name!r} already exists")
    _check_hostname_free(session, hostname)
    site = PublicSite(name=name)
    session.add(site)
    session.flush()
    session.add(PublicSiteHostname(site_id=site.id, hostname=hostname, is_primary=True))
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return site


def add_site_hostname(session: Session, site: PublicSite, hostname: str, *, primary: bool = False) -> None:
    hostname = check_hostname(hostname)
    _check_hostname_free(session, hostname)
    if primary:
        for other in site.hostnames:
            other.is_primary = False
    session.add(PublicSiteHostname(site_id=site.id, hostname=hostname, is_primary=primary))
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)


def set_primary_hostname(session: Session, site: PublicSite, hostname: str) -> None:
    """Make `hostname` the site's primary hostname, adding it if the site lacks it."""
    hostname = check_hostname(hostname)
    existing = session.scalars(select(PublicSiteHostname).where(PublicSiteHostname.hostname == hostname)).first()
    if existing is not None and existing.site_id != site.id:
        raise DirectoryError(f"{hostname} already belongs to another public site")
    for other in site.hostnames:
        other.is_primary = other.hostname == hostname
    if existing is None:
        session.add(PublicSiteHostname(site_id=site.id, hostname=hostname, is_primary=True))
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)


def _check_hostname_free(session: Session, hostname: str) -> None:
    if session.scalars(select(PublicSiteHostname).where(PublicSiteHostname.hostname == hostname)).first():
        raise DirectoryError(f"{hostname} already belongs to a public site")


# --- API accounts and tokens -----------------------------------------------------------


def add_api_account(
    session: Session,
    name: str,
    *,
    command: CommandAccess = CommandAccess.DENY,
    reporting: bool = False,
    backup: bool = False,
) -> tuple[ApiAccount, str]:
    """Create an OAuth API account; returns it with its secret, which is shown only now."""
    _text(name, "the API account name", 100)
    if session.scalars(select(ApiAccount).where(ApiAccount.name == name)).first():
        raise DirectoryError(f"an API account named {name!r} already exists")
    secret = new_token(32)
    account = ApiAccount(
        name=name,
        client_id=secrets.token_hex(20),
        secret_hash=hash_password(secret),
        perm_command=command.value,
        perm_reporting=reporting,
        perm_backup=backup,
    )
    session.add(account)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return account, secret


def new_api_secret(session: Session, account: ApiAccount) -> str:
    """Replace the account's secret; every token it holds stops working."""
    secret = new_token(32)
    account.secret_hash = hash_password(secret)
    session.execute(delete(ApiToken).where(ApiToken.account_id == account.id))
    stamps.bump(session, stamps.DIRECTORY)
    return secret


def issue_api_token(session: Session, account: ApiAccount, lifetime: int) -> str:
    """A new bearer token; past 30 live ones per account, the oldest are dropped."""
    now = utcnow()
    session.execute(delete(ApiToken).where(ApiToken.account_id == account.id, ApiToken.expires_at <= now))
    live = session.scalars(
        select(ApiToken.id).where(ApiToken.account_id == account.id).order_by(ApiToken.id.desc())
    ).all()
    dropped = live[MAX_LIVE_TOKENS - 1 :]
    if dropped:
        session.execute(delete(ApiToken).where(ApiToken.id.in_(dropped)))
        stamps.bump(session, stamps.DIRECTORY)
    token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(40))
    session.add(
        ApiToken(
            account_id=account.id,
            token_sha256=sha256_hex(token),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    return token


# --- custom session attributes ---------------------------------------------------------


def add_custom_attribute(session: Session, code_name: str, display_name: str) -> CustomAttribute:
    if not CODE_NAME_RE.match(code_name) or code_name == "external_key":
        raise DirectoryError(
            "a custom attribute code name is 1 to 64 lowercase letters, digits and underscores "
            "(and external_key is built in)"
        )
    _text(display_name, "the display name", 100)
    if session.scalars(select(CustomAttribute).where(CustomAttribute.code_name == code_name)).first():
        raise DirectoryError(f"a custom attribute {code_name!r} already exists")
    attribute = CustomAttribute(code_name=code_name, display_name=display_name)
    session.add(attribute)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return attribute
