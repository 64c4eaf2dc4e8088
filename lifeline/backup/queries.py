"""Reads of the backup bookkeeping, as the Backup and Status pages show it, and what a
restore summary counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.backup.actions import SCHEDULE_ROW
from lifeline.backup.archive import Manifest
from lifeline.backup.models import BackupKind, BackupLogEntry, BackupSchedule
from lifeline.directory.models import Team, User
from lifeline.sessions.models import SupportSession

MADE = (BackupKind.DOWNLOAD.value, BackupKind.API.value, BackupKind.SCHEDULED.value)


@dataclass(frozen=True)
class LoggedBackup:
    id: int
    kind: str
    performed_by: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    detail: str
    file_name: str
    size: int | None
    encrypted: bool


@dataclass(frozen=True)
class ScheduleState:
    next_run_at: datetime | None
    run_requested_at: datetime | None
    running_since: datetime | None


@dataclass(frozen=True)
class DataCounts:
    """What a restore summary compares: the backup's and the appliance's."""

    sessions: int
    users: int
    teams: int


def data_counts(session: Session) -> DataCounts:
    def count(model: type[SupportSession] | type[User] | type[Team]) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    return DataCounts(count(SupportSession), count(User), count(Team))


def counts_in(manifest: Manifest) -> DataCounts:
    tables = manifest.tables
    return DataCounts(tables.get("support_sessions", 0), tables.get("users", 0), tables.get("teams", 0))


def _record(entry: BackupLogEntry) -> LoggedBackup:
    return LoggedBackup(
        entry.id,
        entry.kind,
        entry.performed_by,
        entry.started_at,
        entry.finished_at,
        entry.ok,
        entry.detail,
        entry.file_name,
        entry.size,
        entry.encrypted,
    )


def recent_backups(session: Session, limit: int = 20) -> list[LoggedBackup]:
    entries = session.scalars(select(BackupLogEntry).order_by(BackupLogEntry.id.desc()).limit(limit))
    return [_record(entry) for entry in entries]


def last_backup(session: Session) -> LoggedBackup | None:
    """The last backup made successfully, whichever way."""
    entry = session.scalars(
        select(BackupLogEntry)
        .where(BackupLogEntry.kind.in_(MADE), BackupLogEntry.ok.is_(True))
        .order_by(BackupLogEntry.id.desc())
        .limit(1)
    ).first()
    return _record(entry) if entry is not None else None


def last_scheduled_run(session: Session) -> LoggedBackup | None:
    entry = session.scalars(
        select(BackupLogEntry)
        .where(BackupLogEntry.kind == BackupKind.SCHEDULED.value)
        .order_by(BackupLogEntry.id.desc())
        .limit(1)
    ).first()
    return _record(entry) if entry is not None else None


def schedule_state(session: Session) -> ScheduleState:
    row = session.get(BackupSchedule, SCHEDULE_ROW)
    if row is None:
        return ScheduleState(None, None, None)
    return ScheduleState(row.next_run_at, row.run_requested_at, row.running_since if row.running_node else None)
