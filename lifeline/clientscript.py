"""Representative console scripts (BRCS files): their commands, their text, and a strict reader.

The Client Scripting API writes these files; the representative console reads them with
`parse_script`. Nothing here knows about HTTP.

    BRCS1.0
    action=login&hostname=support.example.com
    action=start_pinned_client_session&search_string=Example%20Co

The first line is the header; then at most 10 command lines, the first of them a `login`
command naming the site the script was made for. Names and values are percent-encoded as
RFC 3986 section 2.1 says (everything but its unreserved characters), so `+` is a plus sign.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, unquote

from lifeline.text import is_xml_safe

HEADER = "BRCS1.0"
MAX_COMMANDS = 10  # command lines, the login command included
# Longer than the longest command the declared limits allow (every character encoded as
# four UTF-8 bytes, three characters each), so only a hand-made line can exceed it.
MAX_LINE_LENGTH = 64 * 1024
MAX_SCRIPT_LENGTH = len(HEADER) + MAX_COMMANDS * (MAX_LINE_LENGTH + 2) + 2
NEWLINE = "\n"
FILE_EXTENSION_PREFIX = "brcs-"

UNRESERVED = "-._~"  # with letters and digits: what RFC 3986 leaves unencoded
# Raw characters a command line may hold: RFC 3986 unreserved and reserved characters, and `%`.
_LINE_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HEADER_LIKE = re.compile(r"BRCS\d\.\d")


class ScriptError(ValueError):
    """Why a script or a command cannot be used; the message is written for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the commands ----------------------------------------------------------------------------


def wire(name: str, max_length: int, *, required: bool = False) -> Any:
    """A command parameter: its name in scripts and API requests, and its limit in characters."""
    return field(default=None, metadata={"wire": name, "max_length": max_length, "required": required})


@dataclass(frozen=True)
class Parameter:
    attribute: str
    name: str  # as written in scripts and API requests
    max_length: int
    required: bool


def parameters_of(command: Any) -> tuple[Parameter, ...]:
    """The declared parameters of a command (class or instance), in order."""
    return tuple(
        Parameter(f.name, f.metadata["wire"], f.metadata["max_length"], f.metadata["required"])
        for f in dataclasses.fields(command)
    )


class _Checked:
    """Checks a command's values when it is made, so that every command can be written and read back."""

    action: ClassVar[str]

    def __post_init__(self) -> None:
        for parameter in parameters_of(self):
            value = getattr(self, parameter.attribute)
            if value == "":  # an empty parameter is an absent one, as in API requests
                value = None
                object.__setattr__(self, parameter.attribute, None)
            if value is None:
                if parameter.required:
                    raise ScriptError(f"The required parameter {parameter.name} is missing.")
                continue
            if len(value) > parameter.max_length:
                raise ScriptError(f"The parameter {parameter.name} is longer than {parameter.max_length} characters.")
            if not is_xml_safe(value):
                raise ScriptError(f"The parameter {parameter.name} contains characters that are not allowed.")


@dataclass(frozen=True)
class Login(_Checked):
    """Comes first in every script: the site (public hostname) of the appliance that made it."""

    action: ClassVar[str] = "login"
    hostname: str = wire("hostname", 255, required=True)


@dataclass(frozen=True)
class StartPinnedClientSession(_Checked):
    """Start a session with the Jump Client that matches the search (a dialog picks among several)."""

    action: ClassVar[str] = "start_pinned_client_session"
    search_string: str | None = wire("search_string", 1024)
    # The search fields of later versions (integrations link with client.hostname=).
    client_comments: str | None = wire("client.comments", 255)
    client_hostname: str | None = wire("client.hostname", 255)
    client_private_ip: str | None = wire("client.private_ip", 255)
    client_public_ip: str | None = wire("client.public_ip", 255)
    client_tag: str | None = wire("client.tag", 255)
    external_key: str | None = wire("session.custom.external_key", 1024)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not any(getattr(self, parameter.attribute) for parameter in self.search_fields()):
            raise ScriptError("The required parameter search_string is missing.")

    @classmethod
    def search_fields(cls) -> tuple[Parameter, ...]:
        return tuple(p for p in parameters_of(cls) if p.name == "search_string" or p.name.startswith("client."))

    def search(self) -> dict[str, str]:
        """The search given, by parameter name (`search_string`, `client.hostname`, ...)."""
        given = ((p.name, getattr(self, p.attribute)) for p in self.search_fields())
        return {name: value for name, value in given if value is not None}


@dataclass(frozen=True)
class GenerateSessionKey(_Checked):
    """Show the Generate Session Key dialog, with these values filled in when given."""

    action: ClassVar[str] = "generate_session_key"
    external_key: str | None = wire("session.custom.external_key", 1024)
    public_portal_hostname: str | None = wire("public_portal_hostname", 255)


@dataclass(frozen=True)
class PushAndStartLocal(_Checked):
    """Push the customer client to a computer on the representative's network (a local Jump)."""

    action: ClassVar[str] = "push_and_start_local"
    hostname: str = wire("hostname", 255, required=True)
    # Later versions accept an external key here too.
    external_key: str | None = wire("session.custom.external_key", 1024)


ActionCommand = StartPinnedClientSession | GenerateSessionKey | PushAndStartLocal
Command = Login | ActionCommand

# What the Client Scripting API generates, by `action`.
ACTIONS: dict[str, type[ActionCommand]] = {
    kind.action: kind for kind in (StartPinnedClientSession, GenerateSessionKey, PushAndStartLocal)
}
COMMANDS: dict[str, type[Command]] = {Login.action: Login, **ACTIONS}


C = TypeVar("C", bound=_Checked)


def command_from_parameters(kind: type[C], parameters: Mapping[str, str]) -> C:
    """The command of that kind made of the parameters it declares (others are not looked at)."""
    values = {p.attribute: parameters.get(p.name) for p in parameters_of(kind)}
    return kind(**values)


# --- writing ---------------------------------------------------------------------------------


def _encode(text: str) -> str:
    return quote(text, safe=UNRESERVED)


def command_line(command: Command) -> str:
    """`action=<name>&name=value...`, in the declared order, absent parameters left out."""
    pairs = [("action", command.action)]
    for parameter in parameters_of(command):
        value = getattr(command, parameter.attribute)
        if value is not None:
            pairs.append((parameter.name, value))
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


@dataclass(frozen=True)
class Script:
    login: Login
    commands: tuple[ActionCommand, ...]

    def __post_init__(self) -> None:
        if not self.commands:
            raise ScriptError("A client script needs at least one command after login.")
        if len(self.commands) + 1 > MAX_COMMANDS:
            raise ScriptError(f"A client script has at most {MAX_COMMANDS} commands, login included.")

    def text(self) -> str:
        """The file's text: the header and one line per command, no newline after the last
        (the format's grammar puts newlines only between lines)."""
        return NEWLINE.join([HEADER, command_line(self.login), *(command_line(c) for c in self.commands)])


def script_for(hostname: str, *commands: ActionCommand) -> Script:
    return Script(Login(hostname=hostname), tuple(commands))


def file_name(command: ActionCommand, site_hostname: str) -> str:
    """`<action>.brcs-<site>`: the site token is the hostname with every run of characters
    other than letters and digits turned into one `-` (a dot would end the extension)."""
    return f"{command.action}.{FILE_EXTENSION_PREFIX}{site_token(site_hostname)}"


def site_token(hostname: str) -> str:
    token = re.sub(r"[^a-z0-9]+", "-", hostname.lower()).strip("-")[:63].strip("-")
    return token or "lifeline"


# --- reading ---------------------------------------------------------------------------------


def parse_script(data: bytes | str) -> Script:
    """A script file's commands, or a ScriptError saying what is wrong with it (and on which line).

    Strict: the header must be BRCS1.0, the first command login, every action and parameter
    known, every value percent-encoded and within its limit. Newlines may be LF or CRLF; one
    newline may end the file; a UTF-8 byte order mark is skipped.
    """
    if len(data) > MAX_SCRIPT_LENGTH:
        raise ScriptError(f"This file is too large to be a client script (over {MAX_SCRIPT_LENGTH} bytes).")
    text = _as_text(data).removeprefix("\ufeff")
    if text.endswith("\n"):
        text = text[:-1]
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    header, command_lines = lines[0], lines[1:]
    if header != HEADER:
        if _HEADER_LIKE.fullmatch(header):
            raise ScriptError(f"This script is in version {header[4:]} of the format; only {HEADER} can be read.")
        raise ScriptError(f"This is not a client script: its first line must be {HEADER}.")
    if not command_lines:
        raise ScriptError("This client script has no commands.")
    if len(command_lines) > MAX_COMMANDS:
        raise ScriptError(f"A client script has at most {MAX_COMMANDS} commands; this one has {len(command_lines)}.")
    commands = [_parse_line(line, number) for number, line in enumerate(command_lines, start=2)]
    login, rest = commands[0], commands[1:]
    if not isinstance(login, Login):
        raise ScriptError("Line 2: a client script starts with a login command.")
    if not rest:
        raise ScriptError("This client script has a login command and nothing to do.")
    actions: list[ActionCommand] = []
    for number, command in enumerate(rest, start=3):
        if isinstance(command, Login):
            raise ScriptError(f"Line {number}: login may only be the first command.")
        actions.append(command)
    return Script(login, tuple(actions))


def _parse_line(line: str, number: int) -> Command:
    try:
        return parse_command(line)
    except ScriptError as error:
        raise ScriptError(f"Line {number}: {error.message}") from None


def parse_command(line: str) -> Command:
    """One command line (`action=...&name=value...`), as a script holds it."""
    if not line:
        raise ScriptError("A command line is empty.")
    if len(line) > MAX_LINE_LENGTH:
        raise ScriptError(f"A command line is longer than {MAX_LINE_LENGTH} characters.")
    if not _LINE_CHARACTERS.fullmatch(line):
        raise ScriptError("A command line holds a character that should have been percent-encoded.")
    pairs: list[tuple[str, str]] = []
    for piece in line.split("&"):
        name, equals, value = piece.partition("=")
        if not equals:
            raise ScriptError("Each part of a command must be name=value.")
        pairs.append((_decode(name), _decode(value)))
    (first, action), parameters = pairs[0], pairs[1:]
    if first != "action":
        raise ScriptError("A command must start with action=.")
    kind = COMMANDS.get(action)
    if kind is None:
        raise ScriptError(f"Unknown action {_quoted(action)}.")
    known = {p.name for p in parameters_of(kind)}
    values: dict[str, str] = {}
    for name, value in parameters:
        if name not in known:
            raise ScriptError(f"{action} has no parameter {_quoted(name)}.")
        if name in values:
            raise ScriptError(f"The parameter {name} is given twice.")
        values[name] = value
    return command_from_parameters(kind, values)


def _as_text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptError("This is not a client script: it is not text.") from None


def _decode(text: str) -> str:
    if _BAD_ESCAPE.search(text):
        raise ScriptError("A % sign does not start a percent-encoded byte (%XX).")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ScriptError("A percent-encoded value is not UTF-8 text.") from None


def _quoted(text: str) -> str:
    """A name from the file, shortened and made printable for a message."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    return repr(shown)
