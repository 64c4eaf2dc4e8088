"""Reads of Jump Clients: who may use which (the console's Jump list), and the connected
ones for the connected-client calls.

A representative may use a Jump Client (or Jumpoint) pinned to a Jump Group they are a
member of, as themselves or through one of their teams, or pinned to their own personal
list. Removed (revoked) ones are never listed. Searching, sorting and paging happen in the
database: an appliance lists tens of thousands of them.

Online Jump Clients are read from `jump_clients` (its `connected_node` is set while a
process holds the socket), not from a `client_connections` row each: 20,000 installations
connecting after an outage would otherwise be 20,000 more inserts, and the row would say
nothing the installation's own row does not (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifeline_protocol import console as wire
from lifeline_protocol.jump import JumpItem, JumpList
from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from lifeline.directory.models import TeamMember, User
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember, JumpMode
from lifeline.presence.models import ClientKind
from lifeline.presence.queries import ConnectedClient

# The fields a search string is matched against: the spec's four (hostname, comments,
# public IP, private IP), and the name and tag the console shows beside them.
SEARCHED = ("hostname", "comments", "public_ip", "private_ip", "name", "tag")
# The exact-field searches of later Client Scripting API versions (`client.hostname=...`).
EXACT_FIELDS = ("hostname", "comments", "tag", "public_ip", "private_ip")
PERSONAL = "personal"
PERSONAL_LIST_NAME = "Personal list"


@dataclass(frozen=True)
class Criteria:
    """What to look for: `text` anywhere in the searched fields (a substring, any case), and
    each of `exact` equal to its field (any case)."""

    text: str = ""
    exact: Mapping[str, str] = field(default_factory=dict)


def criteria_from_text(text: str) -> Criteria:
    """The console's search box: `client.FIELD=value` asks for that field exactly, anything
    else is a substring of any searched field."""
    text = text.strip()
    if text.startswith("client.") and "=" in text:
        name, value = text[len("client.") :].split("=", 1)
        if name in EXACT_FIELDS:
            return Criteria(exact={name: value.strip()})
    return Criteria(text=text)


def criteria_from_script(search: Mapping[str, str]) -> Criteria:
    """A start_pinned_client_session command's search (`search_string`, `client.hostname`, ...)."""
    exact = {name[len("client.") :]: value for name, value in search.items() if name.startswith("client.") and value}
    return Criteria(text=search.get("search_string", "").strip(), exact=exact)


def group_ids_for(session: Session, user_id: int) -> Select[int]:
    """The ids of the Jump Groups this user is a member of, as a subquery."""
    teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    return select(JumpGroupMember.jump_group_id).where(
        or_(JumpGroupMember.user_id == user_id, JumpGroupMember.team_id.in_(teams))
    )


def groups_for(session: Session, user_id: int) -> list[JumpGroup]:
    """The Jump Groups this user may use, by name."""
    return list(
        session.scalars(
            select(JumpGroup).where(JumpGroup.id.in_(group_ids_for(session, user_id))).order_by(JumpGroup.name)
        )
    )


def _usable_by(session: Session, user_id: int) -> ColumnElement[bool]:
    return and_(
        JumpClient.revoked_at.is_(None),
        or_(JumpClient.personal_user_id == user_id, JumpClient.jump_group_id.in_(group_ids_for(session, user_id))),
    )


def may_use(session: Session, user_id: int, jump_client_id: int) -> JumpClient | None:
    """The Jump Client if this user may use it (see the module's rule), else None."""
    return session.scalars(
        select(JumpClient).where(JumpClient.id == jump_client_id, _usable_by(session, user_id))
    ).first()


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _searched_text() -> ColumnElement[str]:
    """The searched fields of a row as one text, a line each: one LIKE a row instead of six."""
    text: ColumnElement[str] = getattr(JumpClient, SEARCHED[0])
    for name in SEARCHED[1:]:
        text = text + literal("\n") + getattr(JumpClient, name)
    return text


def _matching(criteria: Criteria, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.text:
        # A search is one line: a line break in it could only match across two fields.
        wanted = " ".join(criteria.text.splitlines())
        # SQLite's LIKE ignores case already (ASCII, as its lower() does); PostgreSQL's
        # lower() knows every alphabet, and lower() LIKE is faster there than ILIKE.
        if dialect == "sqlite":
            conditions.append(_searched_text().like(_like(wanted), escape="\\"))
        else:
            conditions.append(func.lower(_searched_text()).like(_like(wanted.lower()), escape="\\"))
    for name, value in criteria.exact.items():
        if name not in EXACT_FIELDS:
            conditions.append(false())
            continue
        conditions.append(func.lower(getattr(JumpClient, name)) == value.lower())
    return conditions


def _group_filter(group: str, user_id: int) -> ColumnElement[bool] | None:
    if not group:
        return None
    if group == PERSONAL:
        return JumpClient.personal_user_id == user_id
    if group.startswith("group:") and group[6:].isdigit():
        return JumpClient.jump_group_id == int(group[6:])
    return false()  # a key this rep was never given: nothing matches it


@dataclass(frozen=True)
class ListRequest:
    """A Jump list page: the console's `jump_list` request, or a client script's search."""

    criteria: Criteria = field(default_factory=Criteria)
    group: str = ""
    online: bool | None = None
    mode: str | None = None
    sort: str = "name"
    descending: bool = False
    offset: int = 0
    limit: int = 100


def list_request(request: wire.JumpListRequest) -> ListRequest:
    return ListRequest(
        criteria=criteria_from_text(request.search),
        group=request.group,
        online=request.online,
        mode=request.mode,
        sort=request.sort,
        descending=request.descending,
        offset=request.offset,
        limit=request.limit,
    )


def search(session: Session, user_id: int, request: wire.JumpListRequest | ListRequest) -> JumpList:
    """One page of the Jump Clients and Jumpoints this user may use that match the request,
    with how many match in all and the groups the user may filter by."""
    wanted = list_request(request) if isinstance(request, wire.JumpListRequest) else request
    dialect = session.get_bind().dialect.name
    conditions = [_usable_by(session, user_id), *_matching(wanted.criteria, dialect)]
    by_group = _group_filter(wanted.group, user_id)
    if by_group is not None:
        conditions.append(by_group)
    if wanted.online is not None:
        conditions.append(
            JumpClient.connected_node.is_not(None) if wanted.online else JumpClient.connected_node.is_(None)
        )
    if wanted.mode is not None:
        conditions.append(JumpClient.mode == wanted.mode)
    owner = aliased(User)
    order = _sort_column(wanted.sort, owner)
    # One pass over narrow rows: the page's ids and, beside each, how many match in all;
    # then the page's rows themselves (a Jump Client's row is wide: its thumbnail).
    ids_query = select(JumpClient.id, func.count().over())
    if wanted.sort == "group":  # only that order needs the groups' and owners' names
        ids_query = ids_query.outerjoin(JumpGroup, JumpGroup.id == JumpClient.jump_group_id).outerjoin(
            owner, owner.id == JumpClient.personal_user_id
        )
    page = session.execute(
        ids_query.where(*conditions)
        .order_by(order.desc() if wanted.descending else order.asc(), JumpClient.id)
        .offset(wanted.offset)
        .limit(wanted.limit)
    ).all()
    if page:
        total = page[0][1]
    elif wanted.offset:  # past the last page: count them on their own
        total = session.scalar(select(func.count()).select_from(JumpClient).where(*conditions)) or 0
    else:
        total = 0
    ids = [row[0] for row in page]
    loaded = {
        client.id: (client, group_name, owner_name)
        for client, group_name, owner_name in session.execute(
            select(JumpClient, JumpGroup.name, owner.display_name)
            .outerjoin(JumpGroup, JumpGroup.id == JumpClient.jump_group_id)
            .outerjoin(owner, owner.id == JumpClient.personal_user_id)
            .where(JumpClient.id.in_(ids))
        )
    }
    rows = [loaded[i] for i in ids if i in loaded]
    items = [jump_item(client, group_name, owner_name) for client, group_name, owner_name in rows]
    groups = [{"key": PERSONAL, "name": PERSONAL_LIST_NAME}]
    groups += [{"key": f"group:{g.id}", "name": g.name} for g in groups_for(session, user_id)]
    return JumpList(items=items, total=total, groups=groups)


def _sort_column(sort: str, owner: Any) -> Any:
    if sort == "group":
        return func.coalesce(JumpGroup.name, owner.display_name, "")
    if sort == "last_seen":
        return JumpClient.last_seen_at
    if sort in ("hostname", "comments", "tag"):
        return func.lower(getattr(JumpClient, sort))
    return func.lower(JumpClient.name)


def jump_item(client: JumpClient, group_name: str | None, owner_name: str | None) -> JumpItem:
    """How the console lists one Jump Client."""
    if client.jump_group_id is not None:
        group, name = f"group:{client.jump_group_id}", group_name or ""
    else:
        group, name = f"personal:{client.personal_user_id or 0}", f"{PERSONAL_LIST_NAME} of {owner_name or 'nobody'}"
    return JumpItem(
        id=client.id,
        mode="jumpoint" if client.mode == "jumpoint" else "jump_client",
        name=client.name or client.hostname,
        hostname=client.hostname,
        comments=client.comments,
        tag=client.tag,
        group=group,
        group_name=name,
        online=client.connected_node is not None,
        last_seen=client.last_seen_at.timestamp() if client.last_seen_at else None,
        os=client.os,
        platform=client.platform,
        private_ip=client.private_ip,
        public_ip=client.public_ip,
        console_user=client.console_user,
        cpu=client.cpu,
        disk=client.disk,
        uptime=client.uptime,
        thumbnail=client.thumbnail,
        consent_required=client.consent_required,
        client_version=client.client_version,
    )


def pinned_to(session: Session, client: JumpClient) -> str:
    """The name of the queue a Jump Client is pinned to, as the pinned-session events say it:
    its Jump Group's name, or the personal list of its representative."""
    if client.jump_group_id is not None:
        group = session.get(JumpGroup, client.jump_group_id)
        return group.name if group else ""
    owner = session.get(User, client.personal_user_id) if client.personal_user_id else None
    return f"{PERSONAL_LIST_NAME} of {owner.display_name if owner else 'nobody'}"


def matching_items(session: Session, user_id: int, wanted: Mapping[str, str], *, limit: int = 50) -> JumpList:
    """The Jump Clients (not Jumpoints) a client script's start_pinned_client_session finds."""
    return search(session, user_id, ListRequest(criteria=criteria_from_script(wanted), mode="jump_client", limit=limit))


def online_jumpoints(session: Session, user_id: int, *, limit: int = 100) -> Sequence[JumpItem]:
    """The Jumpoints this user may use that are online now (push_and_start_local offers them)."""
    return search(session, user_id, ListRequest(mode="jumpoint", online=True, limit=limit)).items


# --- connected Jump Clients (the Command API's connected-client calls) ---------------------------

# The connected-client calls' names: a Jump Client is a pinned client, a Jumpoint a push agent.
KIND_OF_MODE = {
    JumpMode.JUMP_CLIENT.value: ClientKind.PINNED_CLIENT.value,
    JumpMode.JUMPOINT.value: ClientKind.PUSH_AGENT.value,
}
MODE_OF_KIND = {kind: mode for mode, kind in KIND_OF_MODE.items()}
# Their id in those calls: above every connection's gsnumber, so that an id given back
# without a type names one client only.
CONNECTED_ID_BASE = 10**11  # ids are at most 12 digits (api.command.params)


def _online() -> tuple[ColumnElement[bool], ...]:
    return (JumpClient.connected_node.is_not(None), JumpClient.revoked_at.is_(None))


def is_online(session: Session, jump_client_id: int) -> bool:
    """Whether a process holds the socket of this Jump Client (not removed); a JumpCommand
    published for it then reaches it."""
    found = session.scalars(select(JumpClient.id).where(JumpClient.id == jump_client_id, *_online())).first()
    return found is not None


def online_counts(session: Session) -> dict[str, int]:
    """How many Jump Clients (pinned_client) and Jumpoints (push_agent) are connected."""
    counts = dict.fromkeys(KIND_OF_MODE.values(), 0)
    rows = session.execute(select(JumpClient.mode, func.count()).where(*_online()).group_by(JumpClient.mode))
    for mode, count in rows:
        counts[KIND_OF_MODE.get(mode, ClientKind.PINNED_CLIENT.value)] += count
    return counts


def connected_jump_clients(
    session: Session, kinds: tuple[str, ...], ids: tuple[int, ...] | None = None
) -> list[ConnectedClient]:
    """Connected Jump Clients and Jumpoints of these kinds, as the connected-client calls list
    them (their id is CONNECTED_ID_BASE + the installation's)."""
    modes = [MODE_OF_KIND[kind] for kind in kinds if kind in MODE_OF_KIND]
    if not modes:
        return []
    # Columns, not ORM objects: the list call may read 20,000 of them.
    query = select(
        JumpClient.id,
        JumpClient.mode,
        JumpClient.connected_node,
        JumpClient.hostname,
        JumpClient.platform,
        JumpClient.os,
        JumpClient.public_ip,
        JumpClient.private_ip,
        JumpClient.timezone_offset,
        func.coalesce(JumpClient.connected_at, JumpClient.installed_at),
    ).where(*_online(), JumpClient.mode.in_(modes))
    if ids is not None:
        query = query.where(JumpClient.id.in_([i - CONNECTED_ID_BASE for i in ids if i > CONNECTED_ID_BASE]))
    return [
        ConnectedClient(
            gsnumber=CONNECTED_ID_BASE + row[0],
            kind=KIND_OF_MODE.get(row[1], ClientKind.PINNED_CLIENT.value),
            node_id=row[2] or "",
            user_id=None,
            session_id=None,
            hostname=row[3],
            platform=row[4],
            os=row[5],
            public_ip=row[6],
            private_ip=row[7],
            timezone_offset=row[8],
            connected_since=row[9],
        )
        for row in session.execute(query.order_by(JumpClient.id))
    ]
