"""Restoring a backup: into a new, empty appliance (SQLite or PostgreSQL, whichever the
backup came from), or in place of all the data of an appliance that may be running.

The database is first built to the schema revision the backup was made at, the rows are
loaded in one transaction, then the schema is migrated to this version's head. What this
version cannot read it refuses, saying why, before touching anything: not a backup, a
wrong password, a newer backup format or schema, an unknown database kind, a damaged
archive, or (for a new appliance) an appliance that already has data.

In place of an appliance's data (`/login` and `lifeline restore --replace`) the backup
is first restored exactly so into a private scratch SQLite database (`stage_backup`):
every check, every migration, every row, before anything of the appliance is touched.
Then one transaction replaces every row of the appliance's with the staged ones
(`replace_data`) and moves every change stamp, so every appliance process reloads what
it caches and drops its consoles' and customers' sockets.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.settings import APPLIANCE_ID
from lifeline.backup.actions import log_backup
from lifeline.backup.archive import FORMAT, FORMAT_VERSION, LEFT_OUT, Manifest, backed_up_tables
from lifeline.backup.crypto import DecryptionError, decrypt, is_encrypted
from lifeline.backup.models import BackupKind
from lifeline.backup.schema import metadata
from lifeline.bootstrap import make_data_dir, make_database_file
from lifeline.config import Config
from lifeline.db import migrate
from lifeline.db.base import UtcDateTime, utcnow
from lifeline.db.engine import make_engine
from lifeline.recordings.filestore import FileStore
from lifeline.text import parse_json

ZIP_MAGIC = b"PK\x03\x04"
DATABASES = ("sqlite", "postgresql")
ROWS_PER_INSERT = 1000


class RestoreError(Exception):
    """Why a backup cannot be restored here; said to the person restoring."""


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    rows: int
    files: int


@contextlib.contextmanager
def _archive(source: Path, password: str | None, scratch: Path) -> Iterator[zipfile.ZipFile]:
    """The backup's ZIP, decrypted to a private scratch file first if need be."""
    try:
        with source.open("rb") as handle:
            head = handle.read(64)
    except OSError as error:
        raise RestoreError(f"Cannot read {source}: {error.strerror}") from None
    if is_encrypted(head):
        if not password:
            raise RestoreError("This backup is encrypted; give its password.")
        scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, plain = tempfile.mkstemp(dir=scratch, prefix=".restore-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as handle:
                decrypt(handle, password, out.write)
            with zipfile.ZipFile(plain) as archive:
                yield archive
        except DecryptionError as error:
            raise RestoreError(str(error)) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(plain)
        return
    if not head.startswith(ZIP_MAGIC):
        raise RestoreError("This is not a Lifeline backup (.nsb).")
    try:
        with zipfile.ZipFile(source) as archive:
            yield archive
    except zipfile.BadZipFile:
        raise RestoreError("The backup is damaged (not a readable archive).") from None


def read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        raw = parse_json(archive.read("manifest.json"))
    except (KeyError, ValueError):
        raise RestoreError("This is not a Lifeline backup (it has no manifest).") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise RestoreError("This is not a Lifeline backup.")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RestoreError(
            f"This backup was made by a newer Lifeline ({raw.get('lifeline_version')}, backup format {version}); "
            "upgrade Lifeline to restore it."
        )
    try:
        manifest = Manifest(**raw)
    except TypeError:
        raise RestoreError("The backup's manifest is damaged.") from None
    if manifest.database not in DATABASES:
        raise RestoreError(f"This backup comes from a database Lifeline cannot read ({manifest.database}).")
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    try:
        known = scripts.get_revision(manifest.schema_revision) is not None
    except Exception:  # alembic raises several kinds for an unknown revision
        known = False
    if not known:
        raise RestoreError(
            f"This backup was made by a newer Lifeline ({manifest.lifeline_version}, schema revision "
            f"{manifest.schema_revision!r}); upgrade Lifeline to restore it."
        )
    return manifest


def _make_fresh(engine: Engine) -> None:
    """Refuse an appliance with data; clear one that has only what a first start made."""
    tables = set(inspect(engine).get_table_names())
    if not tables:
        return
    if "alembic_version" not in tables or "support_sessions" not in tables:
        raise RestoreError("The database already holds tables that are not a Lifeline appliance's; use an empty one.")
    with engine.connect() as conn:
        sessions = conn.execute(text("SELECT COUNT(*) FROM support_sessions")).scalar_one()
        users = conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one()
        teams = conn.execute(text("SELECT COUNT(*) FROM teams")).scalar_one()
    if sessions or users > 1 or teams:
        raise RestoreError(
            f"The appliance already has data ({sessions} sessions, {users} users, {teams} teams); "
            "restore into a new, empty appliance, or replace its data with --replace (or /login's Backup page)."
        )
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)


def _decoder(column_type: Any) -> Callable[[Any], Any]:
    if isinstance(column_type, UtcDateTime):
        return lambda value: None if value is None else datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(column_type, DateTime):

        def naive_utc(value: Any) -> Any:
            if value is None:
                return None
            moment = datetime.fromisoformat(value)
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

        return naive_utc
    return lambda value: value


def _target(name: str, reflected: MetaData) -> Table:
    """The table to insert into: our model's (its types bind values as the app does) when
    it matches the restored schema, else the schema as it is."""
    table = reflected.tables.get(name)
    if table is None:
        raise RestoreError(f"The backup holds a table ({name}) its schema revision does not have.")
    model = metadata.tables.get(name)
    if model is not None and set(model.columns.keys()) == set(table.columns.keys()):
        return model
    return table


def _load_table(conn: Connection, archive: zipfile.ZipFile, table: Table) -> int:
    decoders = {column.name: _decoder(column.type) for column in table.columns}
    batch: list[dict[str, Any]] = []
    count = 0
    with archive.open(f"tables/{table.name}.jsonl") as lines:
        for raw in lines:
            row = parse_json(raw)
            unknown = set(row) - set(decoders)
            if unknown:
                raise RestoreError(
                    f"The backup's {table.name} rows have columns its schema does not: {sorted(unknown)}"
                )
            batch.append({key: decoders[key](value) for key, value in row.items()})
            if len(batch) == ROWS_PER_INSERT:
                conn.execute(insert(table), batch)
                count += len(batch)
                batch.clear()
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: the next generated IDs follow the restored ones."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].type.python_type is not int:
            continue
        column = keys[0]
        sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, column.name))).scalar()
        if sequence:
            highest = select(func.max(column)).scalar_subquery()
            conn.execute(select(func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None))))


def _close_connections(conn: Connection, at: datetime) -> None:
    """Nobody is connected to a restored appliance; sessions stay as they were."""
    connections = metadata.tables["client_connections"]
    conn.execute(update(connections).where(connections.c.disconnected_at.is_(None)).values(disconnected_at=at))


def _restore_files(archive: zipfile.ZipFile, manifest: Manifest, files: FileStore) -> int:
    for sha256 in manifest.files:
        stored = files.put_bytes(archive.read(f"files/{sha256}"))
        if stored.sha256 != sha256:
            raise RestoreError(f"The backup's file {sha256} is damaged.")
    return len(manifest.files)


@dataclass(frozen=True)
class OpenedBackup:
    archive: zipfile.ZipFile
    manifest: Manifest


@contextlib.contextmanager
def opened_backup(source: Path, password: str | None, scratch: Path) -> Iterator[OpenedBackup]:
    """The backup's archive and manifest, once every check that needs no database passed:
    a backup, the right password, a format, schema and database this version reads, complete."""
    with _archive(source, password, scratch) as archive:
        manifest = read_manifest(archive)
        names = set(archive.namelist())
        missing = [name for name in manifest.tables if f"tables/{name}.jsonl" not in names]
        missing += [sha for sha in manifest.files if f"files/{sha}" not in names]
        if missing:
            raise RestoreError(f"The backup is incomplete: {missing[0]} is missing.")
        yield OpenedBackup(archive, manifest)


def _load(engine: Engine, backup: OpenedBackup) -> int:
    """Into an empty database: the schema at the backup's revision, every row in one
    transaction, then the schema migrated to this version's head. Returns the rows loaded."""
    manifest = backup.manifest
    try:
        migrate.upgrade(engine, manifest.schema_revision)
        reflected = MetaData()
        reflected.reflect(engine)
        tables = [_target(name, reflected) for name in _in_dependency_order(manifest, reflected)]
        rows = 0
        with engine.begin() as conn:
            for table in tables:
                rows += _load_table(conn, backup.archive, table)
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn, tables)
            if "client_connections" in manifest.tables:
                _close_connections(conn, datetime.fromisoformat(manifest.created_at))
        migrate.upgrade(engine)
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise RestoreError(f"The database refused the backup's data: {reason}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        # A CRC or a line that does not read: the archive was damaged after it was written.
        raise RestoreError(f"The backup is damaged: {error}") from None
    return rows


def restore_backup(config: Config, source: Path, *, password: str | None = None) -> Restored:
    """Into a new, empty appliance (or one with only what a first start made)."""
    make_data_dir(config)  # before the scratch folder inside it, which would make it 0755
    with opened_backup(source, password, config.scratch_dir) as backup:
        make_database_file(config)
        engine = make_engine(config.effective_database_url)
        try:
            _make_fresh(engine)
            rows = _load(engine, backup)
        finally:
            engine.dispose()
        count = _restore_files(backup.archive, backup.manifest, FileStore(config.file_store_dir))
    return Restored(backup.manifest, rows, count)


# --- in place of a running appliance's data ------------------------------------------------

STAGE_PREFIX = "restore-"
STAGE_HOURS = 1
STAGED_DB = "staged.db"
STAGED_MANIFEST = "manifest.json"
STAGED_FILES = "files"
# Kept as they are when data is replaced: the running processes, cache counters, and this
# appliance's own record of its backups. Live OAuth tokens go (they were the old accounts').
KEPT = frozenset({"nodes", "change_stamps", "backup_log", "backup_schedule"})


@dataclass(frozen=True)
class Staged:
    """A backup restored into a scratch database of its own, waiting to replace the appliance's data."""

    folder: Path
    manifest: Manifest
    rows: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / STAGED_DB}"


def stage_backup(source: Path, password: str | None, folder: Path) -> Staged:
    """Every check and the whole load `restore_backup` makes, into a scratch SQLite database
    (and file store) in `folder`, which must not exist yet; nothing of the appliance is touched."""
    folder.mkdir(parents=True, mode=0o700)
    try:
        with opened_backup(source, password, folder) as backup:
            engine = make_engine(f"sqlite:///{folder / STAGED_DB}")
            try:
                rows = _load(engine, backup)
            finally:
                engine.dispose()
            _restore_files(backup.archive, backup.manifest, FileStore(folder / STAGED_FILES))
        (folder / STAGED_MANIFEST).write_text(backup.manifest.to_json() + "\n")
        (folder / "rows").write_text(str(rows))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Staged(folder, backup.manifest, rows)


def stage_folder(scratch: Path, token: str) -> Path:
    return scratch / f"{STAGE_PREFIX}{token}"


def forget_stale_stages(scratch: Path, *, hours: float = STAGE_HOURS) -> None:
    """Staged backups nobody confirmed (they hold the backup's data in clear) go after an hour."""
    cutoff = time.time() - hours * 3600
    for stage in scratch.glob(f"{STAGE_PREFIX}*"):
        with contextlib.suppress(OSError):
            if stage.is_dir() and stage.stat().st_mtime < cutoff:
                shutil.rmtree(stage, ignore_errors=True)


def staged(folder: Path) -> Staged | None:
    """A backup staged earlier, or None if there is none (any more) in `folder`."""
    try:
        manifest = Manifest(**json.loads((folder / STAGED_MANIFEST).read_text()))
        rows = int((folder / "rows").read_text())
    except (OSError, ValueError, TypeError):
        return None
    if not (folder / STAGED_DB).is_file():
        return None
    return Staged(folder, manifest, rows)


def copy_staged_files(backup: Staged, files: FileStore) -> int:
    """The backup's files into the appliance's file store (before its rows name them)."""
    source = FileStore(backup.folder / STAGED_FILES)
    for sha256 in backup.manifest.files:
        if not files.exists(sha256):
            files.put_bytes(source.path_for(sha256).read_bytes())
    return len(backup.manifest.files)


def replaced_tables() -> list[Table]:
    """What replacing the data wipes, in dependency order (rows are deleted in reverse)."""
    return [table for table in metadata.sorted_tables if table.name not in KEPT]


def replace_data(session: Session, backup: Staged, *, appliance_id: str, performed_by: str, file_name: str) -> int:
    """In the caller's transaction: every row of the appliance's data replaced by the staged
    backup's; the appliance keeps its own id (the bus between its processes is named after
    it). Every change stamp moves, so every process reloads its caches and drops its
    sockets (see `stamps.RESTORED`). Returns the rows written."""
    started = utcnow()
    conn = session.connection()
    tables = replaced_tables()
    if conn.dialect.name == "postgresql":
        # Writers wait for the replacement rather than slip rows in between its deletes.
        quote = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"LOCK TABLE {', '.join(quote(t.name) for t in tables)} IN EXCLUSIVE MODE"))
    for table in reversed(tables):
        conn.execute(delete(table))
    source = make_engine(backup.url)
    rows = 0
    try:
        with source.connect() as staged_conn:
            for table in tables:
                if table.name in LEFT_OUT:
                    continue
                result = staged_conn.execution_options(yield_per=ROWS_PER_INSERT).execute(
                    select(table).order_by(*table.primary_key.columns)
                )
                for part in result.partitions():
                    conn.execute(insert(table), [dict(row._mapping) for row in part])
                    rows += len(part)
    finally:
        source.dispose()
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, [t for t in tables if t.name in backed_up_tables()])
    settings = metadata.tables["settings"]
    conn.execute(update(settings).where(settings.c.key == APPLIANCE_ID).values(value=appliance_id))
    for name in stamps.ALL:
        stamps.bump(session, name)
    log_backup(
        session,
        BackupKind.RESTORE,
        performed_by,
        started_at=started,
        ok=True,
        detail=describe(backup.manifest),
        file_name=file_name,
        encrypted=backup.manifest.encrypted,
    )
    return rows


def _in_dependency_order(manifest: Manifest, reflected: MetaData) -> list[str]:
    wanted = set(manifest.tables)
    return [table.name for table in reflected.sorted_tables if table.name in wanted]


def describe(manifest: Manifest) -> str:
    sessions = manifest.tables.get("support_sessions", 0)
    users = manifest.tables.get("users", 0)
    return (
        f"a backup made {manifest.created_at} by Lifeline {manifest.lifeline_version} "
        f"(schema {manifest.schema_revision}, {manifest.database}"
        f"{', encrypted' if manifest.encrypted else ''}): {sessions} sessions, {users} users, "
        f"{len(manifest.files)} files"
    )
