"""A presentation attendee's socket (`/ws/attendee`): the attendee page in a browser joins
a presentation with its key, chats with the presenter and the other attendees, and is told
who attends and when the presentation ends."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from lifeline_protocol.common import Ack, ChatBody, Error, Event, EventRecord, Gone, Message, Ping, Pong, Request
from lifeline_protocol.screen import Share

MAX_ATTENDEE_NAME = 100

# --- from the attendee page -------------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    """The first message: the presentation's key (its seven digits, or the link's 32 hex
    characters) and the attendee's name."""

    key: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=MAX_ATTENDEE_NAME)]
    timezone_offset: Annotated[int, Meta(ge=-14 * 3600, le=14 * 3600)] = 0  # seconds east of UTC
    version: int | None = None


class Chat(Request, frozen=True, kw_only=True, tag="chat"):
    body: ChatBody


class Bye(Request, frozen=True, kw_only=True, tag="bye"):
    """The attendee leaves (no answer)."""


class KeyFrame(Request, frozen=True, kw_only=True, tag="key_frame"):
    """The picture did not decode (a gap, an error): the stream again from its next key frame."""


AttendeeRequest = Chat | Bye | KeyFrame | Ping

# --- to the attendee page ---------------------------------------------------------------------


class Attendee(Struct, frozen=True, kw_only=True):
    gsnumber: int
    name: str


class PresentationView(Struct, frozen=True, kw_only=True):
    """What an attendee is told about the presentation."""

    lsid: str
    status: str  # active, or ended
    presenter: str  # the presenting representative's display name
    attendees: list[Attendee]


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    gsnumber: int
    name: str  # the attendee's own name, as the presentation shows it
    company: str
    presentation: PresentationView
    history: list[EventRecord]  # the chat so far
    server_time: float
    version: int


class State(Message, frozen=True, kw_only=True, tag="state"):
    """Sent when someone comes or goes, and when the presentation ends."""

    presentation: PresentationView


class ScreenShown(Message, frozen=True, kw_only=True, tag="screen"):
    """The presenter's screen: `share` None while nothing is shown. Its SCREEN frames
    follow as binary frames, from a key frame."""

    share: Share | None = None


ToAttendee = Welcome | Gone | Ack | Error | Pong | Event | State | ScreenShown
