"""What crosses between appliance processes about a session's shared screen
(realtime.screens): a console's request for the process holding the share (or the client),
the share's state for every process, and who watches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeline.bus.wire import live_event


@live_event
@dataclass(frozen=True)
class ScreenAsked:
    """A console's screen request, for the process holding the share (or, to start one, the client)."""

    lsid: str
    gsnumber: int  # the console's connection
    rep_name: str
    ref: str | None
    request: dict[str, Any]  # the console request as sent (msgspec builtins)


@live_event
@dataclass(frozen=True)
class ScreenChanged:
    """The session's share as its holder says: `state["share"]` None when nothing is shared."""

    lsid: str
    state: dict[str, Any]


@live_event
@dataclass(frozen=True)
class ScreenWatching:
    """A console starts or stops watching (`left`: it left the session or closed)."""

    lsid: str
    gsnumber: int
    name: str
    watching: bool
    left: bool = False


@live_event
@dataclass(frozen=True)
class ScreenWanted:
    """A rep asks the customer's page to share (no Lifeline client is connected)."""

    lsid: str
    rep_name: str


@live_event
@dataclass(frozen=True)
class ScreenAnnounce:
    """A console started following the session: the holder says the share's state again."""

    lsid: str


@live_event
@dataclass(frozen=True)
class ClipboardCopied:
    """Text the customer copied, for the console in control."""

    lsid: str
    gsnumber: int
    text: str


@live_event
@dataclass(frozen=True)
class PageAttached:
    """The customer's page (re)attached, on the process that says so: a share from an
    earlier page of the session is over, even if the process holding it died unheard."""

    lsid: str
