"""How the `lifeline` command fails: one line on standard error and status 1 whatever went
wrong (a usage error, an unusable data directory, a database that refuses), never a
traceback nor a secret; and only `serve`, `init` and `restore` make a new appliance."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from lifeline.config import normalize_database_url
from tests.support.appliance import ScratchDatabase


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lifeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LIFELINE_ADMIN_PASSWORD": "first-admin-password", **(env or {})},
        timeout=60,
    )


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lifeline: error: ")
    return lines[0]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScratchDatabase]:
    database = ScratchDatabase(tmp_path)
    if database.url:
        monkeypatch.setenv("DATABASE_URL", database.url)
    yield database
    database.drop()


@pytest.fixture
def appliance_dir(tmp_path: Path, scratch: ScratchDatabase) -> Path:
    data_dir = tmp_path / "data"
    assert run("init", "--data-dir", str(data_dir)).returncode == 0
    return data_dir


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("user", "add"), "the following arguments are required: username, --password"),
        (("user", "add", "bob"), "the following arguments are required: --password"),
        (("settings", "get", "no_such_setting"), "invalid choice: 'no_such_setting'"),
        (("serve", "--https-port", "99999"), "99999 is not a port number"),
        (("no-such-command",), "invalid choice: 'no-such-command'"),
        ((), "the following arguments are required: COMMAND"),
    ],
)
def test_a_usage_error_is_one_line_and_status_1(tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    line = one_line_failure(run(*args, env={"LIFELINE_DATA_DIR": str(tmp_path / "data")}))
    assert reason in line
    assert "--help" in line
    assert not (tmp_path / "data").exists()


def test_help_is_still_help() -> None:
    result = run("user", "add", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: lifeline user add")


@pytest.mark.parametrize(
    "args",
    [("init",), ("serve",), ("user", "list"), ("user", "add", "bob", "--password", "bob-password"), ("backup",)],
)
def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    a_file = tmp_path / "lifeline"
    a_file.write_text("not a directory")
    line = one_line_failure(run(*args, "--data-dir", str(a_file), env={"DATABASE_URL": ""}))
    assert f"the data directory {a_file} is a file, not a directory" in line


@pytest.mark.parametrize("args", [("init",), ("serve",)])
def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a-file").write_text("")
    line = one_line_failure(run(*args, "--data-dir", str(tmp_path / "a-file" / "data"), env={"DATABASE_URL": ""}))
    assert "cannot create the appliance's data in" in line
    assert "Not a directory" in line


def test_a_restore_into_a_data_dir_that_cannot_be_made_is_one_line(tmp_path: Path, appliance_dir: Path) -> None:
    backup = tmp_path / "support.nsb"
    assert run("backup", "--output", str(backup), "--data-dir", str(appliance_dir)).returncode == 0
    (tmp_path / "a-file").write_text("")
    line = one_line_failure(run("restore", str(backup), "--data-dir", str(tmp_path / "a-file" / "data")))
    assert "Not a directory" in line


def test_a_database_that_refuses_a_new_user_shows_no_hash(appliance_dir: Path, scratch: ScratchDatabase) -> None:
    """As a read-only data directory does: SQLAlchemy's text of the error quotes the INSERT's
    parameters, the new user's argon2 hash among them."""
    url = normalize_database_url(scratch.url) if scratch.url else f"sqlite:///{appliance_dir / 'lifeline.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        if scratch.url:
            conn.execute(text("ALTER TABLE users ADD CONSTRAINT no_carol CHECK (username <> 'carol')"))
        else:
            conn.execute(
                text("CREATE TRIGGER no_carol BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'no carol'); END")
            )
    engine.dispose()
    result = run("user", "add", "carol", "--password", "carols-password", "--data-dir", str(appliance_dir))
    line = one_line_failure(result)
    assert "the database refused" in line
    assert "argon2" not in result.stderr + result.stdout
    assert "carols-password" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("user", "list"),
        ("user", "add", "bob", "--password", "bob-password"),
        ("settings", "list"),
        ("team", "add", "Desk"),
        ("api-account", "list"),
        ("backup", "--output", "-"),
        ("restore", "--replace", "support.nsb"),
    ],
)
def test_only_serve_init_and_restore_make_an_appliance(
    tmp_path: Path, scratch: ScratchDatabase, args: tuple[str, ...]
) -> None:
    mistyped = tmp_path / "mistyped"
    result = run(*args, "--data-dir", str(mistyped))
    line = one_line_failure(result)
    assert "no appliance in" in line
    assert "lifeline init" in line
    assert "admin" not in result.stdout + result.stderr
    assert not mistyped.exists()
    if scratch.url:
        engine = create_engine(normalize_database_url(scratch.url))
        assert inspect(engine).get_table_names() == []
        engine.dispose()


def test_restore_makes_the_data_directory_and_database_private(tmp_path: Path, appliance_dir: Path) -> None:
    backup = tmp_path / "support.nsb"
    assert run("backup", "--output", str(backup), "--data-dir", str(appliance_dir)).returncode == 0
    restored = tmp_path / "new" / "data"
    result = run("restore", str(backup), "--data-dir", str(restored), env={"DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert oct(restored.stat().st_mode)[-3:] == "700"
    assert oct((restored / "lifeline.db").stat().st_mode)[-3:] == "600"


def test_a_backup_into_a_missing_folder_is_refused_not_made(tmp_path: Path, appliance_dir: Path) -> None:
    output = tmp_path / "backups" / "typo" / "support.nsb"
    line = one_line_failure(run("backup", "--output", str(output), "--data-dir", str(appliance_dir)))
    assert f"the folder {output.parent} does not exist" in line
    assert not (tmp_path / "backups").exists()


def test_settings_are_shown_as_they_are_written(appliance_dir: Path) -> None:
    assert run("settings", "set", "xml_api_allow_http", "true", "--data-dir", str(appliance_dir)).returncode == 0
    got = run("settings", "get", "xml_api_allow_http", "--data-dir", str(appliance_dir))
    assert got.stdout == "true\n"
    listed = run("settings", "list", "--data-dir", str(appliance_dir)).stdout.splitlines()
    assert "xml_api_allow_http = true" in listed
    assert "xml_api_enabled = true" in listed
    assert "login_lockout_minutes = 15" in listed
    assert "backup_schedule_password = (not set)" in listed
    assert not [line for line in listed if "True" in line or "False" in line or "'" in line]


def test_a_reader_that_goes_away_ends_the_command_quietly(appliance_dir: Path) -> None:
    """`lifeline user list --json | head -1`: the pipe is closed before the command writes."""
    command = subprocess.Popen(
        [sys.executable, "-m", "lifeline", "user", "list", "--json", "--data-dir", str(appliance_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()
    status = command.wait(timeout=60)
    assert command.stderr.read() == b""
    command.stderr.close()
    assert status == 141  # as a Unix tool killed by SIGPIPE
