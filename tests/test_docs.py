"""The reference in docs/ covers what the appliance has."""

from __future__ import annotations

from pathlib import Path

from lifeline.api.command import ACTIONS
from lifeline.api.reporting import REPORTS
from lifeline.api.start.launchers import MAC_APP, MAC_EXECUTABLE, Platform, launcher_for
from lifeline.appliance.settings import SETTINGS
from lifeline.config import LIMIT_VARIABLES

DOCS = Path(__file__).parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    assert [key for key in SETTINGS if f"`{key}`" not in text] == []


def test_every_command_api_action_is_documented() -> None:
    text = (DOCS / "api" / "command.md").read_text()
    missing = [name for name in ACTIONS if f"### {name}" not in text and f"/ {name}" not in text]
    assert missing == []


def test_every_report_is_documented() -> None:
    text = (DOCS / "api" / "reporting.md").read_text()
    missing = [
        name for name in REPORTS if f"## {name}" not in text and f" {name} (`" not in text and f"`{name}`" not in text
    ]
    assert missing == []
    for name in REPORTS:
        assert f"`{name}`" in text, name


def test_the_backup_reference_covers_the_api_the_archive_and_restore() -> None:
    text = (DOCS / "api" / "backup.md").read_text()
    for needed in ("/api/backup.ns", "Invalid credentials", "manifest.json", "lifeline restore", "200 KB"):
        assert needed in text, needed


def test_the_session_generation_reference_names_every_launcher() -> None:
    text = (DOCS / "api" / "start_session.md").read_text()
    url = "https://support.example.com/chat/" + "t" * 43
    for platform in Platform:
        launcher = launcher_for(platform, url, "1234567")
        for needed in (launcher.file_name.replace("1234567", "<tag>"), launcher.content_type):
            assert f"`{needed}`" in text, needed
    for needed in ("winNT-32", "winNT-64", MAC_APP, MAC_EXECUTABLE, "HEAD", "text/html"):
        assert needed in text, needed


def test_every_limit_is_documented_by_its_variable() -> None:
    text = (DOCS / "install.md").read_text()
    assert [variable for variable, _, _ in LIMIT_VARIABLES.values() if f"`{variable}`" not in text] == []
