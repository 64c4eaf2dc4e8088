"""The customer's computer as every side sees it: what the Lifeline client may do there
(capabilities the customer allows), what it says about the machine, and the shapes of
the answers (system information tables, folder listings, transfers) that travel from the
client through the appliance to the consoles."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

# What a representative can ask to use; the customer allows or denies each one, and can
# take it back. "screen" is seeing the screen, "control" the mouse, keyboard and clipboard
# (it means nothing without "screen").
Capability = Literal["system_info", "shell", "files", "screen", "control"]
CAPABILITIES: tuple[Capability, ...] = ("system_info", "shell", "files", "screen", "control")

MAX_PATH = 4096
MAX_SHELL_INPUT = 16 * 1024  # characters of one keystroke or paste from the console
MAX_SHELL_DIMENSION = 1000  # columns or rows of a terminal
MAX_SHELLS = 8  # open at once in one session
MAX_INFO_ROWS = 5000  # rows of one system information category
MAX_INFO_CATEGORIES = 32
MAX_LISTING = 10_000  # entries of one folder listing; more are cut off (`truncated`)
MAX_TEXT = 1024  # a cell of a table, a name, an OS description

Path = Annotated[str, Meta(min_length=1, max_length=MAX_PATH)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]
# Folders under an upload's `path`, "/"-separated ("" = none): a folder the rep uploads
# arrives file by file, each in its place; the client refuses anything that leaves `path`.
Folders = Annotated[str, Meta(max_length=MAX_PATH)]
Dimension = Annotated[int, Meta(ge=1, le=MAX_SHELL_DIMENSION)]
ShellId = Annotated[int, Meta(ge=1, le=2**31 - 1)]
RequestId = Annotated[str, Meta(min_length=1, max_length=64)]


class Computer(Struct, frozen=True, kw_only=True):
    """What the client says about the machine it runs on (the customer entries of
    SupportSession and the connected-client calls are made from it)."""

    hostname: Text = ""
    os: Text = ""  # e.g. "Debian GNU/Linux 13 (trixie)", "Windows 11 Pro 23H2"
    platform: Literal["linux", "mac", "windows", "other"] = "other"
    username: Text = ""
    private_ip: Annotated[str, Meta(max_length=64)] = ""
    timezone_offset: Annotated[int, Meta(ge=-14 * 3600, le=14 * 3600)] = 0  # seconds east of UTC
    client_version: Annotated[str, Meta(max_length=64)] = ""


class Field(Struct, frozen=True, kw_only=True):
    """A column of a system information table: `id` for programs, `name` for people."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Text


class InfoCategory(Struct, frozen=True, kw_only=True):
    """One table of system information (Overview, Network, Drives, Processes, Services,
    Programs): the spec's category, its description's fields and its rows, each row's
    cells in the fields' order."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Text
    fields: Annotated[list[Field], Meta(min_length=1, max_length=32)]
    rows: Annotated[list[Annotated[list[Text], Meta(max_length=32)]], Meta(max_length=MAX_INFO_ROWS)]


SystemInformation = Annotated[list[InfoCategory], Meta(max_length=MAX_INFO_CATEGORIES)]


class DirEntry(Struct, frozen=True, kw_only=True):
    name: Text
    kind: Literal["file", "folder", "link", "other"]
    size: Annotated[int, Meta(ge=0)] = 0  # bytes (files)
    modified: float = 0.0  # UNIX seconds


class Listing(Struct, frozen=True, kw_only=True):
    """A folder of the customer's computer; `path` is absolute, as the client's system
    writes it, and `parent` is None at a root."""

    path: Path
    parent: Annotated[str, Meta(max_length=MAX_PATH)] | None = None
    entries: Annotated[list[DirEntry], Meta(max_length=MAX_LISTING)]
    truncated: bool = False
    roots: list[Text] = []  # where browsing can start: "/" and home, or drive letters


class TransferState(Struct, frozen=True, kw_only=True):
    """A file on its way between the customer's computer and the appliance's file store.
    `direction` is the representative's: "download" from the customer's computer,
    "upload" to it (the spec's File Download and File Upload)."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    direction: Literal["download", "upload"]
    name: Text
    path: Annotated[str, Meta(max_length=MAX_PATH)]  # on the customer's computer
    size: Annotated[int, Meta(ge=0)]  # bytes in all, as far as known
    done: Annotated[int, Meta(ge=0)]  # bytes moved so far
    state: Literal["moving", "done", "failed"]
    error: str = ""
    file_id: int | None = None  # in the file store, once done: /console/files/<file_id>
