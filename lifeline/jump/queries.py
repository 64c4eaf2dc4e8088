"""Reads of Jump Clients for the connected-client calls.

Online Jump Clients are read from `jump_clients` (its `connected_node` is set while a
process holds the socket), not from a `client_connections` row each: 20,000 installations
connecting after an outage would otherwise be 20,000 more inserts, and the row would say
nothing the installation's own row does not (docs/decisions.md)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lifeline.jump.models import JumpClient, JumpMode
from lifeline.presence.models import ClientKind
from lifeline.presence.queries import ConnectedClient

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
