"""Backups (`.nsb`): all of an appliance's configuration and logged data in one archive.

An archive is a ZIP file (or, with a password, that ZIP encrypted; see `crypto.py`) holding

- `manifest.json`: the backup format, the Lifeline version, the schema revision, the
  database kind it was made from, when, and what it holds;
- `tables/<table>.jsonl`: every row of every table, one JSON object per line, in an order
  that restores foreign keys before their users;
- `files/<sha256>`: files from the file store, only those under 200 KB and at most 50 of
  them (the most recent), as the Backup API promises. Recordings are never included; their
  rows are, so reports still list them (and say they have expired).

Left out: the appliance processes (`nodes`), live OAuth tokens (`api_tokens`), signed-in
browsers and waits after wrong passwords (`sign_ins`, `sign_in_waits`), cache
counters (`change_stamps`) and the appliance's own record of its backups (`backup_log`,
`backup_schedule`), none of which mean anything on another appliance.

Rows are read from one consistent snapshot: a copy made with SQLite's backup API, or a
REPEATABLE READ transaction on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, select

from lifeline import __version__
from lifeline.appliance.settings import APPLIANCE_ID
from lifeline.backup.crypto import EncryptingWriter
from lifeline.backup.schema import metadata
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.recordings.filestore import FileStore
from lifeline.sessions.models import SessionFile

FORMAT = "lifeline-backup"
FORMAT_VERSION = 1
MAX_FILE_SIZE = 200 * 1024
MAX_FILES = 50
# Not backed up: what belongs to running processes, the log of backups itself, and
# what the appliance derives again (frozen session details are rebuilt from the events).
LEFT_OUT = frozenset(
    {
        "nodes",
        "api_tokens",
        "sign_ins",
        "sign_in_waits",
        "change_stamps",
        "backup_log",
        "backup_schedule",
        "sealed_session_details",
    }
)
ROWS_PER_READ = 1000

# One backup at a time in a process (the Backup API, /login, the schedule): a second waits.
_one_at_a_time = threading.Lock()


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    lifeline_version: str
    schema_revision: str
    database: str  # sqlite or postgresql
    created_at: str  # ISO 8601
    appliance_id: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows
    files: list[str] = field(default_factory=list)  # SHA-256 of each file included
    encrypted: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def backed_up_tables() -> list[str]:
    return [table.name for table in metadata.sorted_tables if table.name not in LEFT_OUT]


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@contextlib.contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """A connection that sees the database as it was at one moment, throughout."""
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            yield conn
        return
    fd, copy_path = tempfile.mkstemp(suffix=".db", prefix="lifeline-backup-")
    os.close(fd)
    try:
        raw = db.engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            with sqlite3.connect(copy_path) as target:
                source.backup(target)
            target.close()
        finally:
            raw.close()
        copy = create_engine(f"sqlite:///{copy_path}")
        try:
            with copy.connect() as conn:
                yield conn
        finally:
            copy.dispose()
    finally:
        os.unlink(copy_path)


class _Stream:
    """A write-only view of a file, so ZIP writes it front to back (stdout, encryption)."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink

    def write(self, data: bytes) -> int:
        self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _files_to_keep(conn: Connection, files: FileStore) -> list[str]:
    """The most recent files under 200 KB still in the file store, at most 50."""
    chosen: list[str] = []
    rows = conn.execute(
        select(SessionFile.sha256)
        .where(SessionFile.size < MAX_FILE_SIZE)
        .order_by(SessionFile.created_at.desc(), SessionFile.id.desc())
    )
    for (sha256,) in rows:
        if sha256 not in chosen and files.exists(sha256):
            chosen.append(sha256)
            if len(chosen) == MAX_FILES:
                break
    return chosen


def write_backup(db: Database, files: FileStore, out: BinaryIO, *, password: str | None = None) -> Manifest:
    """Write a backup of the appliance to `out`; with a password it is encrypted."""
    encrypting = EncryptingWriter(out, password) if password else None
    sink = _Stream(encrypting or out)
    with _snapshot(db) as conn, zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        revision = MigrationContext.configure(conn).get_current_revision() or ""
        counts: dict[str, int] = {}
        for name in backed_up_tables():
            table = metadata.tables[name]
            rows = conn.execution_options(yield_per=ROWS_PER_READ).execute(
                select(table).order_by(*table.primary_key.columns)
            )
            count = 0
            with archive.open(f"tables/{name}.jsonl", "w", force_zip64=True) as entry:
                for row in rows:
                    line = {key: _encode(value) for key, value in row._mapping.items()}
                    entry.write(json.dumps(line, separators=(",", ":")).encode("utf-8") + b"\n")
                    count += 1
            counts[name] = count
        kept = _files_to_keep(conn, files)
        for sha256 in kept:
            archive.write(files.path_for(sha256), f"files/{sha256}")
        appliance_id = conn.execute(
            select(metadata.tables["settings"].c.value).where(metadata.tables["settings"].c.key == APPLIANCE_ID)
        ).scalar()
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            lifeline_version=__version__,
            schema_revision=revision,
            database="sqlite" if db.is_sqlite else "postgresql",
            created_at=utcnow().replace(microsecond=0).isoformat(),
            appliance_id=appliance_id or "",
            tables=counts,
            files=kept,
            encrypted=encrypting is not None,
        )
        archive.writestr("manifest.json", manifest.to_json())
    if encrypting is not None:
        encrypting.close()
    return manifest


def backup_to_file(db: Database, files: FileStore, path: Path, *, password: str | None = None) -> Manifest:
    """Write a backup to `path`, made private to its owner, replacing it only once complete;
    one at a time in this process. The folder must exist: a mistyped one is not made."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".backup-", suffix=".nsb")
    try:
        with os.fdopen(fd, "wb") as handle, _one_at_a_time:
            manifest = write_backup(db, files, handle, password=password)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return manifest


def backup_to_scratch(
    db: Database, files: FileStore, scratch: Path, *, password: str | None = None
) -> tuple[Path, Manifest]:
    """A backup in a private scratch file, for a download; the caller removes it once sent."""
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=scratch, prefix="backup-", suffix=".nsb")
    os.close(fd)
    path = Path(name)
    try:
        manifest = backup_to_file(db, files, path, password=password)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path, manifest


def download_name(hostname: str, moment: datetime) -> str:
    """What a downloaded backup is called: the appliance's public host name and the UTC day."""
    return f"{hostname}-{moment.astimezone(UTC):%Y-%m-%d}.nsb"
