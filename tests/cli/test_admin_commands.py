"""The `lifeline` commands that match the admin interface's changes: unlock, team, site,
API account, custom attribute and survey edits."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifeline.cli import main as cli_main
from tests.support.appliance import ScratchDatabase


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    database = ScratchDatabase(tmp_path)
    if database.url:
        # monkeypatch puts the server's URL back afterwards: later tests make their own
        # databases on it.
        monkeypatch.setenv("DATABASE_URL", database.url)
    cli_main(["init", "--data-dir", str(tmp_path / "data")])
    yield tmp_path / "data"
    database.drop()


def lifeline(data_dir: Path, *args: str) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli_main([*args, "--data-dir", str(data_dir), "--json"])
    return json.loads(out.getvalue())


def failure(data_dir: Path, *args: str) -> str:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        cli_main([*args, "--data-dir", str(data_dir)])
    return err.getvalue()


def test_a_user_is_unlocked_and_flagged_to_change_their_password(data_dir: Path) -> None:
    lifeline(data_dir, "user", "add", "alice.b", "--password", "alice-password", "--must-change-password")
    record = lifeline(data_dir, "user", "unlock", "alice.b")
    assert (record["locked_until"], record["must_change_password"]) == (None, True)
    record = lifeline(data_dir, "user", "set", "alice.b", "--password", "new-alice-password")
    assert record["must_change_password"] is False
    assert "must not be the username" in failure(data_dir, "user", "set", "alice.b", "--password", "ALICE.B ")


def test_a_team_is_renamed_made_an_embassy_and_loses_an_issue(data_dir: Path) -> None:
    team = lifeline(data_dir, "team", "add", "Desk", "--issue", "Printer", "--issue", "VPN")
    assert [i["code_name"] for i in team["issues"]] == ["printer", "vpn"]
    team = lifeline(data_dir, "team", "set", "Desk", "--rename", "Partners", "--embassy", "--remove-issue", "vpn")
    assert (team["name"], team["embassy"], [i["title"] for i in team["issues"]]) == ("Partners", True, ["Printer"])
    assert "no issue with the code name" in failure(data_dir, "team", "set", "Partners", "--remove-issue", "vpn")


def test_a_site_changes_flags_and_hostnames(data_dir: Path) -> None:
    site = lifeline(data_dir, "site", "add", "partner.example.org", "--name", "Partners")
    lifeline(data_dir, "site", "add", "help.example.org", "--site", str(site["id"]))
    changed = lifeline(
        data_dir,
        "site",
        "set",
        str(site["id"]),
        "--no-general-queue-open",
        "--reps-in-issue-menu",
        "--primary",
        "help.example.org",
        "--remove-hostname",
        "partner.example.org",
    )
    assert changed["hostnames"] == ["help.example.org"]
    assert (changed["general_queue_open"], changed["show_reps_in_issue_menu"]) == (False, True)


def test_an_api_account_is_changed_and_disabled(data_dir: Path) -> None:
    lifeline(data_dir, "api-account", "add", "ticketing", "--command", "full")
    changed = lifeline(data_dir, "api-account", "set", "ticketing", "--command", "read_only", "--no-enabled")
    assert (changed["command"], changed["enabled"]) == ("read_only", False)


def test_custom_attributes_are_listed_renamed_and_removed(data_dir: Path) -> None:
    lifeline(data_dir, "custom-attribute", "add", "ticket", "Ticket")
    lifeline(data_dir, "custom-attribute", "add", "asset", "Asset")
    lifeline(data_dir, "custom-attribute", "set", "ticket", "Ticket number")
    lifeline(data_dir, "custom-attribute", "remove", "asset")
    assert lifeline(data_dir, "custom-attribute", "list") == [
        {"id": 1, "code_name": "ticket", "display_name": "Ticket number"}
    ]


def test_survey_questions_are_edited_moved_and_disabled(data_dir: Path) -> None:
    first = lifeline(data_dir, "survey", "add", "customer", "--name", "a", "--label", "A?", "--type", "text")
    second = lifeline(
        data_dir, "survey", "add", "customer", "--name", "b", "--label", "B?", "--type", "radio", "--option", "x"
    )
    lifeline(
        data_dir,
        "survey",
        "set",
        str(second["id"]),
        "--name",
        "rating",
        "--label",
        "How did we do?",
        "--type",
        "select",
        "--option",
        "Great",
        "--option",
        "Poor",
    )
    lifeline(data_dir, "survey", "move", str(second["id"]), "-1")
    lifeline(data_dir, "survey", "disable", str(first["id"]))
    listed = lifeline(data_dir, "survey", "list")
    assert [(q["name"], q["type"], q["options"], q["enabled"]) for q in listed] == [
        ("rating", "select", ["Great", "Poor"], True),
        ("a", "text", [], False),
    ]
