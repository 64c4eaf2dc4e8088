"""Restoring a backup from /login into a running appliance whose data differs: a file that
cannot be restored is refused with the reason and changes nothing; a good one is confirmed
from a summary of what it holds, then replaces everything, so that the appliance's reports
and users equal the original's, its consoles are disconnected, and sign-ins that no longer
match are over. In Debian's Chromium, with screenshots in test-output/admin/."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.appliance.settings import APPLIANCE_ID, load_settings
from lifeline.backup.crypto import decrypt
from lifeline.directory.models import Team, User
from tests.admin.helpers import AdminClient, signed_in
from tests.backup.test_restore import TEST_USER, reports_of, same_reports
from tests.browser.pages import new_context, site_url
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance, running_appliance
from tests.support.engine import ConsoleNode
from tests.support.history import make_history
from tests.support.personas import Personas, provision
from tests.support.reporting import provision_reporters
from tests.support.sockets import Console, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "original's backup password"


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    """An appliance with a history of sessions, its reporters, a site and survey answers."""
    with running_appliance(tmp_path_factory.mktemp("original")) as appliance:
        personas = provision(appliance)
        provision_reporters(appliance, personas.rep_b, personas.integration)
        node = ConsoleNode(appliance.db)
        make_history(appliance, personas, node)
        node.close()  # everybody logs out, the sessions still open end: nothing depends on "now"
        yield appliance


@pytest.fixture(scope="module")
def original_reports(original: RunningAppliance) -> dict[str, bytes]:
    return reports_of(original)


@pytest.fixture(scope="module")
def backups(original: RunningAppliance, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The original's backup (encrypted, from the Backup API), and files made from it that
    cannot be restored."""
    folder = tmp_path_factory.mktemp("backups")
    with original.client() as client:
        response = client.post("/api/backup", params=TEST_USER, json={"password": PASSWORD})
    assert response.status_code == 200
    good = folder / "support.example.com-original.nsb"
    good.write_bytes(response.content)
    plain = io.BytesIO()
    with good.open("rb") as handle:
        decrypt(handle, PASSWORD, plain.write)
    files = {"good": good}

    def made(name: str, data: bytes) -> None:
        files[name] = folder / f"{name}.nsb"
        files[name].write_bytes(data)

    made("not-a-backup", b"<html>Invalid credentials</html>")
    made("truncated", good.read_bytes()[:-100])
    newer = io.BytesIO()
    stored = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(newer, "w") as target, zipfile.ZipFile(stored, "w") as flat:
        for item in source.infolist():
            data = source.read(item)
            flat.writestr(item.filename, data, compress_type=zipfile.ZIP_STORED)
            if item.filename == "manifest.json":
                data = json.dumps(
                    {**json.loads(data), "lifeline_version": "9.9.9", "schema_revision": "r9999"}
                ).encode()
            target.writestr(item, data)
    made("newer", newer.getvalue())
    # A byte changed inside the users' rows after the archive was written: its CRC tells.
    damaged = bytearray(stored.getvalue())
    at = damaged.index(b'"username":"rep_a"')
    damaged[at + 13] = ord("x")
    made("damaged", bytes(damaged))
    return files


def directory_of(appliance: RunningAppliance) -> tuple[list[str], list[str]]:
    def read(session: Session) -> tuple[list[str], list[str]]:
        users = list(session.scalars(select(User.username).order_by(User.username)))
        teams = list(session.scalars(select(Team.name).order_by(Team.name)))
        return users, teams

    return appliance.with_session(read)


@pytest.fixture(scope="module")
def target(appliance: RunningAppliance, personas: Personas) -> RunningAppliance:
    """The running appliance to restore into: the same people, but a team of its own, no history."""
    appliance.cli("team", "add", "Only Here")
    return appliance


REFUSALS = [
    ("not-a-backup", None, "not-a-backup.nsb was not restored: This is not a Lifeline backup (.nsb)."),
    ("good", None, "was not restored: This backup is encrypted; give its password."),
    ("good", "not the password", "was not restored: The backup password is wrong, or the backup is damaged."),
    ("truncated", PASSWORD, "truncated.nsb was not restored: The backup password is wrong, or the backup is damaged."),
    (
        "newer",
        None,
        "newer.nsb was not restored: This backup was made by a newer Lifeline (9.9.9, schema revision &#39;r9999&#39;); "
        "upgrade Lifeline to restore it.",
    ),
    (
        "damaged",
        None,
        "damaged.nsb was not restored: The backup is damaged: Bad CRC-32 for file &#39;tables/users.jsonl&#39;",
    ),
]


@pytest.mark.parametrize(("name", "password", "message"), REFUSALS)
def test_a_file_that_cannot_be_restored_is_refused_with_the_reason_and_changes_nothing(
    admin: AdminClient,
    target: RunningAppliance,
    backups: dict[str, Path],
    name: str,
    password: str | None,
    message: str,
) -> None:
    before = directory_of(target)
    response = admin.client.post(
        "/login/backup/restore",
        data={"csrf": admin.csrf, **({"password": password} if password else {})},
        files={"backup": (backups[name].name, backups[name].read_bytes(), "application/octet-stream")},
    )
    assert response.status_code == 400
    assert message in response.text
    assert directory_of(target) == before
    assert "Only Here" in before[1]
    assert list((target.data_dir / "tmp").glob("restore-*")) == []


def test_a_restore_can_be_cancelled_at_the_summary(
    admin: AdminClient, target: RunningAppliance, backups: dict[str, Path]
) -> None:
    before = directory_of(target)
    summary = admin.client.post(
        "/login/backup/restore",
        data={"csrf": admin.csrf, "password": PASSWORD},
        files={"backup": ("original.nsb", backups["good"].read_bytes(), "application/octet-stream")},
    )
    assert summary.status_code == 200
    token = re.search(r'name="token" value="([0-9a-f]{32})"', summary.text)
    assert token is not None
    cancelled = admin.post("/login/backup/restore/cancel", {"token": token.group(1)})
    assert cancelled.status_code == 303
    assert "Nothing was restored." in admin.get("/login/backup").text
    assert directory_of(target) == before
    again = admin.post("/login/backup/restore/confirm", {"token": token.group(1)})
    assert again.status_code == 400
    assert "That restore is no longer waiting" in again.text
    assert directory_of(target) == before


def test_a_backup_replaces_the_data_of_the_running_appliance_in_a_browser(
    browser: Browser,
    target: RunningAppliance,
    personas: Personas,
    original: RunningAppliance,
    original_reports: dict[str, bytes],
    backups: dict[str, Path],
    admin: AdminClient,
    screenshots: Path,
) -> None:
    own_id = target.with_session(load_settings)[APPLIANCE_ID]
    assert reports_of(target) != original_reports  # "test" is not even a user here
    console = Console(target, sign_in(target, "rep_a", personas.rep_a.password))
    assert console.welcome["type"] == "welcome"

    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site_url(target)}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Backup", exact=True).click()
    expect(page.locator("h1")).to_have_text("Backup")
    page.screenshot(path=str(screenshots / "backup.png"), full_page=True)

    # A wrong password first: refused, with the reason.
    page.set_input_files("#restore-form input[name=backup]", str(backups["good"]))
    page.fill("#restore-form input[name=password]", "not the password")
    page.click("#restore-form button[type=submit]")
    expect(page.locator(".error")).to_contain_text("The backup password is wrong, or the backup is damaged.")
    page.screenshot(path=str(screenshots / "backup-restore-refused.png"), full_page=True)

    page.set_input_files("#restore-form input[name=backup]", str(backups["good"]))
    page.fill("#restore-form input[name=password]", PASSWORD)
    page.click("#restore-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Restore this backup?")
    summary = page.locator("#restore-summary")
    manifest = original_manifest(backups["good"])
    for label, table in (("Support sessions", "support_sessions"), ("Users", "users"), ("Teams", "teams")):
        row = summary.locator("tr", has_text=label)
        expect(row.locator("td").nth(1)).to_have_text(str(manifest["tables"][table]))
    expect(summary).to_contain_text(f"Lifeline {manifest['lifeline_version']} (schema {manifest['schema_revision']}")
    page.screenshot(path=str(screenshots / "backup-restore-confirm.png"), full_page=True)
    assert directory_of(target) != directory_of(original)  # nothing replaced before the confirmation

    page.click("#confirm-restore button")
    expect(page.locator("h1")).to_have_text("Backup restored")
    expect(page.locator("#restore-result")).to_contain_text(
        f"{manifest['tables']['support_sessions']} support sessions, {manifest['tables']['users']} users"
    )
    page.screenshot(path=str(screenshots / "backup-restored.png"), full_page=True)
    assert errors == []
    context.close()

    # The data is the original's: its reports and its users, and not this appliance's own team.
    same_reports(reports_of(target), original_reports)
    assert directory_of(target) == directory_of(original)
    assert "Only Here" not in directory_of(target)[1]
    # The appliance is still itself (its processes' bus is named after its id).
    assert target.with_session(load_settings)[APPLIANCE_ID] == own_id
    # The console's connection went with the old data: its socket is closed, to reconnect.
    assert console.close_code() == 1012
    # A sign-in of the old data (its cookie is signed with the old appliance secret) is over.
    stale = admin.get("/login/status")
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/login")
    # The original's admin signs in, and the restore is in this appliance's backup log.
    with signed_in(target, "admin", ADMIN_PASSWORD) as again:
        log = again.get("/login/backup").text
        assert re.search(r"<td>restore</td>\n\s*<td>admin</td>", log)


def original_manifest(backup: Path) -> dict[str, object]:
    plain = io.BytesIO()
    with backup.open("rb") as handle:
        decrypt(handle, PASSWORD, plain.write)
    with zipfile.ZipFile(plain) as archive:
        manifest: dict[str, object] = json.loads(archive.read("manifest.json"))
    return manifest
