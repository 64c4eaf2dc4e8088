"""Jump Groups and Jump Clients written straight into the appliance's database, for the
console's tests of the Jump list before (and besides) real Jump Clients connecting."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.db.base import utcnow
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember
from tests.support.appliance import RunningAppliance


def add_group(appliance: RunningAppliance, name: str, *, users: Sequence[int] = (), teams: Sequence[int] = ()) -> int:
    def add(session: Session) -> int:
        group = JumpGroup(name=name)
        session.add(group)
        session.flush()
        session.add_all([JumpGroupMember(jump_group_id=group.id, user_id=user) for user in users])
        session.add_all([JumpGroupMember(jump_group_id=group.id, team_id=team) for team in teams])
        return group.id

    return appliance.call(add)


def add_client(
    appliance: RunningAppliance,
    hostname: str,
    *,
    group: int | None = None,
    personal: int | None = None,
    online: bool = True,
    node: str | None = None,
    mode: str = "jump_client",
    last_seen: datetime | None = None,
    revoked: bool = False,
    **fields: object,
) -> int:
    """A Jump Client; `fields` are any other JumpClient columns. Online, it is held by `node`,
    by default the appliance's own process, which has no socket for it (a Jump to it goes
    unanswered), but keeps it online: a node no process is would be swept offline."""

    def add(session: Session) -> int:
        held_by = node or session.scalars(select(Node.id).order_by(Node.last_seen.desc())).first()
        client = JumpClient(
            public_key=secrets.token_urlsafe(32),
            mode=mode,
            jump_group_id=group,
            personal_user_id=personal,
            hostname=hostname,
            connected_node=held_by if online else None,
            last_seen_at=last_seen or utcnow(),
            revoked_at=utcnow() if revoked else None,
            **fields,
        )
        session.add(client)
        session.flush()
        return client.id

    return appliance.call(add)
