"""Taking a backup to hand to whoever asked (the Backup API, /login's "Download now"):
made in the scratch folder, named like the appliance's backups, and logged either way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from lifeline.backup.actions import log_backup
from lifeline.backup.archive import backup_to_scratch, download_name
from lifeline.backup.models import BackupKind
from lifeline.backup.restore import describe
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory.queries import DirectorySnapshot
from lifeline.recordings.filestore import FileStore

# The same for both doors: the longest password a backup may be encrypted with, and what a
# backup is served as (not XML or JSON: clients must not parse it).
MAX_PASSWORD = 1024
CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class TakenBackup:
    path: Path  # in the scratch folder: remove it once sent
    name: str  # HOSTNAME-YYYY-MM-DD.nsb
    encrypted: bool


async def take_backup(
    db: Database,
    files: FileStore,
    scratch: Path,
    directory: DirectorySnapshot,
    *,
    kind: BackupKind,
    taken_by: str,
    password: str | None,
) -> TakenBackup:
    """A failure is logged and raised again: the adapter decides what its caller sees."""
    started = utcnow()
    try:
        path, manifest = await asyncio.to_thread(backup_to_scratch, db, files, scratch, password=password)
    except Exception as error:
        await db.write(log_backup, kind, taken_by, started_at=started, ok=False, detail=str(error)[:500])
        raise
    name = download_name(directory.default_site.primary_hostname, started)
    await db.write(
        log_backup,
        kind,
        taken_by,
        started_at=started,
        ok=True,
        detail=describe(manifest),
        file_name=name,
        size=path.stat().st_size,
        encrypted=manifest.encrypted,
    )
    return TakenBackup(path, name, manifest.encrypted)
