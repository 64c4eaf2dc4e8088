"""What crosses between appliance processes about the customer's computer (realtime.computers):
a console's request for the process holding the client, the answer for the console's
process, and what every console in the session (or the customer) should see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.bus.wire import live_event


@live_event
@dataclass(frozen=True)
class ComputerAsked:
    """A console's request about the customer's computer, for the process holding its client."""

    lsid: str
    gsnumber: int  # the console's connection
    rep_name: str
    ref: str | None
    request: dict[str, Any]  # the console request as sent (msgspec builtins)


@live_event
@dataclass(frozen=True)
class ComputerAnswered:
    """The answer to a console's request, for the process holding that console."""

    gsnumber: int
    ref: str | None
    ok: bool
    result: Any = None
    error: str = ""


@live_event
@dataclass(frozen=True)
class ComputerChanged:
    """The computer's state in a session, for every console in it and the customer."""

    lsid: str
    link: str  # which client socket said so (a replaced one says nothing more)
    state: dict[str, Any]


@live_event
@dataclass(frozen=True)
class ComputerPushed:
    """A message (already encoded) for every console in the session."""

    lsid: str
    message: str


@live_event
@dataclass(frozen=True)
class ShellOutput:
    """A recorded shell frame for every console in the session. The bytes as latin-1 text:
    no work in this process, and plain ASCII output crosses to others as it is."""

    lsid: str
    frame: str


@live_event
@dataclass(frozen=True)
class ShellReplayed:
    """A shell's recent output, for one console (its `shell_replay`)."""

    gsnumber: int
    ref: str | None
    frames: list[str]


@live_event
@dataclass(frozen=True)
class ConsentFromPage:
    """The customer answered (or took back) on their browser chat page."""

    lsid: str
    capability: str
    allowed: bool


@live_event
@dataclass(frozen=True)
class ComputerWanted:
    """A console (or the customer's page) attached: the holder says the state again."""

    lsid: str


@live_event
@dataclass(frozen=True)
class ClientReplaced:
    """A newer client socket of the session: any other one closes (4409)."""

    lsid: str
    link: str
