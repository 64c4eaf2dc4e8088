"""The scheduled backups' files in their folder: names that sort in the order they were
made, a free name, and pruning the oldest beyond what the settings keep."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifeline.appliance.schedule import ScheduleError

STAMP = "%Y-%m-%d-%H%M%S"
STAMP_PATTERN = r"\d{4}-\d{2}-\d{2}-\d{6}"


def file_name(hostname: str, moment: datetime) -> str:
    """`<hostname>-<YYYY-MM-DD-HHMMSS>.nsb`, in UTC, so names sort in the order they were made."""
    return f"{hostname}-{moment.astimezone(UTC).strftime(STAMP)}.nsb"


def free_name(folder: Path, hostname: str, moment: datetime) -> Path:
    """The file for a backup made at `moment`; a second later if one was made that second."""
    for seconds in range(3600):
        path = folder / file_name(hostname, moment + timedelta(seconds=seconds))
        if not path.exists():
            return path
    raise ScheduleError(f"{folder} already holds a backup for every second of the hour")


def ours(folder: Path, hostname: str) -> list[Path]:
    """This appliance's scheduled backups in the folder, oldest first; nothing else in it."""
    pattern = re.compile(re.escape(hostname) + "-" + STAMP_PATTERN + r"\.nsb")
    return sorted(path for path in folder.iterdir() if pattern.fullmatch(path.name) and path.is_file())


def prune(folder: Path, hostname: str, keep: int) -> list[Path]:
    """Remove the oldest of this appliance's scheduled backups beyond `keep`; returns them."""
    backups = ours(folder, hostname)
    removed = backups[: max(len(backups) - keep, 0)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
