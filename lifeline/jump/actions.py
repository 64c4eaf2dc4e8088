"""Every write about Jump Clients: Jump Groups, installers and their keys, installations,
their connections and statistics, removal. The only place that queues Jump live events."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from lifeline_protocol.computer import Computer
from lifeline_protocol.jump import Statistics, install_text, uninstall_text
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.db.base import utcnow
from lifeline.db.engine import on_commit
from lifeline.directory.models import PublicSite, PublicSiteHostname, Team, User
from lifeline.jump import keys
from lifeline.jump.live import JumpRevoked
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember, JumpInstaller, JumpMode
from lifeline.jump.sessions import unpinned

DEFAULT_VALID_SECONDS = 7 * 86400
MAX_VALID_SECONDS = 366 * 86400  # a year, leap years included
UNINSTALL_WINDOW_SECONDS = 300  # how far an uninstall's signed time may be from ours
BATCH_ROWS = 500  # rows per statement of a batch (SQLite's bound parameters stay few)


class Refusal(enum.Enum):
    """Why a Jump write was refused, for the adapter to answer in its own terms."""

    INVALID = "invalid"  # the request itself is wrong
    FORBIDDEN = "forbidden"  # not this key, this signature, this installation
    EXPIRED = "expired"  # the installer key's time is up


class JumpError(ValueError):
    def __init__(self, message: str, refusal: Refusal = Refusal.INVALID) -> None:
        super().__init__(message)
        self.refusal = refusal


def installer_key() -> str:
    """A new installer key. Never one that starts with "-": given as `--key KEY` on a command
    line, such a key would be read as an option and the install would fail."""
    while True:
        key = secrets.token_urlsafe(32)
        if not key.startswith("-"):
            return key


def key_sha256(installer_key: str) -> str:
    return hashlib.sha256(installer_key.encode()).hexdigest()


def _text(value: str, what: str, limit: int, *, allow_empty: bool = True) -> str:
    value = value.strip()
    if not value and not allow_empty:
        raise JumpError(f"{what} must not be empty")
    if len(value) > limit:
        raise JumpError(f"{what} is at most {limit} characters")
    return value


# --- Jump Groups -------------------------------------------------------------------------------


def find_group(session: Session, name: str) -> JumpGroup | None:
    return session.scalars(select(JumpGroup).where(func.lower(JumpGroup.name) == name.strip().lower())).first()


def add_group(
    session: Session, name: str, comments: str = "", members: Iterable[str] = (), teams: Iterable[str] = ()
) -> JumpGroup:
    name = _text(name, "a Jump Group's name", 255, allow_empty=False)
    if find_group(session, name) is not None:
        raise JumpError(f"a Jump Group named {name!r} already exists")
    group = JumpGroup(name=name, comments=_text(comments, "the comments", 1024))
    session.add(group)
    session.flush()
    set_members(session, group.id, members, teams)
    return group


def set_members(session: Session, group_id: int, members: Iterable[str], teams: Iterable[str]) -> None:
    """The group's members become exactly these users (by username) and teams (by name)."""
    if session.get(JumpGroup, group_id) is None:
        raise JumpError(f"there is no Jump Group {group_id}")
    user_ids = [_user(session, username).id for username in dict.fromkeys(members)]
    team_ids = [_team(session, team).id for team in dict.fromkeys(teams)]
    session.execute(delete(JumpGroupMember).where(JumpGroupMember.jump_group_id == group_id))
    session.add_all(JumpGroupMember(jump_group_id=group_id, user_id=user_id) for user_id in user_ids)
    session.add_all(JumpGroupMember(jump_group_id=group_id, team_id=team_id) for team_id in team_ids)
    session.flush()


def remove_group(session: Session, group_id: int) -> None:
    """The group and, with it, its Jump Clients: each is revoked first, so those online are
    told to uninstall (the rows then go with the group)."""
    group = session.get(JumpGroup, group_id)
    if group is None:
        raise JumpError(f"there is no Jump Group {group_id}")
    for client_id in session.scalars(select(JumpClient.id).where(JumpClient.jump_group_id == group_id)):
        on_commit(session, JumpRevoked(client_id))
    session.delete(group)
    session.flush()


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(func.lower(User.username) == username.strip().lower())).first()
    if user is None:
        raise JumpError(f"there is no user named {username!r}")
    return user


def _team(session: Session, name: str) -> Team:
    team = session.scalars(select(Team).where(func.lower(Team.name) == name.strip().lower())).first()
    if team is None:
        raise JumpError(f"there is no team named {name!r}")
    return team


# --- installers --------------------------------------------------------------------------------


def site_by_hostname(session: Session, hostname: str) -> PublicSite:
    site = session.scalars(
        select(PublicSite)
        .join(PublicSiteHostname, PublicSiteHostname.site_id == PublicSite.id)
        .where(func.lower(PublicSiteHostname.hostname) == hostname.strip().lower())
    ).first()
    if site is None:
        raise JumpError(f"no public site has the host name {hostname!r}")
    return site


def add_installer(
    session: Session,
    *,
    mode: str = JumpMode.JUMP_CLIENT.value,
    group_id: int | None = None,
    personal_user_id: int | None = None,
    public_site_id: int | None = None,
    name: str = "",
    comments: str = "",
    tag: str = "",
    valid_seconds: int = DEFAULT_VALID_SECONDS,
    consent_required: bool = True,
    created_by: int | None = None,
) -> tuple[JumpInstaller, str]:
    """A new installer and its key (returned once: only its SHA-256 is kept)."""
    if mode not in {m.value for m in JumpMode}:
        raise JumpError(f"an installer makes a jump_client or a jumpoint, not {mode!r}")
    if (group_id is None) == (personal_user_id is None):
        raise JumpError("an installer puts its Jump Clients in a Jump Group or in one user's personal list")
    if group_id is not None and session.get(JumpGroup, group_id) is None:
        raise JumpError(f"there is no Jump Group {group_id}")
    if personal_user_id is not None and session.get(User, personal_user_id) is None:
        raise JumpError(f"there is no user {personal_user_id}")
    if public_site_id is not None and session.get(PublicSite, public_site_id) is None:
        raise JumpError(f"there is no public site {public_site_id}")
    if not 60 <= valid_seconds <= MAX_VALID_SECONDS:
        raise JumpError(f"an installer is valid for 60 seconds to a year ({MAX_VALID_SECONDS} seconds)")
    name = _text(name, "the name", 255, allow_empty=mode != JumpMode.JUMPOINT.value)
    key = installer_key()
    installer = JumpInstaller(
        key_sha256=key_sha256(key),
        mode=mode,
        jump_group_id=group_id,
        personal_user_id=personal_user_id,
        public_site_id=public_site_id,
        name=name,
        comments=_text(comments, "the comments", 1024),
        tag=_text(tag, "the tag", 255),
        consent_required=consent_required,
        expires_at=utcnow() + timedelta(seconds=valid_seconds),
        created_by_user_id=created_by,
    )
    session.add(installer)
    session.flush()
    return installer, key


def install(
    session: Session,
    *,
    installer_key: str,
    public_key: str,
    signature: str,
    computer: Computer,
    origin: str,
    public_ip: str = "",
    name: str = "",
) -> JumpClient:
    """Redeem an installer key: a new installation with that public key, listed where the
    installer says (under `name` when the installing admin gave one). The signature proves the caller holds the key's private half."""
    installer = session.scalars(
        select(JumpInstaller).where(JumpInstaller.key_sha256 == key_sha256(installer_key))
    ).first()
    if installer is None:
        raise JumpError("This installer key is not known here.", Refusal.FORBIDDEN)
    if installer.expires_at <= utcnow():
        when = installer.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        raise JumpError(f"This installer key expired on {when}; ask your administrator for a new one.", Refusal.EXPIRED)
    if not keys.valid_public_key(public_key):
        raise JumpError("the public key must be an Ed25519 key: base64url of 32 bytes, no padding")
    if not keys.verify(public_key, signature, install_text(installer_key, public_key, origin)):
        raise JumpError("The signature does not match the public key.", Refusal.FORBIDDEN)
    if session.scalars(select(JumpClient.id).where(JumpClient.public_key == public_key)).first() is not None:
        raise JumpError("This key is already installed; make a new one for a new installation.")
    client = JumpClient(
        mode=installer.mode,
        public_key=public_key,
        installer_id=installer.id,
        jump_group_id=installer.jump_group_id,
        personal_user_id=installer.personal_user_id,
        public_site_id=installer.public_site_id,
        name=(name or (installer.name if installer.mode == JumpMode.JUMPOINT.value else "") or computer.hostname)[:255],
        comments=installer.comments,
        tag=installer.tag,
        consent_required=installer.consent_required,
    )
    _describe(client, computer, public_ip)
    session.add(client)
    installer.installs += 1
    session.flush()
    return client


def _describe(client: JumpClient, computer: Computer, public_ip: str) -> None:
    client.hostname = computer.hostname[:255]
    client.os = computer.os[:1024]
    client.platform = computer.platform
    client.username = computer.username[:255]
    client.private_ip = computer.private_ip[:64]
    client.timezone_offset = computer.timezone_offset
    client.client_version = computer.client_version[:64]
    if public_ip:
        client.public_ip = public_ip[:64]


# --- connections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """What the socket needs of an installation that connected."""

    id: int
    name: str
    mode: str
    platform: str
    client_version: str


def jump_client_key(session: Session, jump_client_id: int) -> tuple[str, bool] | None:
    """The installation's public key and whether it was removed; None when it is unknown."""
    row = session.execute(
        select(JumpClient.public_key, JumpClient.revoked_at).where(JumpClient.id == jump_client_id)
    ).first()
    return None if row is None else (row[0], row[1] is not None)


def connected(
    session: Session, jump_client_id: int, node_id: str, computer: Computer, public_ip: str
) -> Connected | None:
    """Its socket is now held by `node_id`; None when it is unknown or removed."""
    client = session.get(JumpClient, jump_client_id)
    if client is None or client.revoked_at is not None:
        return None
    _describe(client, computer, public_ip)
    if not client.name:
        client.name = client.hostname
    now = utcnow()
    client.connected_node = node_id
    client.connected_at = now
    client.last_seen_at = now
    return Connected(client.id, client.name, client.mode, client.platform, client.client_version)


def disconnected(session: Session, jump_client_id: int, node_id: str) -> None:
    """Its socket on `node_id` closed (a newer one on another node is left alone)."""
    session.execute(
        update(JumpClient)
        .where(JumpClient.id == jump_client_id, JumpClient.connected_node == node_id)
        .values(connected_node=None, last_seen_at=utcnow())
    )


def record_statistics_batch(
    session: Session, statistics: Mapping[int, Statistics], seen_at: datetime, seen: Iterable[int] = ()
) -> None:
    """The latest statistics of many Jump Clients and when they were last seen (those in
    `statistics` and those in `seen`), in the caller's one transaction: tens of thousands of
    clients make a few statements, not a commit each."""
    rows: list[dict[str, object]] = []
    for client_id, numbers in statistics.items():
        row: dict[str, object] = {"id": client_id, "last_seen_at": seen_at}
        if numbers.console_user is not None:
            row["console_user"] = numbers.console_user[:255]
        for name in ("cpu", "disk", "uptime", "thumbnail"):
            value = getattr(numbers, name)
            if value is not None:
                row[name] = value
        rows.append(row)
    for start in range(0, len(rows), BATCH_ROWS):
        session.execute(update(JumpClient), rows[start : start + BATCH_ROWS])
    others = sorted(set(seen) - set(statistics))
    for start in range(0, len(others), BATCH_ROWS):
        session.execute(
            update(JumpClient)
            .where(JumpClient.id.in_(others[start : start + BATCH_ROWS]))
            .values(last_seen_at=seen_at)
            .execution_options(synchronize_session=False)
        )


def held_by_node(session: Session, node_id: str, holding: Iterable[int]) -> tuple[set[int], set[int]]:
    """Of the Jump Clients whose sockets `node_id` holds (`holding`): those removed (revoked,
    or deleted with their group or by the purge), and those another node now holds. Those
    set offline meanwhile (this node was frozen long enough to be swept) are its own again.
    What a process checks now and then, for what no live event told it."""
    mine = set(session.scalars(select(JumpClient.id).where(JumpClient.connected_node == node_id)))
    others = sorted(set(holding) - mine)
    found: dict[int, tuple[str | None, bool]] = {}
    for start in range(0, len(others), BATCH_ROWS):
        rows = session.execute(
            select(JumpClient.id, JumpClient.connected_node, JumpClient.revoked_at).where(
                JumpClient.id.in_(others[start : start + BATCH_ROWS])
            )
        )
        found.update({row[0]: (row[1], row[2] is not None) for row in rows})
    revoked = set(
        session.scalars(
            select(JumpClient.id).where(JumpClient.connected_node == node_id, JumpClient.revoked_at.is_not(None))
        )
    )
    removed = revoked | {i for i in others if i not in found or found[i][1]}
    elsewhere = {i for i in others if i in found and not found[i][1] and found[i][0] is not None}
    unheld = sorted(i for i in others if i in found and not found[i][1] and found[i][0] is None)
    for start in range(0, len(unheld), BATCH_ROWS):
        session.execute(
            update(JumpClient)
            .where(JumpClient.id.in_(unheld[start : start + BATCH_ROWS]), JumpClient.connected_node.is_(None))
            .values(connected_node=node_id)
            .execution_options(synchronize_session=False)
        )
    return removed, elsewhere


def clear_nodes(session: Session, node_ids: Iterable[str]) -> int:
    """Jump Clients whose socket was held by a node now dead, or by no known node: offline."""
    dead = list(node_ids)
    gone = JumpClient.connected_node.not_in(select(Node.id))
    condition = gone if not dead else (JumpClient.connected_node.in_(dead) | gone)
    result = session.execute(
        update(JumpClient)
        .where(JumpClient.connected_node.is_not(None), condition)
        .values(connected_node=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- removal -----------------------------------------------------------------------------------


def revoke(session: Session, jump_client_id: int, by_user: int | None = None) -> bool:
    """Removed (in /login, a console, the CLI): no longer listed, told to uninstall now if
    online, else when it next connects. False when there is no such installation."""
    client = session.get(JumpClient, jump_client_id)
    if client is None:
        return False
    if client.revoked_at is None:
        unpinned(session, client.id, by_user)  # its live Jump sessions log it (jump.sessions)
        client.revoked_at = utcnow()
    on_commit(session, JumpRevoked(jump_client_id))
    return True


def uninstall(session: Session, *, jump_client_id: int, at: int, signature: str, origin: str, now: float) -> None:
    """The installation removed itself (`lifeline-client jump uninstall`): revoked, once its
    signature of this moment checks out."""
    if abs(now - at) > UNINSTALL_WINDOW_SECONDS:
        raise JumpError(
            f"the uninstall was signed at {at}, more than {UNINSTALL_WINDOW_SECONDS} seconds from the "
            "appliance's time; check the computer's clock",
            Refusal.FORBIDDEN,
        )
    key = jump_client_key(session, jump_client_id)
    if key is None or not keys.verify(key[0], signature, uninstall_text(jump_client_id, at, origin)):
        raise JumpError("This installation is not known here, or the signature does not match.", Refusal.FORBIDDEN)
    revoke(session, jump_client_id)


def purge_offline(session: Session, days: int, now: datetime | None = None) -> int:
    """Remove Jump Clients offline and not seen for `days` days (never connected: since they
    were installed), and those revoked as long ago. Returns how many."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    seen = func.coalesce(JumpClient.last_seen_at, JumpClient.installed_at)
    ids = list(
        session.scalars(
            select(JumpClient.id).where(
                ((JumpClient.connected_node.is_(None)) & (seen < cutoff))
                | (JumpClient.revoked_at.is_not(None) & (JumpClient.revoked_at < cutoff))
            )
        )
    )
    for start in range(0, len(ids), BATCH_ROWS):
        session.execute(
            delete(JumpClient)
            .where(JumpClient.id.in_(ids[start : start + BATCH_ROWS]))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
