"""Client scripts without a server: writing them, reading them back, and every limit."""

from __future__ import annotations

import pytest

from lifeline.clientscript import (
    COMMANDS,
    HEADER,
    MAX_COMMANDS,
    MAX_LINE_LENGTH,
    MAX_SCRIPT_LENGTH,
    GenerateSessionKey,
    Login,
    PushAndStartLocal,
    Script,
    ScriptError,
    StartPinnedClientSession,
    command_from_parameters,
    command_line,
    file_name,
    parameters_of,
    parse_command,
    parse_script,
    script_for,
    site_token,
)

LOGIN = "action=login&hostname=support.example.com"


def script_text(*lines: str) -> str:
    return "\n".join([HEADER, LOGIN, *lines])


# --- writing -----------------------------------------------------------------------------------


def test_a_script_is_the_header_a_login_and_its_commands_without_a_final_newline() -> None:
    script = script_for("support.example.com", StartPinnedClientSession(search_string="ABCDEFGH02"))
    assert script.text() == (
        "BRCS1.0\naction=login&hostname=support.example.com\naction=start_pinned_client_session&search_string=ABCDEFGH02"
    )


def test_values_are_percent_encoded_as_rfc_3986_says() -> None:
    command = StartPinnedClientSession(search_string="Example Co+/&=?%~-._é€😀")
    assert command_line(command) == (
        "action=start_pinned_client_session&search_string=Example%20Co%2B%2F%26%3D%3F%25~-._%C3%A9%E2%82%AC%F0%9F%98%80"
    )


def test_parameters_come_in_their_declared_order_and_absent_ones_are_left_out() -> None:
    command = StartPinnedClientSession(external_key="BMC0000001275", client_hostname="pc1", search_string="x")
    assert command_line(command) == (
        "action=start_pinned_client_session&search_string=x&client.hostname=pc1&session.custom.external_key=BMC0000001275"
    )
    assert command_line(GenerateSessionKey()) == "action=generate_session_key"


def test_an_empty_optional_parameter_is_an_absent_one() -> None:
    assert GenerateSessionKey(external_key="", public_portal_hostname="") == GenerateSessionKey()


@pytest.mark.parametrize(
    ("kind", "name", "limit"),
    [(kind, parameter.name, parameter.max_length) for kind in COMMANDS.values() for parameter in parameters_of(kind)],
)
def test_every_parameter_has_its_limit(kind: type, name: str, limit: int) -> None:
    base = {"search_string": "x", "hostname": "x"}
    at_limit = command_from_parameters(kind, {**base, name: "é" * limit})
    assert parse_command(command_line(at_limit)) == at_limit
    with pytest.raises(ScriptError) as error:
        command_from_parameters(kind, {**base, name: "a" * (limit + 1)})
    assert error.value.message == f"The parameter {name} is longer than {limit} characters."


def test_the_limits_are_those_of_the_guide_and_later_versions() -> None:
    limits = {kind.action: {p.name: p.max_length for p in parameters_of(kind)} for kind in COMMANDS.values()}
    assert limits == {
        "login": {"hostname": 255},
        "start_pinned_client_session": {
            "search_string": 1024,
            "client.comments": 255,
            "client.hostname": 255,
            "client.private_ip": 255,
            "client.public_ip": 255,
            "client.tag": 255,
            "session.custom.external_key": 1024,
        },
        "generate_session_key": {"session.custom.external_key": 1024, "public_portal_hostname": 255},
        "push_and_start_local": {"hostname": 255, "session.custom.external_key": 1024},
    }


def test_the_longest_command_fits_on_a_line() -> None:
    widest = "\U0001f600"  # four UTF-8 bytes, twelve characters once encoded
    for kind in COMMANDS.values():
        values = {p.name: widest * p.max_length for p in parameters_of(kind)}
        assert len(command_line(command_from_parameters(kind, values))) < MAX_LINE_LENGTH


def test_required_parameters() -> None:
    with pytest.raises(ScriptError, match=r"^The required parameter hostname is missing\.$"):
        PushAndStartLocal(hostname="")
    with pytest.raises(ScriptError, match=r"^The required parameter search_string is missing\.$"):
        StartPinnedClientSession(external_key="BMC0000001275")
    with pytest.raises(ScriptError, match=r"^The required parameter hostname is missing\.$"):
        Login(hostname="")
    assert GenerateSessionKey().external_key is None


@pytest.mark.parametrize(
    "field", ["client.hostname", "client.comments", "client.private_ip", "client.public_ip", "client.tag"]
)
def test_a_later_search_field_stands_in_for_search_string(field: str) -> None:
    command = command_from_parameters(StartPinnedClientSession, {field: "ABCDEFGH02"})
    assert command.search_string is None
    assert command.search() == {field: "ABCDEFGH02"}
    assert parse_command(command_line(command)) == command


@pytest.mark.parametrize("value", ["a\x00b", "\x1b[31m", "\ufffe", "\ud800"])
def test_characters_xml_cannot_carry_are_refused(value: str) -> None:
    with pytest.raises(ScriptError, match="contains characters that are not allowed"):
        PushAndStartLocal(hostname=value)


def test_tabs_and_newlines_are_encoded_and_kept() -> None:
    command = StartPinnedClientSession(search_string="a\tb\r\nc")
    assert "%09" in command_line(command) and "%0D%0A" in command_line(command)
    assert parse_command(command_line(command)) == command


def test_a_script_holds_at_most_ten_commands_login_included() -> None:
    nine = [GenerateSessionKey()] * (MAX_COMMANDS - 1)
    script = script_for("support.example.com", *nine)
    assert len(script.text().split("\n")) == 1 + MAX_COMMANDS
    with pytest.raises(ScriptError, match="at most 10 commands"):
        script_for("support.example.com", *nine, GenerateSessionKey())
    with pytest.raises(ScriptError):
        script_for("support.example.com")


# --- file names -------------------------------------------------------------------------------


def test_the_file_is_named_after_the_action_with_the_site_in_its_extension() -> None:
    command = GenerateSessionKey()
    assert file_name(command, "support.example.com") == "generate_session_key.brcs-support-example-com"
    assert file_name(command, "Remote.Example.COM.") == "generate_session_key.brcs-remote-example-com"


def test_the_site_token_is_always_a_safe_word() -> None:
    assert site_token("my-support.example.com") == "my-support-example-com"
    assert site_token("...") == "lifeline"
    assert site_token("a" * 300) == "a" * 63
    assert site_token('x";\r\n y') == "x-y"


# --- reading ----------------------------------------------------------------------------------


def test_a_script_reads_back_to_its_commands() -> None:
    script = script_for(
        "support.example.com",
        StartPinnedClientSession(search_string="192.168.9.14", external_key="BMC0000001275"),
        GenerateSessionKey(public_portal_hostname="support.example.com"),
        PushAndStartLocal(hostname="ABCDEFGH02"),
    )
    assert parse_script(script.text()) == script
    assert parse_script(script.text().encode()) == script
    assert parse_script(script.text()).login.hostname == "support.example.com"


def test_crlf_newlines_a_final_newline_and_a_byte_order_mark_are_accepted() -> None:
    text = script_text("action=generate_session_key")
    expected = parse_script(text)
    assert parse_script(text.replace("\n", "\r\n") + "\r\n") == expected
    assert parse_script("\ufeff" + text + "\n") == expected
    assert parse_script(b"\xef\xbb\xbf" + text.encode()) == expected


def test_plus_is_a_plus_sign_and_hex_digits_may_be_lower_case() -> None:
    script = parse_script(script_text("action=start_pinned_client_session&search_string=Example+Co%c3%a9"))
    assert script.commands == (StartPinnedClientSession(search_string="Example+Coé"),)


def test_encoded_names_are_decoded_too() -> None:
    script = parse_script(script_text("action=generate_session_key&session%2Ecustom%2Eexternal_key=A%201"))
    assert script.commands == (GenerateSessionKey(external_key="A 1"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This is not a client script: its first line must be BRCS1.0."),
        ("hello\nworld", "This is not a client script: its first line must be BRCS1.0."),
        ("brcs1.0\n" + LOGIN, "This is not a client script: its first line must be BRCS1.0."),
        ("BRCS2.0\n" + LOGIN, "This script is in version 2.0 of the format; only BRCS1.0 can be read."),
        (HEADER, "This client script has no commands."),
        (HEADER + "\n" + LOGIN, "This client script has a login command and nothing to do."),
        (HEADER + "\naction=generate_session_key", "Line 2: a client script starts with a login command."),
        (script_text(LOGIN), "Line 3: login may only be the first command."),
        (script_text("", ""), "Line 3: A command line is empty."),
        (script_text("", "action=generate_session_key"), "Line 3: A command line is empty."),
        (script_text("action=start_jump_item_session"), "Line 3: Unknown action 'start_jump_item_session'."),
        (script_text("hostname=x&action=push_and_start_local"), "Line 3: A command must start with action=."),
        (script_text("action=push_and_start_local&hostname"), "Line 3: Each part of a command must be name=value."),
        (
            script_text("action=push_and_start_local&hostname=a&hostname=b"),
            "Line 3: The parameter hostname is given twice.",
        ),
        (
            script_text("action=push_and_start_local&hostname=a&shell=rm%20-rf"),
            "Line 3: push_and_start_local has no parameter 'shell'.",
        ),
        (
            script_text("action=push_and_start_local&hostname=a b"),
            "Line 3: A command line holds a character that should have been percent-encoded.",
        ),
        (
            script_text("action=push_and_start_local&hostname=café"),
            "Line 3: A command line holds a character that should have been percent-encoded.",
        ),
        (
            script_text("action=push_and_start_local&hostname=a\rb"),
            "Line 3: A command line holds a character that should have been percent-encoded.",
        ),
        (
            script_text("action=push_and_start_local&hostname=100%"),
            "Line 3: A % sign does not start a percent-encoded byte (%XX).",
        ),
        (
            script_text("action=push_and_start_local&hostname=%zz"),
            "Line 3: A % sign does not start a percent-encoded byte (%XX).",
        ),
        (
            script_text("action=push_and_start_local&hostname=%FF"),
            "Line 3: A percent-encoded value is not UTF-8 text.",
        ),
        (
            script_text("action=push_and_start_local&hostname=%00"),
            "Line 3: The parameter hostname contains characters that are not allowed.",
        ),
        (script_text("action=push_and_start_local"), "Line 3: The required parameter hostname is missing."),
        (script_text("action=push_and_start_local&hostname="), "Line 3: The required parameter hostname is missing."),
        (
            script_text("action=start_pinned_client_session&session.custom.external_key=1"),
            "Line 3: The required parameter search_string is missing.",
        ),
        (
            script_text("action=generate_session_key&public_portal_hostname=" + "a" * 256),
            "Line 3: The parameter public_portal_hostname is longer than 255 characters.",
        ),
        (
            HEADER + "\naction=login&hostname=" + "h" * 256 + "\naction=generate_session_key",
            "Line 2: The parameter hostname is longer than 255 characters.",
        ),
        (
            script_text(*["action=generate_session_key"] * MAX_COMMANDS),
            "A client script has at most 10 commands; this one has 11.",
        ),
    ],
)
def test_a_bad_script_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ScriptError) as error:
        parse_script(text)
    assert error.value.message == message
    assert str(error.value) == message


def test_a_long_unknown_name_is_shortened_in_the_message() -> None:
    with pytest.raises(ScriptError) as error:
        parse_script(script_text("action=" + "x" * 5000))
    assert error.value.message == "Line 3: Unknown action '" + "x" * 40 + "...'."


def test_an_over_long_line_is_refused_before_it_is_decoded() -> None:
    line = "action=push_and_start_local&hostname=" + "%41" * MAX_LINE_LENGTH
    with pytest.raises(ScriptError, match=f"^Line 3: A command line is longer than {MAX_LINE_LENGTH} characters.$"):
        parse_script(script_text(line))


def test_an_over_large_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(ScriptError, match="too large"):
        parse_script(b"BRCS1.0\n" + b"a" * MAX_SCRIPT_LENGTH)


def test_bytes_that_are_not_text_are_refused() -> None:
    with pytest.raises(ScriptError, match=r"^This is not a client script: it is not text\.$"):
        parse_script(b"BRCS1.0\n\xff\xfe")


def test_a_script_built_directly_is_checked_too() -> None:
    with pytest.raises(ScriptError):
        Script(Login(hostname="x"), ())
