"""docs/realtime.md cannot drift from the protocol's declarations (lifeline_protocol): every
message type and each of its fields is in the page's tables, every type the page lists is
declared, the close code table is the CloseCode enum, and the limits the appliance keeps
are the ones the protocol declares."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import msgspec
from lifeline_protocol import VERSION, CloseCode, attendee, client, console, customer, jump
from lifeline_protocol.common import MAX_CHAT, MAX_ID, MAX_NOTE, EventRecord, Request, Who

from lifeline.db import base
from lifeline.sessions import activity

DOC = (Path(__file__).resolve().parents[2] / "docs" / "realtime.md").read_text()
DECLARED: list[type[msgspec.Struct]] = [
    member
    for union in (
        console.Hello,
        console.ConsoleRequest,
        console.ToConsole,
        customer.Hello,
        customer.CustomerRequest,
        customer.ToCustomer,
        client.Hello,
        client.FromClient,
        client.ToClient,
        attendee.Hello,
        attendee.AttendeeRequest,
        attendee.ToAttendee,
        jump.FromJumpClient,
        jump.ToJumpClient,
    )
    for member in typing.get_args(union) or (union,)
]


def documented() -> dict[str, set[str]]:
    """Each message type in the page's tables -> the words its rows name in backticks."""
    rows: dict[str, set[str]] = {}
    for line in DOC.splitlines():
        cells = line.split("|")[1:-1]
        types = re.findall(r"`(\w+)`", cells[0]) if cells else []
        if not types or types[0].isdigit():
            continue
        words = {
            word for quoted in re.findall(r"`([^`]*)`", "|".join(cells[1:])) for word in re.findall(r"\w+", quoted)
        }
        for kind in types:
            rows.setdefault(kind, set()).update(words)
    return rows


def tag(message: type[msgspec.Struct]) -> str:
    return str(message.__struct_config__.tag)


def test_every_declared_message_and_field_is_in_the_page() -> None:
    rows = documented()
    for message in DECLARED:
        assert tag(message) in rows, f"docs/realtime.md has no row for {tag(message)!r}"
        fields = set(message.__struct_fields__) - ({"ref"} if issubclass(message, Request) else set())
        missing = fields - rows[tag(message)]
        assert not missing, f"docs/realtime.md does not name {sorted(missing)} of {tag(message)!r}"


def test_the_records_inside_messages_are_in_the_page() -> None:
    rows = documented()
    for kind, record in (("event", EventRecord), ("typing", Who)):
        missing = set(record.__struct_fields__) - rows[kind]
        assert not missing, f"docs/realtime.md does not name {sorted(missing)} in {kind!r}"


def test_every_type_in_the_page_is_declared() -> None:
    assert set(documented()) == {tag(message) for message in DECLARED}


def test_the_close_code_table_is_the_enum() -> None:
    table = DOC.split("## Close codes", 1)[1].split("\n## ", 1)[0]
    codes = {
        int(code)
        for line in table.splitlines()
        if line.startswith("| ")
        for code in re.findall(r"\b\d{4}\b", line.split("|")[1])
    }
    assert codes == {int(code) for code in CloseCode}


def test_the_reference_client_says_the_protocols_version() -> None:
    common_js = (Path(__file__).resolve().parents[2] / "lifeline" / "web" / "static" / "common.js").read_text()
    assert f"const PROTOCOL_VERSION = {VERSION};" in common_js


def test_the_appliance_keeps_the_protocols_limits() -> None:
    assert (MAX_CHAT, MAX_NOTE, MAX_ID) == (activity.MAX_CHAT_LENGTH, activity.MAX_NOTE_LENGTH, base.MAX_ID)
