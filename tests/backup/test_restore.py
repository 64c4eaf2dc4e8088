"""Restoring a backup into a new appliance: its reports equal the original's, SQLite to
PostgreSQL and back; and what cannot be restored is refused with the reason."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from lifeline.api.reporting.reports import EXPIRED
from lifeline.backup.restore import RestoreError, forget_stale_stages, restore_backup, stage_folder
from lifeline.config import Config, normalize_database_url
from tests.support.appliance import RunningAppliance, eventually, running_appliance
from tests.support.engine import ConsoleNode
from tests.support.history import History, make_history
from tests.support.personas import provision
from tests.support.reporting import NS_LATER, provision_reporters
from tests.support.sockets import Console, sign_in

PASSWORD = "a backup password"
TEST_USER = {"username": "test", "password": "test-password"}
WINDOW = {"start_time": 946684800, "duration": 4102444800 - 946684800}  # 2000 to 2100: fixed, not "now"
REPORTS = [
    ("SupportSession", {}),
    ("SupportSessionListing", {}),
    ("SupportSessionSummary", {"report_type": "rep"}),
    ("SupportSessionSummary", {"report_type": "team"}),
    ("SupportSessionSummary", {"report_type": "site"}),
    ("SupportCustExitSurvey", {"report_type": "rep", "id": "all"}),
    ("SupportRepExitSurvey", {"report_type": "team", "id": "all"}),
    ("SupportTeam", {}),
]


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        engine = create_engine(normalize_database_url(url))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def same_reports(found: dict[str, bytes], expected: dict[str, bytes]) -> None:
    """Equal, or an assertion error showing the lines that differ."""
    for name, body in expected.items():
        if found.get(name) != body:
            diff = difflib.unified_diff(
                body.decode().splitlines(),
                (found.get(name) or b"").decode().splitlines(),
                "original",
                "restored",
                lineterm="",
            )
            raise AssertionError(f"{name} differs:\n" + "\n".join(list(diff)[:80]))
    assert found.keys() == expected.keys()


def reports_of(appliance: RunningAppliance) -> dict[str, bytes]:
    """Every report, on both URL forms, with the appliance's own port taken out of links."""
    found = {}
    with appliance.client() as client:
        for report, params in REPORTS:
            for path in ("/api/reporting.ns", "/api/reporting"):
                response = client.get(path, params={**TEST_USER, "generate_report": report, **WINDOW, **params})
                assert response.status_code == 200
                body = re.sub(rb"https://support\.example\.com:\d+/", b"https://support.example.com/", response.content)
                found[f"{path} {report} {params}"] = body
    return found


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningAppliance, History]]:
    with running_appliance(tmp_path_factory.mktemp("original"), database_server="") as appliance:
        personas = provision(appliance)
        provision_reporters(appliance, personas.rep_b, personas.integration)
        node = ConsoleNode(appliance.db)
        history = make_history(appliance, personas, node)
        node.close()  # everybody logs out, and the sessions still open end: nothing depends on "now"
        yield appliance, history


@pytest.fixture(scope="module")
def original_reports(original: tuple[RunningAppliance, History]) -> dict[str, bytes]:
    reports = reports_of(original[0])
    assert b"<session lsid=" in reports["/api/reporting.ns SupportSession {}"]
    return reports


@pytest.fixture(scope="module")
def encrypted_backup(original: tuple[RunningAppliance, History], tmp_path_factory: pytest.TempPathFactory) -> Path:
    with original[0].client() as client:
        response = client.post("/api/backup", params=TEST_USER, json={"password": PASSWORD})
    assert response.status_code == 200
    path = tmp_path_factory.mktemp("backups") / "support.example.com-original.nsb"
    path.write_bytes(response.content)
    return path


def restored(tmp_path: Path, backup: Path, server: str, *, password: str | None = PASSWORD) -> RunningAppliance:
    appliance = RunningAppliance(tmp_path / "restored", database_server=server)
    args = ["restore", str(backup)] + (["--password", password] if password else [])
    assert "Restored a backup made" in appliance.cli(*args)
    appliance.start()
    return appliance


def test_a_restored_appliance_reports_what_the_original_did(
    tmp_path: Path,
    original: tuple[RunningAppliance, History],
    original_reports: dict[str, bytes],
    encrypted_backup: Path,
) -> None:
    appliance = restored(tmp_path, encrypted_backup, "")
    try:
        same_reports(reports_of(appliance), original_reports)
        history = original[1]
        with appliance.client() as client:
            # Files under 200 KB came back; recordings did not, and say so.
            recording = client.get(
                "/api/reporting",
                params={**TEST_USER, "generate_report": "SupportSessionRecording", "lsid": history.full},
            )
            assert f'<error xmlns="{NS_LATER}">{EXPIRED}</error>'.encode() in recording.content
        assert len(list((appliance.data_dir / "files").rglob("*"))) > 2
    finally:
        appliance.close()


def test_sqlite_to_postgresql_and_back(
    tmp_path: Path, original_reports: dict[str, bytes], encrypted_backup: Path
) -> None:
    server = postgres_url()
    if server is None:
        pytest.skip("no PostgreSQL server to restore into")
    on_postgres = restored(tmp_path / "pg", encrypted_backup, server)
    try:
        same_reports(reports_of(on_postgres), original_reports)
        backup = tmp_path / "from-postgres.nsb"
        out = on_postgres.cli("backup", "--output", str(backup))
        assert "postgresql" in out and backup.read_bytes().startswith(b"PK")
    finally:
        on_postgres.close()
    back_on_sqlite = restored(tmp_path / "sqlite", backup, "", password=None)
    try:
        same_reports(reports_of(back_on_sqlite), original_reports)
    finally:
        back_on_sqlite.close()


# --- what restore refuses -----------------------------------------------------------------


def fresh_config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "fresh")


def test_it_refuses_an_appliance_that_already_has_data(
    original: tuple[RunningAppliance, History], encrypted_backup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        original[0].cli("restore", str(encrypted_backup), "--password", PASSWORD)
    assert exit_.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith("lifeline: error: The appliance already has data (")
    assert message.strip().endswith(
        "restore into a new, empty appliance, or replace its data with --replace (or /login's Backup page)."
    )


def test_it_refuses_a_wrong_or_missing_password(tmp_path: Path, encrypted_backup: Path) -> None:
    with pytest.raises(RestoreError, match=r"^This backup is encrypted; give its password\.$"):
        restore_backup(fresh_config(tmp_path), encrypted_backup)
    with pytest.raises(RestoreError, match=r"^The backup password is wrong, or the backup is damaged\.$"):
        restore_backup(fresh_config(tmp_path), encrypted_backup, password="not it")


def test_it_refuses_a_truncated_encrypted_backup(tmp_path: Path, encrypted_backup: Path) -> None:
    cut = tmp_path / "cut.nsb"
    cut.write_bytes(encrypted_backup.read_bytes()[:-100])
    with pytest.raises(RestoreError, match=r"damaged|truncated"):
        restore_backup(fresh_config(tmp_path), cut, password=PASSWORD)


def test_it_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    other = tmp_path / "notes.nsb"
    other.write_bytes(b"<html>Invalid credentials</html>")
    with pytest.raises(RestoreError, match=r"^This is not a Lifeline backup \(.nsb\).$"):
        restore_backup(fresh_config(tmp_path), other)
    zipped = tmp_path / "photos.nsb"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("cat.jpg", b"meow")
    with pytest.raises(RestoreError, match="it has no manifest"):
        restore_backup(fresh_config(tmp_path), zipped)


def rewritten(tmp_path: Path, encrypted_backup: Path, **changes: object) -> Path:
    from lifeline.backup.crypto import decrypt

    plain = io.BytesIO()
    with encrypted_backup.open("rb") as handle:
        decrypt(handle, PASSWORD, plain.write)
    out = tmp_path / "changed.nsb"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "manifest.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
            target.writestr(item, data)
    return out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 2}, r"made by a newer Lifeline \(9\.9\.9, backup format 2\); upgrade Lifeline"),
        ({"schema_revision": "r9999"}, r"made by a newer Lifeline \(9\.9\.9, schema revision 'r9999'\); upgrade"),
        ({"database": "mysql"}, r"comes from a database Lifeline cannot read \(mysql\)"),
        ({"format": "bomgar"}, r"^This is not a Lifeline backup.$"),
    ],
)
def test_it_refuses_what_this_version_cannot_read_and_says_why(
    tmp_path: Path, encrypted_backup: Path, changes: dict[str, object], message: str
) -> None:
    backup = rewritten(tmp_path, encrypted_backup, lifeline_version="9.9.9", **changes)
    with pytest.raises(RestoreError, match=message):
        restore_backup(fresh_config(tmp_path), backup)
    assert not (tmp_path / "fresh" / "lifeline.db").exists()  # refused before touching anything


def test_a_fresh_appliance_made_by_a_first_start_can_be_restored_into(
    tmp_path: Path, encrypted_backup: Path, original: tuple[RunningAppliance, History]
) -> None:
    appliance = RunningAppliance(tmp_path / "first-start", database_server="")
    appliance.cli("init")  # a first start: the admin account and the default site
    appliance.cli("restore", str(encrypted_backup), "--password", PASSWORD)
    appliance.start()
    try:
        with appliance.client() as client:
            response = client.get(
                "/api/reporting.ns", params={**TEST_USER, "generate_report": "SupportSession", "lsid": original[1].full}
            )
        assert f'<session lsid="{original[1].full}">'.encode() in response.content
    finally:
        appliance.close()


def test_the_backup_command_writes_an_encrypted_file_when_asked(
    tmp_path: Path, original: tuple[RunningAppliance, History]
) -> None:
    path = tmp_path / "cli.nsb"
    out = original[0].cli("backup", "--output", str(path), "--password", "cli password", "--json")
    assert json.loads(out)["encrypted"] is True
    assert path.read_bytes().startswith(b"LIFELINE-NSB-ENCRYPTED\n")
    assert restore_backup(Config(data_dir=tmp_path / "restored"), path, password="cli password").rows > 100


def test_requests_to_a_restored_appliance_use_the_restored_accounts(tmp_path: Path, encrypted_backup: Path) -> None:
    appliance = restored(tmp_path, encrypted_backup, "")
    try:
        with appliance.client() as client:
            ok = client.get("/api/command.ns", params={**TEST_USER, "action": "get_api_info"})
            assert b"<api_version>" in ok.content
        assert httpx.get(f"{appliance.http}/check_health").status_code == 200
    finally:
        appliance.close()


def test_replace_puts_a_backup_in_place_of_a_running_appliances_data(
    tmp_path: Path, original_reports: dict[str, bytes], encrypted_backup: Path
) -> None:
    with running_appliance(tmp_path / "running") as appliance:
        personas = provision(appliance)
        appliance.cli("team", "add", "Only Here")
        console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
        printed = appliance.cli("restore", str(encrypted_backup), "--password", PASSWORD, "--replace")
        assert printed.startswith("Replaced the data with a backup made ")
        # The running process notices (its stamps moved): its console is dropped, to reconnect...
        assert console.close_code() == 1012
        # ...and it answers with the backup's data.
        eventually(lambda: same_reports(reports_of(appliance), original_reports))
        teams = appliance.cli_json("team", "list")
        assert "Only Here" not in [team["name"] for team in teams]
        assert list((appliance.data_dir / "tmp").glob("restore-*")) == []


def test_a_staged_backup_nobody_confirmed_is_forgotten_after_an_hour(tmp_path: Path) -> None:
    stale, fresh = stage_folder(tmp_path, "a" * 32), stage_folder(tmp_path, "b" * 32)
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "staged.db").write_bytes(b"the backup's data, in clear")
    an_hour_ago = time.time() - 3601
    os.utime(stale, (an_hour_ago, an_hour_ago))
    forget_stale_stages(tmp_path)
    assert not stale.exists()
    assert fresh.exists()
