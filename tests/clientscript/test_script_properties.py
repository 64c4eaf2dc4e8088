"""Properties of client scripts for any input: what is written reads back the same, and what
is read is either a script or a ScriptError, never anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from lifeline.clientscript import (
    ACTIONS,
    COMMANDS,
    HEADER,
    ScriptError,
    command_from_parameters,
    command_line,
    parameters_of,
    parse_command,
    parse_script,
    script_for,
)

NAMES = sorted({p.name for kind in COMMANDS.values() for p in parameters_of(kind)})
values = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=1030),
    st.sampled_from(["", " ", "+", "%", "%41", "&", "=", "\n", "\x00", "\ufffe", "BRCS1.0", "action=login"]),
)
parameter_maps = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), values, max_size=8)
PROPERTIES = settings(max_examples=300, deadline=None)
T = TypeVar("T")


def attempt(make: Callable[[], T]) -> T | ScriptError:
    """What `make` returns, or the ScriptError it raises (any other exception fails the test)."""
    try:
        return make()
    except ScriptError as error:
        return error


@PROPERTIES
@given(action=st.sampled_from(sorted(ACTIONS)), parameters=parameter_maps, hostname=values)
def test_any_parameters_make_a_script_that_reads_back_the_same_or_a_script_error(
    action: str, parameters: dict[str, str], hostname: str
) -> None:
    script = attempt(lambda: script_for(hostname, command_from_parameters(ACTIONS[action], parameters)))
    if isinstance(script, ScriptError):
        assert script.message
        return
    text = script.text()
    assert text.isascii()
    assert all(line and " " not in line for line in text.split("\n"))
    assert parse_script(text) == script
    assert parse_script(text.replace("\n", "\r\n").encode()) == script


@PROPERTIES
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_anything_read_is_a_script_or_a_script_error(data: bytes | str) -> None:
    read = attempt(lambda: parse_script(data))
    if isinstance(read, ScriptError):
        assert read.message


@PROPERTIES
@given(
    lines=st.lists(
        st.one_of(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.=&%0123456789ABCDEF+~-", max_size=60),
            st.sampled_from(
                [
                    "action=login&hostname=x",
                    "action=generate_session_key",
                    "action=push_and_start_local&hostname=%41",
                    "action=start_pinned_client_session&client.tag=t",
                ]
            ),
        ),
        max_size=12,
    )
)
def test_any_command_lines_read_as_a_script_or_a_script_error(lines: list[str]) -> None:
    script = attempt(lambda: parse_script("\n".join([HEADER, *lines])))
    if isinstance(script, ScriptError):
        assert script.message
        return
    # What was read is written back to lines that read the same.
    for command in script.commands:
        assert parse_command(command_line(command)) == command
