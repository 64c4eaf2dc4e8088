"""The scheduled backup: its schedule, the claims that let exactly one appliance process
write each run, its settings (the folder checked, the password encrypted), and a run that
writes into a folder and prunes."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from lifeline.appliance.models import Node, Setting
from lifeline.appliance.schedule import ScheduleError, parse_schedule
from lifeline.appliance.settings import SettingError, load_settings, read_secret, set_setting
from lifeline.backup.actions import Claim, Plan, claim_run, finish_run, request_run
from lifeline.backup.folder import free_name, prune
from lifeline.backup.models import BackupLogEntry, BackupSchedule
from lifeline.backup.restore import restore_backup
from lifeline.backup.scheduler import BackupScheduler, plan_of
from lifeline.config import Config
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.presence.actions import register_node
from lifeline.recordings.filestore import FileStore

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the schedule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("daily 02:30", "daily 02:30"),
        ("  Daily 2:05 ", "daily 02:05"),
        ("every 6 hours", "every 6 hours"),
        ("every 1 hour", "every 1 hour"),
    ],
)
def test_a_schedule_reads_both_forms(raw: str, shown: str) -> None:
    assert str(parse_schedule(raw)) == shown


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("daily 25:00", "is not a time of day"),
        ("every 0 hours", "every 1 to 24 hours"),
        ("every 36 hours", "every 1 to 24 hours"),
        ("weekly", "expected 'daily HH:MM' or 'every N hours'"),
    ],
)
def test_a_schedule_that_does_not_read_says_why(raw: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(raw)


def test_daily_runs_at_that_time_of_the_appliances_day() -> None:
    daily = parse_schedule("daily 02:30")
    assert daily.next_after(at("2026-06-10T12:00:00+00:00"), PARIS) == at("2026-06-11T00:30:00+00:00")
    assert daily.next_after(at("2026-06-10T00:29:00+00:00"), PARIS) == at("2026-06-10T00:30:00+00:00")
    # The night the clocks go forward 02:30 does not exist in Paris: it runs an hour later.
    assert daily.next_after(at("2026-03-28T23:00:00+00:00"), PARIS) == at("2026-03-29T01:30:00+00:00")


def test_every_n_hours_runs_on_the_hour_like_cron() -> None:
    every6 = parse_schedule("every 6 hours")
    assert every6.next_after(at("2026-06-10T12:00:00+00:00"), PARIS) == at("2026-06-10T16:00:00+00:00")  # 18:00
    assert every6.next_after(at("2026-06-10T21:59:00+00:00"), PARIS) == at("2026-06-10T22:00:00+00:00")  # 00:00
    assert parse_schedule("every 1 hour").next_after(NOON, ZoneInfo("UTC")) == NOON + timedelta(hours=1)


# --- claims --------------------------------------------------------------------------------------


def schedule_on(db: Database, folder: Path, when: str = "daily 02:30") -> dict[str, Any]:
    db.call(set_setting, "backup_schedule_folder", str(folder))
    db.call(set_setting, "backup_schedule_enabled", "true")
    db.call(set_setting, "backup_schedule", when)
    return db.call(load_settings)


def test_nothing_is_claimed_while_the_schedule_is_off(db: Database) -> None:
    assert db.call(claim_run, "node-a", plan_of(db.call(load_settings)), NOON) is None
    assert db.call(lambda s: s.get(BackupSchedule, 1).next_run_at) is None


def test_the_first_look_plans_the_next_run_and_the_one_due_is_claimed_once(db: Database, tmp_path: Path) -> None:
    plan = plan_of(schedule_on(db, tmp_path))
    assert db.call(claim_run, "node-a", plan, NOON) is None  # planned, not due
    planned = db.call(lambda s: s.get(BackupSchedule, 1).next_run_at)
    assert planned == at("2026-06-11T02:30:00+00:00")  # the appliance's time zone is UTC
    assert db.call(claim_run, "node-a", plan, planned - timedelta(seconds=1)) is None
    db.call(register_node, "node-a", "host-a")
    claim = db.call(claim_run, "node-a", plan, planned)
    assert claim == Claim(requested_by="", started_at=planned)
    # Another process looking at the same moment, or later while node-a writes: nothing.
    assert db.call(claim_run, "node-b", plan, planned) is None
    db.call(finish_run, "node-a")
    row = db.call(lambda s: s.get(BackupSchedule, 1))
    assert (row.running_node, row.next_run_at) == ("", at("2026-06-12T02:30:00+00:00"))


def test_a_changed_schedule_is_planned_again(db: Database, tmp_path: Path) -> None:
    db.call(claim_run, "node-a", plan_of(schedule_on(db, tmp_path)), NOON)
    plan = plan_of(schedule_on(db, tmp_path, "every 4 hours"))
    assert db.call(claim_run, "node-a", plan, NOON) is None
    assert db.call(lambda s: s.get(BackupSchedule, 1).next_run_at) == NOON + timedelta(hours=4)


def test_a_run_held_by_a_process_that_died_is_claimed_again(db: Database) -> None:
    db.call(register_node, "node-a", "host-a")
    db.call(request_run, "admin")
    assert db.call(claim_run, "node-a", None) is not None  # node-a writes it...
    db.call(request_run, "admin")
    assert db.call(claim_run, "node-b", None) is None  # ...and still heartbeats: the next one waits
    db.call(lambda s: s.execute(update(Node).values(last_seen=utcnow() - timedelta(minutes=1))))
    claim = db.call(claim_run, "node-b", None)
    assert claim is not None
    assert claim.requested_by == "admin"


def test_run_now_is_claimed_even_without_a_schedule(db: Database) -> None:
    db.call(request_run, "admin")
    db.call(request_run, "someone else")  # already asked for: not twice
    claim = db.call(claim_run, "node-a", None)
    assert claim is not None
    assert claim.requested_by == "admin"
    assert db.call(claim_run, "node-a", None) is None


def race(databases: list[Database], plan: Plan) -> tuple[list[Claim], list[Exception]]:
    """Every database (as a process of its own) claims the due run at the same moment."""
    start = threading.Barrier(len(databases))
    won: list[Claim] = []
    failed: list[Exception] = []

    def claim(database: Database, node: str) -> None:
        start.wait()
        try:
            claimed = database.call(claim_run, node, plan, NOON + timedelta(seconds=1))
        except Exception as error:
            failed.append(error)
            return
        if claimed is not None:
            won.append(claimed)

    threads = [threading.Thread(target=claim, args=(d, f"node-{n}")) for n, d in enumerate(databases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, failed


def test_of_processes_racing_for_a_run_exactly_one_wins(db: Database, tmp_path: Path) -> None:
    plan = plan_of(schedule_on(db, tmp_path))
    assert plan is not None
    others = [Database(db.url) for _ in range(3)]
    try:
        for round_ in range(10):
            db.call(
                lambda s: s.execute(
                    update(BackupSchedule).values(running_node="", next_run_at=NOON, planned_for=plan.key)
                )
            )
            won, failed = race([db, *others], plan)
            assert failed == [], round_
            assert len(won) == 1, round_
    finally:
        for database in others:
            database.close()


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("backups", r"the folder must be an absolute path \(starting with /\), not 'backups'"),
        ("/no/such/folder", r"/no/such/folder does not exist; create it first"),
    ],
)
def test_the_folder_is_checked_when_it_is_set(db: Database, folder: str, message: str) -> None:
    with pytest.raises(SettingError, match=f"^backup_schedule_folder: {message}$"):
        db.call(set_setting, "backup_schedule_folder", folder)


def test_a_file_is_not_a_folder(db: Database, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SettingError, match="is not a folder"):
        db.call(set_setting, "backup_schedule_folder", str(tmp_path / "a-file"))


def test_the_schedule_is_turned_on_only_with_a_folder(db: Database, tmp_path: Path) -> None:
    with pytest.raises(SettingError, match=r"set the folder \(backup_schedule_folder\) before"):
        db.call(set_setting, "backup_schedule_enabled", "true")
    db.call(set_setting, "backup_schedule_folder", str(tmp_path))
    assert db.call(set_setting, "backup_schedule_enabled", "true") is True


def test_the_backup_password_is_encrypted_and_never_read_back_as_a_setting(db: Database) -> None:
    assert db.call(set_setting, "backup_schedule_password", "a secret backup password") is True
    stored = db.call(lambda s: s.scalars(select(Setting.value).where(Setting.key == "backup_schedule_password")).one())
    assert stored.startswith("sealed:1:")
    assert "secret" not in stored
    assert db.call(load_settings)["backup_schedule_password"] is True
    assert db.call(read_secret, "backup_schedule_password") == "a secret backup password"
    db.call(set_setting, "backup_schedule_password", "")
    assert db.call(load_settings)["backup_schedule_password"] is False
    assert db.call(read_secret, "backup_schedule_password") is None


# --- a run ---------------------------------------------------------------------------------------


def scheduler(db: Database, tmp_path: Path) -> BackupScheduler:
    async def settings() -> dict[str, Any]:
        return db.call(load_settings)

    async def hostname() -> str:
        return "support.example.com"

    return BackupScheduler(db, FileStore(tmp_path / "data" / "files"), "node-a", settings, hostname)


def test_a_run_writes_into_the_folder_and_keeps_only_the_newest(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not ours")
    (folder / "other.example.com-2020-01-01-000000.nsb").write_text("another appliance's")
    old = [folder / f"support.example.com-2020-01-0{day}-000000.nsb" for day in (1, 2, 3)]
    for path in old:
        path.write_text("an old backup")
    schedule_on(db, folder)
    db.call(set_setting, "backup_schedule_keep", "2")
    db.call(set_setting, "backup_schedule_password", "scheduled password")
    db.call(request_run, "admin")
    outcome = asyncio.run(scheduler(db, tmp_path).tick())
    assert outcome is not None
    assert outcome.ok, outcome.detail
    written = Path(outcome.file_name)
    assert written.parent == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["notes.txt", "other.example.com-2020-01-01-000000.nsb", old[2].name, written.name]
    )
    assert "removed 2 older" in outcome.detail
    assert written.read_bytes().startswith(b"LIFELINE-NSB-ENCRYPTED\n")
    restored = restore_backup(Config(data_dir=tmp_path / "restored"), written, password="scheduled password")
    assert restored.manifest.encrypted
    entry = db.call(lambda s: s.scalars(select(BackupLogEntry)).one())
    assert (entry.kind, entry.performed_by, entry.ok, entry.file_name) == ("scheduled", "admin", True, str(written))
    assert db.call(lambda s: s.get(BackupSchedule, 1).running_node) == ""


def test_a_run_that_cannot_write_says_why(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    schedule_on(db, folder)
    folder.rmdir()
    db.call(request_run, "admin")
    outcome = asyncio.run(scheduler(db, tmp_path).tick())
    assert outcome is not None
    assert not outcome.ok
    assert outcome.detail == f"{folder} does not exist; create it first"
    entry = db.call(lambda s: s.scalars(select(BackupLogEntry)).one())
    assert (entry.ok, entry.detail) == (False, outcome.detail)


def test_prune_touches_only_this_appliances_backups(tmp_path: Path) -> None:
    names = [f"support.example.com-2026-01-0{n}-000000.nsb" for n in range(1, 5)]
    for name in [*names, "support.example.com.nsb", "x-support.example.com-2026-01-01-000000.nsb"]:
        (tmp_path / name).write_text("")
    removed = prune(tmp_path, "support.example.com", 1)
    assert [p.name for p in removed] == names[:3]
    assert len(list(tmp_path.iterdir())) == 3


def test_two_backups_in_one_second_get_two_names(tmp_path: Path) -> None:
    first = free_name(tmp_path, "support.example.com", NOON)
    first.write_text("")
    assert first.name == "support.example.com-2026-06-10-120000.nsb"
    assert free_name(tmp_path, "support.example.com", NOON).name == "support.example.com-2026-06-10-120001.nsb"
