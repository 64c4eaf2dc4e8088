"""Backup in /login: a backup downloaded now (plain or with a password) is one `lifeline
restore` reads; who took it is logged; the scheduled backup's settings are checked, written
on time or at "Run now" into a folder and pruned, its password never shown; an upload needs
its form token and is refused beyond the size limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lifeline.backup.models import BackupSchedule
from lifeline.db.base import utcnow
from lifeline.directory.models import Team, User
from tests.admin.helpers import AdminClient
from tests.browser.pages import new_context, site_url
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance, eventually
from tests.support.personas import Personas

BACKUP_PASSWORD = "download password 1"
SCHEDULE_PASSWORD = "scheduled password 2"
NAMED = re.compile(r"attachment; filename=support\.example\.com-\d{4}-\d{2}-\d{2}\.nsb")


def directory_of(appliance: RunningAppliance) -> tuple[list[str], list[str]]:
    def read(session: Session) -> tuple[list[str], list[str]]:
        users = list(session.scalars(select(User.username).order_by(User.username)))
        teams = list(session.scalars(select(Team.name).order_by(Team.name)))
        return users, teams

    return appliance.with_session(read)


@pytest.fixture
def restored_into(tmp_path: Path) -> Iterator[RunningAppliance]:
    """A new appliance's data directory (and database), not started: what `lifeline restore` fills."""
    fresh = RunningAppliance(tmp_path / "fresh")
    yield fresh
    fresh.close()


def download(admin: AdminClient, password: str = "") -> bytes:
    response = admin.post("/login/backup/download", {"password": password})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/octet-stream"
    assert NAMED.fullmatch(response.headers["content-disposition"])
    return response.content


def test_a_backup_downloaded_now_is_restored_by_the_restore_command(
    admin: AdminClient, appliance: RunningAppliance, personas: Personas, restored_into: RunningAppliance, tmp_path: Path
) -> None:
    backup = tmp_path / "download.nsb"
    backup.write_bytes(download(admin))
    assert backup.read_bytes().startswith(b"PK")
    printed = restored_into.cli("restore", str(backup))
    assert printed.startswith("Restored a backup made ")
    assert directory_of(restored_into) == directory_of(appliance)
    assert personas.rep_a.username in directory_of(restored_into)[0]


def test_a_password_protected_download_needs_its_password(
    admin: AdminClient, restored_into: RunningAppliance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "encrypted.nsb"
    backup.write_bytes(download(admin, BACKUP_PASSWORD))
    assert backup.read_bytes().startswith(b"LIFELINE-NSB-ENCRYPTED\n")
    with pytest.raises(SystemExit):
        restored_into.cli("restore", str(backup))
    assert "This backup is encrypted; give its password." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        restored_into.cli("restore", str(backup), "--password", "not the password")
    assert "The backup password is wrong" in capsys.readouterr().err
    assert "encrypted" in restored_into.cli("restore", str(backup), "--password", BACKUP_PASSWORD)


def test_who_took_a_backup_is_logged_and_the_last_backup_shown(admin: AdminClient, appliance: RunningAppliance) -> None:
    download(admin, BACKUP_PASSWORD)
    page = admin.get("/login/backup").text
    assert re.search(r"downloaded by admin — <code>support\.example\.com-[\d-]+\.nsb</code> \d+ KB, encrypted\.", page)
    log = re.search(r'<table class="grid" id="backup-log">.*?</table>', page, re.S)
    assert log is not None
    assert "<td>download</td>\n        <td>admin</td>" in log.group(0)
    status = admin.get("/login/status").text
    assert re.search(r'id="status-last-backup">[\d: -]+, downloaded by admin; scheduled backup off', status)
    assert "admin downloaded a backup (encrypted)" in appliance.log_path.read_text()
    assert BACKUP_PASSWORD not in appliance.log_path.read_text()


# --- the scheduled backup --------------------------------------------------------------------


SCHEDULE = {
    "backup_schedule_folder": "",
    "backup_schedule_enabled": "",
    "backup_schedule": "daily 02:30",
    "backup_schedule_keep": "2",
    "backup_schedule_password": "",
}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"backup_schedule_folder": "backups"},
            "Folder: the folder must be an absolute path (starting with /), not &#39;backups&#39;.",
        ),
        ({"backup_schedule_folder": "/no/such/folder"}, "Folder: /no/such/folder does not exist; create it first."),
        (
            {"backup_schedule_enabled": "on"},
            "Write a backup on the schedule: set the folder (backup_schedule_folder) before turning the scheduled backup on.",
        ),
        (
            {"backup_schedule": "weekly"},
            "When: expected &#39;daily HH:MM&#39; or &#39;every N hours&#39;, not &#39;weekly&#39;.",
        ),
        ({"backup_schedule_keep": "0"}, "Backups to keep: expected an integer from 1 to 1000, not 0."),
    ],
)
def test_scheduled_backup_settings_are_refused_with_their_reason(
    admin: AdminClient, appliance: RunningAppliance, fields: dict[str, str], message: str
) -> None:
    response = admin.post("/login/backup/schedule", {**SCHEDULE, **fields})
    assert response.status_code == 400
    assert message in response.text
    assert appliance.cli_json("settings", "get", "backup_schedule_enabled") == {"backup_schedule_enabled": False}


def scheduled_runs(admin: AdminClient) -> list[str]:
    log = re.search(r'<table class="grid" id="backup-log">.*?</table>', admin.get("/login/backup").text, re.S)
    assert log is not None
    return re.findall(r"<td>scheduled</td>\n        <td>([^<]*)</td>", log.group(0))


def test_the_scheduled_backup_writes_into_the_folder_on_time_and_at_run_now_and_prunes(
    admin: AdminClient, appliance: RunningAppliance, tmp_path: Path
) -> None:
    folder = tmp_path / "scheduled"
    folder.mkdir()
    (folder / "keep-me.txt").write_text("not a backup")
    saved = admin.post(
        "/login/backup/schedule",
        {
            **SCHEDULE,
            "backup_schedule_folder": str(folder),
            "backup_schedule_enabled": "on",
            "backup_schedule_password": SCHEDULE_PASSWORD,
        },
    )
    assert saved.status_code == 303, saved.text[:2000]
    page = admin.get("/login/backup").text
    assert "The scheduled backup settings were saved." in page
    assert SCHEDULE_PASSWORD not in page
    assert 'placeholder="set; type a new one to change it"' in page
    eventually(lambda: _check("<dt>Next run</dt><dd>20" in admin.get("/login/backup").text), timeout=15)

    # On time: the run planned for 02:30 comes due (its time is moved, as a clock would move).
    appliance.call(lambda s: s.execute(update(BackupSchedule).values(next_run_at=utcnow() - timedelta(seconds=1))))
    eventually(lambda: _check(scheduled_runs(admin) == ["schedule"]), timeout=30)
    # "Run now", twice more: three backups written, the oldest removed (keep 2).
    for runs in (2, 3):
        assert admin.post("/login/backup/run").status_code == 303
        wait_for_runs(admin, runs)
    assert scheduled_runs(admin) == ["admin", "admin", "schedule"]
    written = sorted(p.name for p in folder.glob("*.nsb"))
    assert len(written) == 2
    assert all(re.fullmatch(r"support\.example\.com-\d{4}-\d{2}-\d{2}-\d{6}\.nsb", name) for name in written)
    assert (folder / "keep-me.txt").exists()
    assert all((folder / name).read_bytes().startswith(b"LIFELINE-NSB-ENCRYPTED\n") for name in written)
    page = admin.get("/login/backup").text
    assert re.search(r'id="last-run">[\d: -]+: <strong>done</strong> — a backup made', page)
    assert "removed 1 older" in page
    # The password is never shown back, listed or logged.
    for shown in (page, appliance.cli("settings", "list"), appliance.log_path.read_text()):
        assert SCHEDULE_PASSWORD not in shown
    assert "backup_schedule_password = (set)" in appliance.cli("settings", "list")

    # Turned off again, with the password removed, nothing more is planned.
    admin.post(
        "/login/backup/schedule",
        {**SCHEDULE, "backup_schedule_folder": str(folder), "backup_schedule_password_clear": "on"},
    )
    assert appliance.cli_json("settings", "get", "backup_schedule_password") == {
        "backup_schedule_password": "(not set)"
    }
    eventually(lambda: _check("not scheduled" in admin.get("/login/backup").text), timeout=15)


def wait_for_runs(admin: AdminClient, count: int) -> None:
    eventually(lambda: _check(len(scheduled_runs(admin)) == count), timeout=30)


def test_run_now_needs_a_folder(admin: AdminClient, appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "backup_schedule_folder", "")
    response = admin.post("/login/backup/run")
    assert response.status_code == 400
    assert "Set the scheduled backup&#39;s folder first." in response.text


# --- uploads ---------------------------------------------------------------------------------


def staged(appliance: RunningAppliance) -> list[Path]:
    scratch = appliance.data_dir / "tmp"
    return [*scratch.glob("restore-*"), *scratch.glob("uploads/*")]


def test_an_upload_needs_its_form_token_before_the_file(admin: AdminClient, appliance: RunningAppliance) -> None:
    backup = download(admin)
    forged = admin.client.post(
        "/login/backup/restore",
        data={"csrf": "forged"},
        files={"backup": ("x.nsb", backup, "application/octet-stream")},
    )
    assert forged.status_code == 400
    assert "The form expired" in forged.text
    assert staged(appliance) == []


def test_a_rep_cannot_upload_a_backup(rep: AdminClient, admin: AdminClient, appliance: RunningAppliance) -> None:
    backup = download(admin)
    response = rep.client.post(
        "/login/backup/restore",
        data={"csrf": rep.csrf},
        files={"backup": ("x.nsb", backup, "application/octet-stream")},
    )
    assert response.status_code == 403
    assert staged(appliance) == []


def test_an_upload_over_the_limit_is_refused(admin: AdminClient, appliance: RunningAppliance) -> None:
    assert admin.post("/login/backup/upload-limit", {"restore_upload_max_mb": "1"}).status_code == 303
    try:
        response = admin.client.post(
            "/login/backup/restore",
            data={"csrf": admin.csrf},
            files={"backup": ("big.nsb", b"x" * (1024 * 1024 + 1), "application/octet-stream")},
        )
        assert response.status_code == 413
        assert "The file is larger than 1 MB, the most this appliance accepts (restore_upload_max_mb)." in response.text
        assert staged(appliance) == []
    finally:
        admin.post("/login/backup/upload-limit", {"restore_upload_max_mb": "2048"})


def test_a_restore_without_a_file_says_so(admin: AdminClient) -> None:
    response = admin.client.post(
        "/login/backup/restore", data={"csrf": admin.csrf}, files={"backup": ("", b"", "application/octet-stream")}
    )
    assert response.status_code == 400
    assert "Choose a backup file (.nsb) to restore." in response.text


def _check(condition: bool) -> None:
    assert condition


@pytest.mark.browser
def test_the_backup_page_in_a_browser(browser: Browser, appliance: RunningAppliance, screenshots: Path) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{site_url(appliance)}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#status-last-backup")).to_contain_text("downloaded by admin")
    page.screenshot(path=str(screenshots / "backup-status.png"), full_page=True)
    page.goto(f"{site_url(appliance)}/login/backup")
    expect(page.locator("#backup-log")).to_contain_text("scheduled")
    expect(page.locator("#last-run")).to_contain_text("done")
    page.screenshot(path=str(screenshots / "backup-scheduled.png"), full_page=True)
    context.close()
