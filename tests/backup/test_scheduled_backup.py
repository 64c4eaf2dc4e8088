"""The scheduled backup with two appliance processes on one database (a SQLite file both
open, or one PostgreSQL database): each run due is written once, by one of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lifeline.backup.models import BackupLogEntry, BackupSchedule
from lifeline.backup.scheduler import CHECK_SECONDS
from lifeline.db.base import utcnow
from tests.support.appliance import RunningAppliance, eventually


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    first = RunningAppliance(tmp_path / "first")
    second: RunningAppliance | None = None
    try:
        first.start()
        if first.database.url:
            second = RunningAppliance(tmp_path / "second", database=first.database)
        else:
            shared = f"sqlite:///{first.data_dir / 'lifeline.db'}"
            second = RunningAppliance(tmp_path / "second", env={"DATABASE_URL": shared})
        second.start()
        yield first, second
    finally:
        if second is not None:
            second.close()
        first.close()


def scheduled_runs(appliance: RunningAppliance) -> list[BackupLogEntry]:
    return appliance.with_session(
        lambda s: list(s.scalars(select(BackupLogEntry).where(BackupLogEntry.kind == "scheduled")))
    )


def test_each_scheduled_backup_is_written_by_one_process(
    two_processes: tuple[RunningAppliance, RunningAppliance], tmp_path: Path
) -> None:
    first, second = two_processes
    folder = tmp_path / "backups"
    folder.mkdir()
    first.cli("settings", "set", "backup_schedule_folder", str(folder))
    first.cli("settings", "set", "backup_schedule", "every 1 hour")
    first.cli("settings", "set", "backup_schedule_keep", "10")
    first.cli("settings", "set", "backup_schedule_enabled", "true")
    eventually(
        lambda: _check(first.with_session(lambda s: s.get(BackupSchedule, 1).next_run_at) is not None), timeout=30
    )
    for round_ in range(1, 4):
        # The hour comes: both processes see the run due at their next look.
        first.call(lambda s: s.execute(update(BackupSchedule).values(next_run_at=utcnow() - timedelta(seconds=1))))
        wait_for_runs(first, round_)
    # Long enough for either process to have looked twice more: no run is written twice.
    time.sleep(2 * CHECK_SECONDS)
    runs = scheduled_runs(first)
    assert [run.ok for run in runs] == [True, True, True]
    assert len({run.file_name for run in runs}) == 3
    assert len(list(folder.glob("*.nsb"))) == 3
    written = [log.read_text().count("scheduled backup written to") for log in (first.log_path, second.log_path)]
    assert sum(written) == 3


def wait_for_runs(appliance: RunningAppliance, count: int) -> None:
    eventually(lambda: _check(len(scheduled_runs(appliance)) >= count), timeout=30)


def _check(condition: bool) -> None:
    assert condition
