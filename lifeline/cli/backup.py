"""`lifeline backup` and `lifeline restore`: .nsb archives of an appliance, and restoring them."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from lifeline.appliance.settings import APPLIANCE_ID, load_settings
from lifeline.backup.archive import backup_to_file, write_backup
from lifeline.backup.restore import (
    Restored,
    RestoreError,
    copy_staged_files,
    describe,
    replace_data,
    restore_backup,
    stage_backup,
    stage_folder,
)
from lifeline.bootstrap import open_appliance
from lifeline.cli.base import CliError, Commands, config_of, data_dir_and_json, emit
from lifeline.config import Config
from lifeline.recordings.filestore import FileStore


def add_commands(commands: Commands) -> None:
    backup = commands.add_parser("backup", help="write a backup (.nsb) of the configuration and logged data")
    backup.set_defaults(run=run_backup)
    backup.add_argument(
        "--output", "-o", help="file to write (default: lifeline-YYYY-MM-DD.nsb here; - for standard output)"
    )
    backup.add_argument("--password", help="encrypt the backup with this password (or set LIFELINE_BACKUP_PASSWORD)")
    restore = commands.add_parser(
        "restore", help="restore a backup into a new, empty appliance (not running), or replace an appliance's data"
    )
    restore.set_defaults(run=run_restore)
    restore.add_argument("file", type=Path, help="the .nsb file")
    restore.add_argument("--password", help="the backup's password (or set LIFELINE_BACKUP_PASSWORD)")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace all the data of this appliance (running or not) with the backup's, as /login's Backup page does",
    )
    data_dir_and_json(backup, restore)


def run_backup(args: argparse.Namespace) -> None:
    config = config_of(args)
    output = args.output or f"lifeline-{datetime.now(UTC):%Y-%m-%d}.nsb"
    if output != "-" and not Path(output).parent.is_dir():
        raise CliError(f"the folder {Path(output).parent} does not exist; create it first")
    db = open_appliance(config)
    try:
        files = FileStore(config.file_store_dir)
        if output == "-":
            manifest = write_backup(db, files, sys.stdout.buffer, password=_backup_password(args))
            sys.stdout.buffer.flush()
        else:
            manifest = backup_to_file(db, files, Path(output), password=_backup_password(args))
    finally:
        db.close()
    message = f"Wrote {'the backup' if output == '-' else output}: {describe(manifest)}"
    if output == "-":
        print(message, file=sys.stderr)
    else:
        emit(args, {"file": output, **asdict(manifest)}, message)


def run_restore(args: argparse.Namespace) -> None:
    config = config_of(args)
    try:
        if args.replace:
            restored = _replace_data(config, args.file, _backup_password(args))
        else:
            restored = restore_backup(config, args.file, password=_backup_password(args))
    except RestoreError as error:
        raise CliError(str(error)) from None
    where = "PostgreSQL" if not config.is_sqlite else str(config.data_dir)
    emit(
        args,
        {"rows": restored.rows, "files": restored.files, **asdict(restored.manifest)},
        f"{'Replaced the data with' if args.replace else 'Restored'} {describe(restored.manifest)} into {where}",
    )


def _backup_password(args: argparse.Namespace) -> str | None:
    return args.password or os.environ.get("LIFELINE_BACKUP_PASSWORD") or None


def _replace_data(config: Config, source: Path, password: str | None) -> Restored:
    """The same replacement as /login's: staged and checked first, then one transaction;
    running appliance processes notice it within a second."""
    db = open_appliance(config)
    try:
        backup = stage_backup(source, password, stage_folder(config.scratch_dir, secrets.token_hex(16)))
        try:
            files = copy_staged_files(backup, FileStore(config.file_store_dir))
            appliance_id = db.call(load_settings)[APPLIANCE_ID]
            rows = db.call(
                replace_data, backup, appliance_id=appliance_id, performed_by="lifeline restore", file_name=source.name
            )
        finally:
            shutil.rmtree(backup.folder, ignore_errors=True)
    finally:
        db.close()
    return Restored(backup.manifest, rows, files)
