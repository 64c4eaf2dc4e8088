"""Change stamps: one counter per kind of cached data, bumped in the writing transaction.

Each process keeps what it derives from the database (rendered rep lists, verified
credentials, settings) tagged with the stamp it was built under, and rebuilds when
the stamp moves. Bumps made in this process are seen at once (through the outbox);
bumps from other processes are seen by polling one small table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lifeline.appliance.models import ChangeStamp
from lifeline.bus.wire import live_event
from lifeline.db.engine import on_commit

DIRECTORY = "directory"  # users, teams, issues, sites, API accounts, custom attributes
PRESENCE = "presence"  # who is logged in, and their session counts
SETTINGS = "settings"
RESTORED = "restored"  # the whole database was replaced by a restored backup

ALL = (DIRECTORY, PRESENCE, SETTINGS, RESTORED)


@live_event
@dataclass(frozen=True)
class StampBumped:
    """Live event: a stamp moved to `value` (so the poller need not notice it a second time)."""

    name: str
    value: int


def bump(session: Session, name: str) -> None:
    assert name in ALL, name
    value = session.execute(
        update(ChangeStamp)
        .where(ChangeStamp.name == name)
        .values(value=ChangeStamp.value + 1)
        .returning(ChangeStamp.value)
    ).scalar()
    if value is None:
        value = 1
        session.add(ChangeStamp(name=name, value=value))
        session.flush()
    on_commit(session, StampBumped(name, value))


def read_all(session: Session) -> dict[str, int]:
    rows = session.execute(select(ChangeStamp.name, ChangeStamp.value)).all()
    stamps = dict.fromkeys(ALL, 0)
    stamps.update(rows)
    return stamps


def ensure_rows(session: Session) -> None:
    existing = set(session.scalars(select(ChangeStamp.name)))
    for name in ALL:
        if name not in existing:
            session.add(ChangeStamp(name=name, value=0))
