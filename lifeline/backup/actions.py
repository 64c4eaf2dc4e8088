"""Every write of the backup bookkeeping: the log of backups made and restored, and the
scheduled backup's claims. A run of the schedule is claimed with a conditional update of
its one row (`version` as read), so of all the appliance processes sharing the database
exactly one writes each scheduled backup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.backup.models import BackupKind, BackupLogEntry, BackupSchedule
from lifeline.db.base import utcnow
from lifeline.presence.actions import NODE_GRACE

SCHEDULE_ROW = 1
SCHEDULED_BY = "schedule"


@dataclass(frozen=True)
class Plan:
    """What the settings ask of the schedule now: its key (schedule and time zone, so a
    change of either plans again) and its next run after a moment."""

    key: str
    next_after: Callable[[datetime], datetime]


@dataclass(frozen=True)
class Claim:
    """This process won a run of the scheduled backup."""

    requested_by: str  # who pressed "Run now", or "" for a run on time
    started_at: datetime


def log_backup(
    session: Session,
    kind: BackupKind,
    performed_by: str,
    *,
    started_at: datetime,
    ok: bool,
    detail: str = "",
    file_name: str = "",
    size: int | None = None,
    encrypted: bool = False,
) -> BackupLogEntry:
    entry = BackupLogEntry(
        kind=kind.value,
        performed_by=performed_by[:255],
        started_at=started_at,
        finished_at=utcnow(),
        ok=ok,
        detail=detail[:4000],
        file_name=file_name[:1024],
        size=size,
        encrypted=encrypted,
    )
    session.add(entry)
    session.flush()
    return entry


def schedule_row(session: Session) -> BackupSchedule:
    row = session.get(BackupSchedule, SCHEDULE_ROW)
    if row is None:  # made by the migration; only a hand-edited database lacks it
        row = BackupSchedule(id=SCHEDULE_ROW, version=0, planned_for="", requested_by="", running_node="")
        session.add(row)
        session.flush()
    return row


def _changed(session: Session, seen: int, **values: Any) -> bool:
    """Apply the change only if nobody changed the row since it was read at version `seen`."""
    result = session.execute(
        update(BackupSchedule)
        .where(BackupSchedule.id == SCHEDULE_ROW, BackupSchedule.version == seen)
        .values(version=seen + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def _someone_is_running(session: Session, row: BackupSchedule, node_id: str, now: datetime) -> bool:
    if not row.running_node or row.running_node == node_id:  # our own runs never overlap
        return False
    node = session.get(Node, row.running_node)
    return node is not None and node.last_seen >= now - NODE_GRACE  # a dead process's run is over


def _changes(
    session: Session, row: BackupSchedule, node_id: str, plan: Plan | None, now: datetime
) -> tuple[dict[str, Any], bool]:
    """What the row needs now (a new plan, a claim), and whether that claims a run."""
    if _someone_is_running(session, row, node_id, now):
        return {}, False
    key = plan.key if plan is not None else ""
    on_time = plan is not None and row.planned_for == key and row.next_run_at is not None and row.next_run_at <= now
    due = on_time or row.run_requested_at is not None
    values: dict[str, Any] = {}
    if row.planned_for != key or (plan is not None and row.next_run_at is None):
        values.update(planned_for=key, next_run_at=plan.next_after(now) if plan is not None else None)
    if due:
        values.update(
            running_node=node_id,
            running_since=now,
            run_requested_at=None,
            requested_by="",
            planned_for=key,
            next_run_at=plan.next_after(now) if plan is not None else None,
        )
    return values, due


def has_work(session: Session, node_id: str, plan: Plan | None, now: datetime | None = None) -> bool:
    """Whether `claim_run` would change anything: a read, so looking costs no write."""
    row = session.get(BackupSchedule, SCHEDULE_ROW)
    return row is None or bool(_changes(session, row, node_id, plan, now or utcnow())[0])


def claim_run(session: Session, node_id: str, plan: Plan | None, now: datetime | None = None) -> Claim | None:
    """Plan the next run when the schedule changed, and claim the run that is due (on time,
    or asked for with "Run now") for this process. None when nothing is due, another
    process is writing one, or another process claimed it first. `plan` None: no schedule."""
    now = now or utcnow()
    row = schedule_row(session)
    session.refresh(row)
    values, due = _changes(session, row, node_id, plan, now)
    requested_by = row.requested_by if row.run_requested_at is not None else ""
    if not values or not _changed(session, row.version, **values):
        return None
    return Claim(requested_by=requested_by, started_at=now) if due else None


def finish_run(session: Session, node_id: str) -> None:
    """The run this process claimed is over (its outcome is in the log)."""
    row = schedule_row(session)
    session.refresh(row)
    if row.running_node == node_id:
        _changed(session, row.version, running_node="", running_since=None)


def request_run(session: Session, requested_by: str) -> None:
    """ "Run now": the next process to look (within seconds) writes a scheduled backup; one
    already asked for and not started yet is not asked for twice."""
    for _ in range(3):
        row = schedule_row(session)
        session.refresh(row)
        if row.run_requested_at is not None:
            return
        if _changed(session, row.version, run_requested_at=utcnow(), requested_by=requested_by[:255]):
            return
    raise RuntimeError("the scheduled backup kept changing; try again")
