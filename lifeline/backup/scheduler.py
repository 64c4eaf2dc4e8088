"""The scheduled backup, a background job of every appliance process (`lifeline.jobs`):
every few seconds (or at once after "Run now") it claims the run that is due — only one process wins it —
writes `<hostname>-<date>.nsb` into the folder, removes the oldest beyond the number to
keep, and logs the outcome, which the Backup page shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lifeline.appliance.schedule import Schedule, ScheduleError, check_folder
from lifeline.appliance.secrets import UnreadableSecret
from lifeline.appliance.settings import read_secret
from lifeline.backup.actions import SCHEDULED_BY, Claim, Plan, claim_run, finish_run, has_work, log_backup
from lifeline.backup.archive import backup_to_file
from lifeline.backup.folder import free_name, prune
from lifeline.backup.models import BackupKind
from lifeline.backup.restore import describe, forget_stale_stages
from lifeline.db.engine import Database
from lifeline.jobs import Job, Reach
from lifeline.recordings.filestore import FileStore

log = logging.getLogger("lifeline.backup")

CHECK_SECONDS = 5.0
PASSWORD = "backup_schedule_password"


def plan_of(settings: dict[str, Any]) -> Plan | None:
    """The schedule the settings ask for, or None when the scheduled backup is off."""
    if not settings["backup_schedule_enabled"]:
        return None
    schedule: Schedule = settings["backup_schedule"]
    zone = ZoneInfo(settings["timezone"])
    return Plan(f"{schedule} {settings['timezone']}", lambda moment: schedule.next_after(moment, zone))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str
    file_name: str = ""
    size: int | None = None
    encrypted: bool = False


class BackupScheduler:
    def __init__(
        self,
        db: Database,
        files: FileStore,
        node_id: str,
        settings: Callable[[], Awaitable[dict[str, Any]]],
        hostname: Callable[[], Awaitable[str]],
        scratch: Path | None = None,
    ) -> None:
        """`scratch`: the data directory's scratch folder, kept clear of stale staged restores."""
        self.db = db
        self.scratch = scratch
        self.files = files
        self.node_id = node_id
        self._settings = settings
        self._hostname = hostname
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now rather than at the next tick (after "Run now")."""
        self._wake.set()

    def job(self) -> Job:
        return Job(
            "scheduled backup",
            self.round,
            CHECK_SECONDS,
            Reach.CLAIMED,
            claim="the run that is due, claimed in the database by one process (backup.actions.claim_run)",
            wake=self._wake,
        )

    async def round(self) -> None:
        await self.tick()
        if self.scratch is not None:
            await asyncio.to_thread(forget_stale_stages, self.scratch)

    async def tick(self) -> Outcome | None:
        """Claim and write the backup that is due, if any; what came of it."""
        settings = await self._settings()
        plan = plan_of(settings)
        if not await self.db.read(has_work, self.node_id, plan):
            return None
        claim = await self.db.write(claim_run, self.node_id, plan)
        if claim is None:
            return None
        try:
            hostname = await self._hostname()
            outcome = await asyncio.to_thread(self._write, settings, hostname, claim)
            await self.db.write(
                log_backup,
                BackupKind.SCHEDULED,
                claim.requested_by or SCHEDULED_BY,
                started_at=claim.started_at,
                ok=outcome.ok,
                detail=outcome.detail,
                file_name=outcome.file_name,
                size=outcome.size,
                encrypted=outcome.encrypted,
            )
        finally:
            await self.db.write(finish_run, self.node_id)
        return outcome

    def _write(self, settings: dict[str, Any], hostname: str, claim: Claim) -> Outcome:
        """In a worker thread: the backup into the folder, then pruning."""
        try:
            raw_folder = settings["backup_schedule_folder"]
            if not raw_folder:
                raise ScheduleError("no folder is set for the scheduled backup")
            folder = Path(check_folder(raw_folder))
            password = self.db.call(read_secret, PASSWORD)
            path = free_name(folder, hostname, claim.started_at)
            manifest = backup_to_file(self.db, self.files, path, password=password)
            removed = prune(folder, hostname, settings["backup_schedule_keep"])
        except (ScheduleError, UnreadableSecret) as problem:
            return self._failed(str(problem))
        except OSError as error:
            return self._failed(f"{error.strerror or error} ({error.filename or raw_folder})")
        except Exception:
            log.exception("the scheduled backup failed")
            return self._failed("an internal error (see the appliance's log)")
        detail = describe(manifest)
        if removed:
            detail += f"; removed {len(removed)} older: {', '.join(p.name for p in removed)}"
        log.info("scheduled backup written to %s: %s", path, detail)
        return Outcome(True, detail, str(path), path.stat().st_size, manifest.encrypted)

    @staticmethod
    def _failed(reason: str) -> Outcome:
        reason = reason[:1].upper() + reason[1:]
        log.warning("the scheduled backup failed: %s", reason)
        return Outcome(False, reason)
