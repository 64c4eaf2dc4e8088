"""The `lifeline` command as scripts use it: provisioning, JSON output, one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.appliance import ScratchDatabase


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lifeline", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    database = ScratchDatabase(tmp_path)
    if database.url:
        # monkeypatch puts the server's URL back afterwards: later tests make their own
        # databases on it.
        monkeypatch.setenv("DATABASE_URL", database.url)
    yield tmp_path / "data"
    database.drop()


def test_init_creates_the_data_directory_and_prints_a_generated_admin_password_once(data_dir: Path) -> None:
    first = run(data_dir, "init", env={"LIFELINE_ADMIN_PASSWORD": ""})
    assert first.returncode == 0, first.stderr
    assert "Created the admin account: admin / " in first.stdout
    assert (data_dir / "lifeline.db").exists() or os.environ.get("DATABASE_URL")
    assert oct((data_dir).stat().st_mode)[-3:] == "700"
    second = run(data_dir, "init")
    assert "admin /" not in second.stdout + second.stderr


def test_a_whole_help_desk_is_provisioned_with_json_answers(data_dir: Path) -> None:
    run(data_dir, "init")
    user = json.loads(
        run(
            data_dir,
            "user",
            "add",
            "alice",
            "--password",
            "alice-password",
            "--support",
            "--command-api",
            "--view-reports",
            "team_sessions",
            "--json",
        ).stdout
    )
    assert user["username"] == "alice"
    assert user["perm_sd_allowed"] is True
    assert user["perm_view_reports"] == "team_sessions"
    team = json.loads(
        run(data_dir, "team", "add", "Helpdesk", "--member", "alice", "--issue", "Printer", "--json").stdout
    )
    assert team["members"] == ["alice"]
    assert team["issues"][0]["code_name"] == "printer"
    account = json.loads(run(data_dir, "api-account", "add", "ticketing", "--command", "full", "--json").stdout)
    assert len(account["client_id"]) == 40
    assert len(account["client_secret"]) > 30
    site = json.loads(run(data_dir, "site", "add", "help.example.net", "--json").stdout)
    assert site["hostnames"] == ["help.example.net"]
    setting = json.loads(run(data_dir, "settings", "set", "session_key_max_ttl", "3600", "--json").stdout)
    assert setting == {"session_key_max_ttl": 3600}
    listed = json.loads(run(data_dir, "user", "list", "--json").stdout)
    assert [u["username"] for u in listed] == ["admin", "alice"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("user", "add", "bad name", "--password", "long-enough"), "a username is 1 to 64"),
        (("user", "add", "shorty", "--password", "short"), "at least 8 characters"),
        (("user", "set", "ghost", "--support"), "no user named 'ghost'"),
        (("team", "add", "T", "--member", "ghost"), "no user named 'ghost'"),
        (("site", "add", "not a host"), "is not a valid hostname"),
        (("settings", "set", "session_key_max_ttl", "soon"), "expected an integer"),
        (("settings", "set", "timezone", "Mars/Olympus"), "unknown time zone"),
        (("api-account", "new-secret", "ghost"), "no API account named 'ghost'"),
    ],
)
def test_bad_input_fails_with_one_line_and_a_nonzero_status(data_dir: Path, args: tuple[str, ...], reason: str) -> None:
    run(data_dir, "init")
    result = run(data_dir, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert reason in lines[0]
    assert "Traceback" not in result.stderr


def test_a_duplicate_is_refused_and_changes_nothing(data_dir: Path) -> None:
    run(data_dir, "init")
    assert run(data_dir, "user", "add", "bob", "--password", "bob-password").returncode == 0
    again = run(data_dir, "user", "add", "BOB", "--password", "bob-password")
    assert again.returncode == 1
    assert "already exists" in again.stderr
