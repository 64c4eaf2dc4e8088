"""The reference in docs/ covers what the appliance has."""

from __future__ import annotations

from pathlib import Path

from lifeline.api.command import ACTIONS
from lifeline.appliance.settings import SETTINGS

DOCS = Path(__file__).parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    assert [key for key in SETTINGS if f"`{key}`" not in text] == []


def test_every_command_api_action_is_documented() -> None:
    text = (DOCS / "api" / "command.md").read_text()
    missing = [name for name in ACTIONS if f"### {name}" not in text and f"/ {name}" not in text]
    assert missing == []
