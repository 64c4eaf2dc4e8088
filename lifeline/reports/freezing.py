"""Freezing what can no longer change of ended sessions, for SupportSession.

Once a session has ended, its participants and customer details are frozen and its event
log only grows (an exit survey answered after the end), so the parts of its `<session>`
element written from them (`reports.frozen.FrozenParts`: primary customer and rep, the
customer and rep lists, `session_details`, with its teams, attributes and surveys) are
written once and kept, compressed, in `FrozenSessionDetails`. A report then reads one
value per session instead of its events and participants, and copies it out instead of
writing it again. A report uses a frozen copy only while it is current: its `format` is
the writer's and its `through_event_id` is still the session's last event (a session's
event ids are in commit order: `sessions.events.lock_session_log`). A missing or stale
frozen copy is therefore never wrong, only slower: the report reads the rows and writes
those parts itself.

Every appliance process runs the freezer, a background job (`Freezer.job`): every few
seconds it freezes the ended sessions with events newer than it last looked at (less a
margin, because on PostgreSQL ids of different sessions can commit out of order), and at
start, after a restore and every ten minutes it looks at every ended session. What a
frozen copy holds is written by the Reporting API (`api.reporting.session_xml.frozen_parts`),
which hands its writer to the freezer: the parts are its XML, which no domain package writes.

("Sealed" in the table's name and in older notes is this: frozen report parts.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, any_, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.jobs import Job, Reach
from lifeline.reports.frozen import FORMAT, FrozenParts, current_frozen
from lifeline.reports.models import FrozenSessionDetails
from lifeline.reports.records import SessionReport
from lifeline.reports.sessions import Part, sessions_by_id
from lifeline.reports.sql import among
from lifeline.sessions.actions import SessionStatus
from lifeline.sessions.models import SessionEvent, SupportSession

log = logging.getLogger("lifeline.reports")

BATCH = 200
ROUND_SECONDS = 2.0
FULL_SWEEP_SECONDS = 600.0
RECHECK_EVENTS = 1_000

# Writes what a frozen copy holds of an ended session (`api.reporting.session_xml.frozen_parts`).
WriteFrozen = Callable[[SessionReport], FrozenParts]


@dataclass(frozen=True)
class FrozenRow:
    session_id: int
    through_event_id: int
    xml: bytes


def freeze(session: SessionReport, write: WriteFrozen) -> FrozenRow:
    """An ended session's frozen copy, from its participants and all of its events."""
    return FrozenRow(session.id, session.events[-1].id, write(session).packed())


def freeze_stale(
    db: Session, write: WriteFrozen, since_event: int, after_session: int, limit: int = BATCH
) -> tuple[int, list[FrozenRow]]:
    """Frozen copies for the next ended sessions (by lseq, after `after_session`) that have no current
    frozen copy, among those with an event newer than `since_event` (0: among all); and the last
    lseq looked at (0: none left)."""
    s = SupportSession
    looked_at: Sequence[int] = ()
    if since_event:
        looked_at = db.scalars(ended_with_events_after(db, since_event, after_session, limit)).all()
        if not looked_at:
            return 0, []
        candidates = among(db.connection(), s.id, looked_at)
    else:
        candidates = and_(s.id > after_session, s.status == SessionStatus.ENDED.value)
    # Every candidate has ended: only whether its frozen copy is current is left to ask.
    ids = db.scalars(
        select(s.id)
        .outerjoin(FrozenSessionDetails, FrozenSessionDetails.session_id == s.id)
        .where(current_frozen(s.id).is_(None), candidates)
        .order_by(s.id)
        .limit(limit)
    ).all()
    last = looked_at[-1] if looked_at else ids[-1] if ids else 0
    if not last:
        return 0, []
    sessions = sessions_by_id(db, list(ids), Part.EVERYTHING) if ids else []
    return last, [freeze(session, write) for session in sessions if session.events]


def ended_with_events_after(db: Session, since_event: int, after_session: int, limit: int) -> Select[int]:
    """The next ended sessions (by lseq, after `after_session`) with an event newer than
    `since_event`. Asked every round while reps chat, when hundreds of live sessions have new
    events and next to none of them ended: the database keeps the live ones to itself, and
    both databases start from the new events (a range of the log's key) whatever the number
    of sessions. Without the two forms below, SQLite walks every ended session by the status
    index and PostgreSQL scans the sessions for a hash join."""
    s = SupportSession
    recent = select(SessionEvent.session_id).where(SessionEvent.id > since_event)
    if db.get_bind().dialect.name == "postgresql":
        touched, ended = s.id == any_(func.array(recent.scalar_subquery())), s.status == SessionStatus.ENDED.value
    else:
        # An expression of the status, not the column: no index for the planner to prefer.
        touched, ended = s.id.in_(recent), func.coalesce(s.status, "") == SessionStatus.ENDED.value
    return select(s.id).where(touched, ended, s.id > after_session).order_by(s.id).limit(limit)


def store_frozen(db: Session, copies: Sequence[FrozenRow]) -> None:
    if not copies:
        return
    statement = (sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert)(FrozenSessionDetails)
    statement = statement.on_conflict_do_update(
        index_elements=["session_id"],
        set_={name: statement.excluded[name] for name in ("through_event_id", "format", "xml")},
        # Another process may have frozen a later state of the log meanwhile: keep that one.
        where=statement.excluded.through_event_id >= FrozenSessionDetails.through_event_id,
    )
    db.execute(
        statement,
        [{"session_id": s.session_id, "through_event_id": s.through_event_id, "format": FORMAT, "xml": s.xml}
         for s in copies],
    )  # fmt: skip


_LAST_EVENT = select(func.max(SessionEvent.id))  # asked every round: built once


def last_event_id(db: Session) -> int:
    return db.connection().execute(_LAST_EVENT).scalar() or 0


class Freezer:
    """The background job that keeps ended sessions frozen."""

    def __init__(self, db: Database, write: WriteFrozen, restores: Callable[[], int] = lambda: 0) -> None:
        """`restores`: a count that moves when a restored backup replaces the data (whose
        events may all be older than the watermark), so the next round sweeps everything."""
        self.db = db
        self.write = write
        self.restores = restores
        self.watermark = 0  # the last event id the previous round saw
        self._next_full_sweep = 0.0
        self._restores_seen = restores()

    def job(self) -> Job:
        # Two processes freezing the same session store the same frozen copy (or keep the later one).
        # A failed round is retried at the next; reports stay right meanwhile, only slower.
        return Job("freezing ended sessions for reports", self.round, ROUND_SECONDS, Reach.SHARED, at_start=True)

    async def round(self) -> int:
        """Freeze what needs it; how many sessions were frozen."""
        restores = self.restores()
        full = time.monotonic() >= self._next_full_sweep or restores != self._restores_seen
        self._restores_seen = restores
        top = await self.db.read(last_event_id)
        since = 0 if full else max(0, self.watermark - RECHECK_EVENTS)
        frozen, after = 0, 0
        while True:
            after, copies = await self.db.read(freeze_stale, self.write, since, after)
            if not after:
                break
            await self.db.write(store_frozen, copies)
            frozen += len(copies)
        self.watermark = top
        if full:
            self._next_full_sweep = time.monotonic() + FULL_SWEEP_SECONDS
        if frozen:
            log.debug("froze the details of %d ended sessions", frozen)
        return frozen
