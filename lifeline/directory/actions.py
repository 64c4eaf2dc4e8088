"""Every write to the directory. Each bumps the directory stamp so caches everywhere rebuild,
except the counts of wrong passwords, which no cache holds."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.bus.wire import live_event
from lifeline.db.base import utcnow
from lifeline.db.engine import on_commit
from lifeline.directory.models import (
    ApiAccount,
    ApiToken,
    CommandAccess,
    CustomAttribute,
    Issue,
    PublicSite,
    PublicSiteHostname,
    RepKind,
    SignIn,
    SignInWait,
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
    perm_jump_deploy: bool | None = None
    password_never_expires: bool | None = None
    must_change_password: bool | None = None


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def add_user(session: Session, username: str, password: str, changes: UserChanges | None = None) -> User:
    if not USERNAME_RE.match(username):
        raise DirectoryError(
            "a username is 1 to 64 letters, digits and . _ @ + - characters, starting with a letter or digit"
        )
    if find_user(session, username) is not None:
        raise DirectoryError(f"a user named {username!r} already exists")
    problem = check_password_rules(password, username)
    if problem:
        raise DirectoryError(problem)
    user = User(username=username, password_hash=hash_password(password), display_name=username)
    session.add(user)
    update_user(session, user, changes or UserChanges())
    session.flush()
    return user


def update_user(session: Session, user: User, changes: UserChanges) -> User:
    was_admin = user.id is not None and user.perm_admin and user.enabled
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
        "perm_jump_deploy",
        "password_never_expires",
        "must_change_password",
    ):
        value = getattr(changes, name)
        if value is not None:
            setattr(user, name, value.value if isinstance(value, RepKind | ViewReports) else value)
    if changes.enabled is False and user.id is not None:
        end_sign_ins(session, user.id)  # enabling the account again brings none back
    if was_admin and not (user.perm_admin and user.enabled):
        others = session.scalar(
            select(func.count(User.id)).where(User.id != user.id, User.perm_admin.is_(True), User.enabled.is_(True))
        )
        if not others:
            raise DirectoryError("the appliance needs at least one enabled administrator")
    stamps.bump(session, stamps.DIRECTORY)
    return user


def set_password(session: Session, user: User, password: str, *, must_change: bool = False) -> None:
    """A new password; every signed-in browser of the user signs out (one changing its own
    password signs in afresh). `must_change`: an admin set it, and the user must choose
    their own at their next sign-in."""
    problem = check_password_rules(password, user.username)
    if problem:
        raise DirectoryError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    if user.id is not None:
        end_sign_ins(session, user.id)
    stamps.bump(session, stamps.DIRECTORY)


# --- signed-in browsers ------------------------------------------------------------------


@live_event
@dataclass(frozen=True)
class SignInsEnded:
    """Live event: sign-ins of this user ended (signed out, or a new password); open consoles
    on every node check theirs."""

    user_id: int


def start_sign_in(session: Session, user_id: int, nonce_sha256: str, lifetime: timedelta) -> None:
    now = utcnow()
    session.execute(delete(SignIn).where(SignIn.expires_at <= now))  # those that ran out, anyone's
    session.add(SignIn(nonce_sha256=nonce_sha256, user_id=user_id, created_at=now, expires_at=now + lifetime))


def end_sign_in(session: Session, nonce_sha256: str) -> None:
    """Signing out: this browser's sign-in ends on the server, whatever its cookie says later."""
    user_id = session.scalar(delete(SignIn).where(SignIn.nonce_sha256 == nonce_sha256).returning(SignIn.user_id))
    if user_id is not None:
        on_commit(session, SignInsEnded(user_id))


def end_sign_ins(session: Session, user_id: int) -> None:
    """Every sign-in of the user ends (a new password, or the account disabled)."""
    session.execute(delete(SignIn).where(SignIn.user_id == user_id))
    on_commit(session, SignInsEnded(user_id))


_SIGN_IN_ROW_TRIES = 5


def begin_sign_in_attempt(
    session: Session, account: str, address: str, free_attempts: int, longest_wait: timedelta
) -> datetime | None:
    """Before a password is checked: when this name must still wait at this address, that
    time (and nothing is checked). Otherwise the attempt is counted as a wrong password up
    front, so attempts sent at once cannot all slip in before the first failure is written;
    beyond `free_attempts`, each one makes the next wait twice as long, up to `longest_wait`."""
    now = utcnow()
    insert = (sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert)(SignInWait)
    # On PostgreSQL a right password's forget_sign_in_failures, committed between the insert
    # (which found the row and did nothing) and the select, leaves nothing to select: insert
    # again. (Several sign-ins with one password at once, as an integration's first calls.)
    for _ in range(_SIGN_IN_ROW_TRIES):
        added = session.execute(
            insert.values(account=account, address=address, failures=0, last_attempt_at=now).on_conflict_do_nothing()
        )
        if added.rowcount:  # type: ignore[attr-defined]
            # A day without a wrong password from an address forgets its count.
            session.execute(delete(SignInWait).where(SignInWait.last_attempt_at < now - timedelta(days=1)))
        wait = session.scalars(
            select(SignInWait).where(SignInWait.account == account, SignInWait.address == address).with_for_update()
        ).first()
        if wait is not None:
            break
    else:
        raise DirectoryError("sign-ins at this address are changing too fast to count; try again")
    if wait.wait_until is not None and wait.wait_until > now:
        return wait.wait_until
    wait.failures += 1
    wait.last_attempt_at = now
    beyond = wait.failures - free_attempts
    values: dict[str, Any] = {"failed_logins": User.failed_logins + 1}
    if beyond > 0:
        wait.wait_until = now + min(timedelta(seconds=2 ** min(beyond - 1, 20)), longest_wait)
        values["locked_until"] = wait.wait_until
    session.execute(update(User).where(func.lower(User.username) == account).values(**values))
    return None


def forget_sign_in_failures(session: Session, account: str, address: str) -> None:
    """A right password from `address`: its count and wait end (other addresses keep theirs)."""
    session.execute(delete(SignInWait).where(SignInWait.account == account, SignInWait.address == address))
    latest = session.scalar(select(func.max(SignInWait.wait_until)).where(SignInWait.account == account))
    session.execute(
        update(User).where(func.lower(User.username) == account).values(failed_logins=0, locked_until=latest)
    )


def unlock_user(session: Session, user: User) -> None:
    """An admin ends every wait wrong passwords earned for this account, at every address."""
    session.execute(delete(SignInWait).where(SignInWait.account == user.username.lower()))
    user.locked_until = None
    user.failed_logins = 0


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
    session.expire(team, ["members"])
    if team.is_embassy:
        _refresh_embassy_kind(session, user)
    stamps.bump(session, stamps.DIRECTORY)


def update_team(session: Session, team: Team, *, name: str | None = None, embassy: bool | None = None) -> Team:
    if name is not None and name != team.name:
        _text(name, "the team name", 100)
        clash = session.scalars(select(Team).where(func.lower(Team.name) == name.lower(), Team.id != team.id)).first()
        if clash is not None:
            raise DirectoryError(f"a team named {name!r} already exists")
        team.name = name
    if embassy is not None and embassy != team.is_embassy:
        team.is_embassy = embassy
        session.flush()
        for member in team.members:
            _refresh_embassy_kind(session, member.user)
    stamps.bump(session, stamps.DIRECTORY)
    return team


def _refresh_embassy_kind(session: Session, user: User) -> None:
    """Members of an Embassy are Embassy representatives; Invited ones stay Invited."""
    if user.kind == RepKind.INVITED.value:
        return
    in_embassy = session.scalars(
        select(Team.id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user.id, Team.is_embassy.is_(True))
    ).first()
    user.kind = (RepKind.EMBASSY if in_embassy is not None else RepKind.NORMAL).value


def add_issue(session: Session, team: Team, title: str, code_name: str | None = None) -> Issue:
    _text(title, "the issue title", 255)
    code = _unique_code(session, Issue, code_name or slug(title), explicit=code_name is not None)
    issue = Issue(team_id=team.id, title=title, code_name=code)
    session.add(issue)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
    return issue


def update_issue(session: Session, issue: Issue, *, title: str | None = None, code_name: str | None = None) -> Issue:
    if title is not None:
        issue.title = _text(title, "the issue title", 255)
    if code_name is not None and code_name != issue.code_name:
        issue.code_name = _unique_code(session, Issue, code_name, explicit=True)
    stamps.bump(session, stamps.DIRECTORY)
    return issue


def remove_issue(session: Session, issue: Issue) -> None:
    """Customers no longer see it; sessions started with it keep their issue in the reports."""
    session.delete(issue)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)


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


@dataclass
class SiteChanges:
    """Fields to set on a public site; None leaves a field as it is."""

    name: str | None = None
    general_queue_open: bool | None = None
    show_rep_list: bool | None = None
    show_reps_in_issue_menu: bool | None = None


def update_site(session: Session, site: PublicSite, changes: SiteChanges) -> PublicSite:
    if changes.name is not None and changes.name != site.name:
        _text(changes.name, "the site name", 100)
        if session.scalars(select(PublicSite).where(PublicSite.name == changes.name)).first():
            raise DirectoryError(f"a public site named {changes.name!r} already exists")
        site.name = changes.name
    for name in ("general_queue_open", "show_rep_list", "show_reps_in_issue_menu"):
        value = getattr(changes, name)
        if value is not None:
            setattr(site, name, value)
    stamps.bump(session, stamps.DIRECTORY)
    return site


def remove_site_hostname(session: Session, site: PublicSite, hostname: str) -> None:
    """A site keeps at least one hostname; when the primary goes, the next one becomes primary."""
    row = next((h for h in site.hostnames if h.hostname == hostname), None)
    if row is None:
        raise DirectoryError(f"{hostname} is not a hostname of this site")
    if len(site.hostnames) == 1:
        raise DirectoryError("a public site needs at least one hostname")
    site.hostnames.remove(row)
    if row.is_primary:
        site.hostnames[0].is_primary = True
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


def update_api_account(
    session: Session,
    account: ApiAccount,
    *,
    command: CommandAccess | None = None,
    reporting: bool | None = None,
    backup: bool | None = None,
    enabled: bool | None = None,
) -> ApiAccount:
    """Change what an API account may do; tokens it holds follow at once (they are checked
    against the account on every call)."""
    if command is not None:
        account.perm_command = command.value
    if reporting is not None:
        account.perm_reporting = reporting
    if backup is not None:
        account.perm_backup = backup
    if enabled is not None:
        account.enabled = enabled
    stamps.bump(session, stamps.DIRECTORY)
    return account


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


def update_custom_attribute(session: Session, attribute: CustomAttribute, display_name: str) -> CustomAttribute:
    attribute.display_name = _text(display_name, "the display name", 100)
    stamps.bump(session, stamps.DIRECTORY)
    return attribute


def remove_custom_attribute(session: Session, attribute: CustomAttribute) -> None:
    """The APIs stop accepting it; values sessions already have stay in their reports."""
    session.delete(attribute)
    session.flush()
    stamps.bump(session, stamps.DIRECTORY)
