"""The Backup API: who may download a backup, and what the .nsb holds."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from lifeline.backup.crypto import MAGIC, decrypt
from lifeline.db.migrate import head_revision
from tests.support.activity import SessionDriver
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.history import History
from tests.support.personas import Personas
from tests.support.reporting import Reporters

# The guide's example, with our credentials.
EXAMPLE = "/api/backup.ns?username=test&password=test-password"


def archive_of(body: bytes) -> zipfile.ZipFile:
    assert body.startswith(b"PK\x03\x04")
    return zipfile.ZipFile(io.BytesIO(body))


def manifest_of(archive: zipfile.ZipFile) -> dict:  # type: ignore[type-arg]
    return json.loads(archive.read("manifest.json"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def backup(client: httpx.Client, reporters: Reporters, history: History) -> httpx.Response:
    response = client.get(EXAMPLE)
    assert response.status_code == 200, response.text[:300]
    return response


def test_the_guides_example_downloads_a_backup_file(backup: httpx.Response) -> None:
    assert backup.headers["content-type"] == "application/octet-stream"
    disposition = backup.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=support.example.com-") and disposition.endswith(".nsb")
    assert "xml" not in backup.headers["content-type"] and "json" not in backup.headers["content-type"]


def test_the_archive_records_version_schema_and_database(appliance: RunningAppliance, backup: httpx.Response) -> None:
    manifest = manifest_of(archive_of(backup.content))
    assert manifest["format"] == "lifeline-backup" and manifest["format_version"] == 1
    assert manifest["schema_revision"] == head_revision()
    assert manifest["database"] == ("postgresql" if appliance.database.server_url else "sqlite")
    assert manifest["lifeline_version"] and manifest["appliance_id"]
    assert manifest["encrypted"] is False


def test_it_holds_configuration_and_logged_data_but_no_recordings(
    backup: httpx.Response, personas: Personas, history: History
) -> None:
    archive = archive_of(backup.content)
    manifest = manifest_of(archive)
    for table in (
        "support_sessions",
        "session_events",
        "survey_responses",
        "users",
        "teams",
        "public_sites",
        "settings",
    ):
        assert manifest["tables"][table] > 0, table
    assert {"nodes", "api_tokens", "change_stamps"}.isdisjoint(manifest["tables"])
    sessions = [json.loads(line) for line in archive.read("tables/support_sessions.jsonl").splitlines()]
    assert {s["lsid"] for s in sessions} >= set(history.all)
    users = {json.loads(line)["username"] for line in archive.read("tables/users.jsonl").splitlines()}
    assert {"admin", "rep_a", "test"} <= users
    assert not [name for name in archive.namelist() if name.endswith((".webm", ".cast"))]
    assert manifest["tables"]["recordings"] > 0  # their rows stay, so reports still list them


def test_only_files_under_200_kb_and_at_most_50(
    appliance: RunningAppliance, client: httpx.Client, node: ConsoleNode, history: History
) -> None:
    driver = SessionDriver(node, node.start_session(), appliance.data_dir)
    driver.take(history.logins.admin)
    driver.send_file("big.iso", b"\x01" * (300 * 1024), by=history.logins.admin, to=None)
    for n in range(55):
        driver.send_file(f"note{n}.txt", f"note {n}\n".encode(), by=history.logins.admin, to=None)
    archive = archive_of(client.get(EXAMPLE).content)
    files = [name for name in archive.namelist() if name.startswith("files/")]
    assert len(files) == 50 == len(manifest_of(archive)["files"])
    assert all(archive.getinfo(name).file_size < 200 * 1024 for name in files)


def test_a_backup_password_encrypts_it(client: httpx.Client, reporters: Reporters) -> None:
    response = client.post(EXAMPLE, json={"password": "correct horse battery staple"})
    assert response.status_code == 200 and response.content.startswith(MAGIC)
    plain = io.BytesIO()
    decrypt(io.BytesIO(response.content), "correct horse battery staple", plain.write)
    assert manifest_of(archive_of(plain.getvalue()))["encrypted"] is True


@pytest.mark.parametrize("path", ["/api/backup", "/api/backup.ns"])
def test_bad_credentials_answer_2xx_with_invalid_credentials(client: httpx.Client, path: str) -> None:
    for params in ({"username": "test", "password": "wrong"}, {"username": "nobody", "password": "x"}, {}):
        response = client.get(path, params=params)
        assert 200 <= response.status_code < 300
        assert b"Invalid credentials" in response.content
        assert not response.content.startswith(b"PK")


def test_only_administrators_and_api_accounts_with_the_backup_permission(
    appliance: RunningAppliance, client: httpx.Client, personas: Personas, reporters: Reporters
) -> None:
    for user in (personas.rep_a, personas.api_user, reporters.everything):
        assert b"Invalid credentials" in client.get("/api/backup", params=user.params).content
    no_backup = personas.integration.token(client)
    assert b"Invalid credentials" in client.get("/api/backup", headers={"Authorization": f"Bearer {no_backup}"}).content
    record = appliance.cli_json("api-account", "add", "backups", "--backup")
    token = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(record["client_id"], record["client_secret"])
    ).json()["access_token"]
    response = client.get("/api/backup", headers={"Authorization": f"Bearer {token}"})
    assert response.content.startswith(b"PK\x03\x04")


def test_a_bad_password_body_is_an_error(client: httpx.Client) -> None:
    response = client.post(EXAMPLE, json={"password": 42})
    assert b"<error" in response.content and b"JSON like" in response.content
    nested = client.post(EXAMPLE, content=b"[" * 5000, headers={"content-type": "application/json"})
    assert nested.status_code == 200 and b"JSON like" in nested.content
