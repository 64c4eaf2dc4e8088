"""Restoring a backup into a new, empty appliance (SQLite or PostgreSQL, whichever the
backup came from).

The database is first built to the schema revision the backup was made at, the rows are
loaded in one transaction, then the schema is migrated to this version's head. What this
version cannot read it refuses, saying why, before touching anything: not a backup, a
wrong password, a newer backup format or schema, an unknown database kind, or an
appliance that already has data.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, func, insert, inspect, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from lifeline.backup.archive import FORMAT, FORMAT_VERSION, Manifest
from lifeline.backup.crypto import DecryptionError, decrypt, is_encrypted
from lifeline.config import Config
from lifeline.db import migrate
from lifeline.db.base import UtcDateTime
from lifeline.db.engine import make_engine
from lifeline.db.models import Base
from lifeline.recordings.filestore import FileStore

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
        raw = json.loads(archive.read("manifest.json"))
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
            "restore into a new, empty appliance."
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
    model = Base.metadata.tables.get(name)
    if model is not None and set(model.columns.keys()) == set(table.columns.keys()):
        return model
    return table


def _load_table(conn: Connection, archive: zipfile.ZipFile, table: Table) -> int:
    decoders = {column.name: _decoder(column.type) for column in table.columns}
    batch: list[dict[str, Any]] = []
    count = 0
    with archive.open(f"tables/{table.name}.jsonl") as lines:
        for raw in lines:
            row = json.loads(raw)
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
    connections = Base.metadata.tables["client_connections"]
    conn.execute(update(connections).where(connections.c.disconnected_at.is_(None)).values(disconnected_at=at))


def _restore_files(archive: zipfile.ZipFile, manifest: Manifest, files: FileStore) -> int:
    for sha256 in manifest.files:
        stored = files.put_bytes(archive.read(f"files/{sha256}"))
        if stored.sha256 != sha256:
            raise RestoreError(f"The backup's file {sha256} is damaged.")
    return len(manifest.files)


def restore_backup(config: Config, source: Path, *, password: str | None = None) -> Restored:
    with _archive(source, password, config.data_dir / "tmp") as archive:
        manifest = read_manifest(archive)
        missing = [name for name in manifest.tables if f"tables/{name}.jsonl" not in archive.namelist()]
        missing += [sha for sha in manifest.files if f"files/{sha}" not in archive.namelist()]
        if missing:
            raise RestoreError(f"The backup is incomplete: {missing[0]} is missing.")
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(config.effective_database_url)
        try:
            _make_fresh(engine)
            migrate.upgrade(engine, manifest.schema_revision)
            reflected = MetaData()
            reflected.reflect(engine)
            tables = [_target(name, reflected) for name in _in_dependency_order(manifest, reflected)]
            rows = 0
            with engine.begin() as conn:
                for table in tables:
                    rows += _load_table(conn, archive, table)
                if engine.dialect.name == "postgresql":
                    _reset_sequences(conn, tables)
                if "client_connections" in manifest.tables:
                    _close_connections(conn, datetime.fromisoformat(manifest.created_at))
            migrate.upgrade(engine)
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error
            raise RestoreError(f"The database refused the backup's data: {reason}") from None
        finally:
            engine.dispose()
        count = _restore_files(archive, manifest, FileStore(config.file_store_dir))
    return Restored(manifest, rows, count)


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
