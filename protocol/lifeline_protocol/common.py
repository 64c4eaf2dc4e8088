"""What both sides share: the version, the limits, the error texts, and the messages every
socket may send or get whoever is at the other end (ack, error, ping, pong, event, typing,
gone)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

VERSION = 1  # a hello may say which it speaks; the welcome says the appliance's

# Limits.
MAX_MESSAGE = 64 * 1024  # characters of one text frame
RATE_PER_SECOND = 30  # messages a socket may send in a second
HELLO_TIMEOUT = 15.0  # seconds for the first message, the hello
MAX_REF = 64
MAX_ID = 2**31 - 1  # ids are 32-bit in the appliance's database
MAX_CHAT = 16 * 1024
MAX_NOTE = 16 * 1024
MAX_LSID = 32
MAX_SCRIPT = 64 * 1024
MAX_APPLIANCES = 2  # a failover pair: the primary and the backup

# Error texts (the `error` of an error message or a failed ack).
NOT_TEXT = "messages are JSON objects in text frames"
TOO_LONG = f"messages are limited to {MAX_MESSAGE} bytes"
NOT_JSON = "messages are JSON objects"
NO_TYPE = "messages are JSON objects with a type"
TOO_MANY = "too many messages; slow down"
BAD_REF = f"ref must be text of at most {MAX_REF} characters"
BAD_ANSWERS = "answers must be an object of question id to a list of answers"
NOT_PRIMARY = "this appliance is now the backup"  # said with close code 4421


def unknown_type(kind: str) -> str:
    return f"unknown message type {kind[:40]!r}"


class ProtocolError(Exception):
    """A frame that is not a message of the protocol: answered with an `error` message,
    and the socket stays open."""


class InvalidRequest(ProtocolError):
    """A message with a type but not a valid request (an unknown type, a field missing or
    of the wrong kind): answered with a failed `ack` under its `ref`."""

    def __init__(self, error: str, ref: str | None = None) -> None:
        super().__init__(error)
        self.ref = ref


Ref = Annotated[str, Meta(min_length=1, max_length=MAX_REF)]
Lsid = Annotated[str, Meta(min_length=1, max_length=MAX_LSID)]
RecordId = Annotated[int, Meta(gt=0, le=MAX_ID)]
ChatBody = Annotated[str, Meta(min_length=1, max_length=MAX_CHAT)]
Answers = Annotated[
    dict[Annotated[str, Meta(pattern="^[0-9]+$")], Annotated[list[Any], Meta(max_length=50)]],
    Meta(max_length=100),
]
# The failover pair's public origins (https://host[:port]), the primary first; empty when
# the appliance has no failover peer. Clients keep it and follow the primary.
Origin = Annotated[str, Meta(pattern="^https://[^/?#@ ]+$", max_length=300)]
Appliances = Annotated[list[Origin], Meta(max_length=MAX_APPLIANCES)]


class Message(Struct, frozen=True, kw_only=True, tag_field="type"):
    """Every message: a JSON object whose `type` says which."""


class Request(Message, frozen=True, kw_only=True):
    """A request: answered with an `ack` that repeats its `ref`."""

    ref: Ref | None = None


def answer_values(answers: dict[str, list[Any]]) -> dict[int, list[str]]:
    """A survey's `answers` as the appliance keeps them: question id -> its answers (text
    and numbers, each at most 4 KiB; anything else is left out)."""
    return {int(key): [str(v)[:4096] for v in values if isinstance(v, str | int)] for key, values in answers.items()}


# --- both directions ------------------------------------------------------------------------


class Ping(Message, frozen=True, kw_only=True, tag="ping"):
    """Answered with `pong` (the client's own keep-alive; the appliance pings too)."""


# --- what the appliance sends on either socket -------------------------------------------------


class Ack(Message, frozen=True, kw_only=True, tag="ack"):
    ref: str | None
    ok: bool
    result: Any = UNSET
    error: str | UnsetType = UNSET
    showing: bool | UnsetType = UNSET  # the console's `showing` request answers with it

    @classmethod
    def done(cls, ref: str | None, result: Any = None) -> Ack:
        return cls(ref=ref, ok=True, result=result)

    @classmethod
    def failed(cls, ref: str | None, error: str) -> Ack:
        return cls(ref=ref, ok=False, error=error)


class Error(Message, frozen=True, kw_only=True, tag="error"):
    """A message that could not be read at all, or one too many: the socket stays open."""

    ref: str | UnsetType | None = UNSET
    error: str


class Pong(Message, frozen=True, kw_only=True, tag="pong"):
    at: float


class Who(Struct, frozen=True, kw_only=True):
    """Someone in a session: who did something, whom it was done to, who is typing."""

    type: str  # representative, customer, system ...
    gsnumber: int
    name: str  # a typing customer's is empty: the console has it


class EventRecord(Struct, frozen=True, kw_only=True):
    """An entry of a session's log as clients see it; `id` orders them and is what a
    reconnecting client resumes from."""

    id: int
    type: str  # one of the API guide's event types
    at: float  # UNIX seconds
    performed_by: Who | None
    destination: Who | None
    body: str | None
    filename: str | None
    filesize: int | None
    file_id: int | None  # to download it (a file's events)
    data: list[list[str]]  # [name, value] pairs
    ref: str | None  # the ref of the request that logged it (chat lines, notes)


class Event(Message, frozen=True, kw_only=True, tag="event"):
    """An entry of a session's log, to everyone following the session."""

    lsid: str
    event: EventRecord


def event_records(events: list[dict[str, Any]]) -> list[EventRecord]:
    """Log entries the appliance holds as plain data (they travel its bus so), as records."""
    return msgspec.convert(events, list[EventRecord])


class Typing(Message, frozen=True, kw_only=True, tag="typing"):
    """Someone else in the session is typing a chat line."""

    lsid: str
    who: Who


class Gone(Message, frozen=True, kw_only=True, tag="gone"):
    """The connection (or session) is over; the socket closes with 4410."""

    error: str = ""


def encode(message: Message) -> bytes:
    """The message as JSON. Text holding a lone surrogate (a chat line may, and the appliance
    keeps it exactly) is no UTF-8, so msgspec refuses it: such a message is written with
    the standard library, which escapes it (`\\ud800`) as JSON allows."""
    try:
        return _encoder.encode(message)
    except UnicodeEncodeError:
        return json.dumps(msgspec.to_builtins(message), separators=(",", ":")).encode()


_encoder = msgspec.json.Encoder()
