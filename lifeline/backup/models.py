"""Tables of the appliance's own backup bookkeeping: what was backed up or restored, by whom
(`backup_log`), and the scheduled backup's next run and who is writing it (`backup_schedule`).

Neither is part of a backup, and a restore keeps both: they describe this appliance's
backups, not the data a backup carries.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lifeline.db.base import Base, UtcDateTime, utcnow


class BackupKind(enum.StrEnum):
    DOWNLOAD = "download"  # "Download now" in /login
    API = "api"  # the Backup API
    SCHEDULED = "scheduled"  # the scheduled backup to a folder (on time, or "Run now")
    RESTORE = "restore"  # a backup restored into this appliance


class BackupLogEntry(Base):
    """One backup made or restored: who, when, what came of it."""

    __tablename__ = "backup_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    performed_by: Mapped[str] = mapped_column(String(255))  # a username, an API account, "schedule"
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")  # what it held, or why it failed
    file_name: Mapped[str] = mapped_column(String(1024), default="")
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)


class BackupSchedule(Base):
    """The scheduled backup's one row. Every change moves `version`, and every change is
    made only if `version` is still what the writer read: so among appliance processes
    sharing the database exactly one claims each run."""

    __tablename__ = "backup_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    planned_for: Mapped[str] = mapped_column(String(128), default="")  # the schedule next_run_at follows
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    run_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # "Run now"
    requested_by: Mapped[str] = mapped_column(String(255), default="")
    running_node: Mapped[str] = mapped_column(String(32), default="")  # the process writing one now
    running_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
