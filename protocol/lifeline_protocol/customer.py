"""The customer client's socket (`/ws/customer`): its hello, its requests, and what the
appliance sends it besides the common messages."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from lifeline_protocol.common import (
    Ack,
    Answers,
    Appliances,
    ChatBody,
    Error,
    Event,
    EventRecord,
    Gone,
    Message,
    Ping,
    Pong,
    Request,
    Typing,
)
from lifeline_protocol.computer import Capability
from lifeline_protocol.screen import Codec, Size, Source, StreamId

# --- from the customer client -----------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    """The first message: the token of the `/chat/<token>` URL."""

    token: Annotated[str, Meta(min_length=1, max_length=100)]
    last_event_id: int | None = None  # the highest event id it has seen
    version: int | None = None  # the protocol version it speaks; old clients say none


class Chat(Request, frozen=True, kw_only=True, tag="chat"):
    body: ChatBody


class End(Request, frozen=True, kw_only=True, tag="end"):
    """The customer ends the session."""


class Survey(Request, frozen=True, kw_only=True, tag="survey"):
    answers: Answers  # question id -> its answers


class Bye(Request, frozen=True, kw_only=True, tag="bye"):
    """Done: the connection ends (no answer)."""


class StartTyping(Request, frozen=True, kw_only=True, tag="typing"):
    """A signal: no answer."""


class Consent(Request, frozen=True, kw_only=True, tag="consent"):
    """The customer allows or denies a capability a rep asked for, or takes one back
    (allowed false); relayed to their Lifeline client, which enforces it."""

    capability: Capability
    allowed: bool


class ScreenShare(Request, frozen=True, kw_only=True, tag="screen_share"):
    """The customer's browser shares a screen or window (getDisplayMedia, encoded in the
    page): the ack's result is `{stream}`, the number its SCREEN frames carry. Sent again
    when the picture's size changes. View only: nobody controls a browser share."""

    codec: Codec = "vp8"
    width: Size
    height: Size


class ScreenUnshare(Request, frozen=True, kw_only=True, tag="screen_unshare"):
    """The customer stopped sharing."""


CustomerRequest = Chat | End | Survey | Bye | StartTyping | Consent | ScreenShare | ScreenUnshare | Ping

# --- to the customer client ---------------------------------------------------------------------


class SessionView(Struct, frozen=True, kw_only=True):
    """What the customer is told about its session."""

    lsid: str
    status: str
    queue_name: str  # while waiting
    reps: list[str]


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    gsnumber: int
    company: str
    session: SessionView
    position: int | None  # in the queue, 1 = next
    history: list[EventRecord]  # the events after last_event_id that a customer sees
    survey: list[dict[str, Any]]  # the customer exit survey: {id, name, label, type, options}
    survey_done: bool
    server_time: float
    version: int
    # The failover pair's origins, the primary first (empty without failover): where to
    # go when this appliance stops answering or closes with 4421.
    appliances: Appliances = []


class State(Message, frozen=True, kw_only=True, tag="state"):
    session: SessionView


class Position(Message, frozen=True, kw_only=True, tag="position"):
    position: int  # in the queue, 1 = next


class Duty(Message, frozen=True, kw_only=True, tag="duty"):
    on_duty: bool  # whether a rep who may take from its queue is logged in now


class Asked(Struct, frozen=True, kw_only=True):
    capability: Capability
    rep: str  # the representative's display name


class ComputerView(Message, frozen=True, kw_only=True, tag="computer"):
    """The customer's own computer in the session: whether the Lifeline client is running,
    what they allowed, and what representatives are asking for now."""

    connected: bool
    allowed: list[Capability] = []
    asked: list[Asked] = []


class ScreenView(Message, frozen=True, kw_only=True, tag="screen"):
    """What the customer is told about their shared screen: whether it is shared (by the
    client or this page), who watches, who controls; `wanted` when a rep asks this page to
    share (no client is connected)."""

    shared: bool
    source: Source | None = None
    viewers: list[str] = []  # display names
    controller: str = ""
    wanted: str = ""  # the display name of the rep asking for the screen


class KeyFrameWanted(Message, frozen=True, kw_only=True, tag="key_frame"):
    """A viewer starts or fell behind: the page's next frame of `stream` should be a key frame."""

    stream: StreamId


ToCustomer = (
    Welcome
    | Gone
    | Ack
    | Error
    | Pong
    | Event
    | State
    | Position
    | Duty
    | Typing
    | ComputerView
    | ScreenView
    | KeyFrameWanted
)
