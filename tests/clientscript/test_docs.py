"""The Client Scripting API reference covers every action, parameter and limit the code has."""

from __future__ import annotations

from pathlib import Path

from lifeline.api.client_script import ONLY_EXTERNAL_KEY, SCRIPT_CONTENT_TYPE
from lifeline.clientscript import ACTIONS, HEADER, MAX_COMMANDS, MAX_LINE_LENGTH, MAX_SCRIPT_LENGTH, parameters_of

REFERENCE = (Path(__file__).parent.parent.parent / "docs" / "api" / "client_script.md").read_text()


def test_every_action_and_parameter_is_documented_with_its_limit() -> None:
    for action, kind in ACTIONS.items():
        assert f"`{action}`" in REFERENCE
        for parameter in parameters_of(kind):
            assert f"`{parameter.name}`" in REFERENCE
            assert f"| {parameter.max_length}" in REFERENCE


def test_the_format_and_its_limits_are_documented() -> None:
    for fact in (
        HEADER,
        SCRIPT_CONTENT_TYPE,
        ONLY_EXTERNAL_KEY,
        f"{MAX_LINE_LENGTH} characters",
        f"{MAX_SCRIPT_LENGTH:,}",
    ):
        assert fact in REFERENCE, fact
    assert f"At most {MAX_COMMANDS} command lines" in REFERENCE
