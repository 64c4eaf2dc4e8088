"""The representative console's socket (`/ws/console`): its hello, its requests, and what
the appliance sends it besides the common messages."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct, field

from lifeline_protocol.common import (
    MAX_NOTE,
    MAX_SCRIPT,
    Ack,
    Answers,
    ChatBody,
    Error,
    Event,
    EventRecord,
    Gone,
    Lsid,
    Message,
    Ping,
    Pong,
    RecordId,
    Request,
    Typing,
)

# --- from the console -----------------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    """The first message. With `resume_token` the console resumes its connection (the same
    gsnumber); without, it logs in anew."""

    resume_token: str | None = None
    last_event_ids: dict[str, int] = field(default_factory=dict)  # lsid -> highest event id seen
    hostname: str = ""
    timezone_offset: int = 0  # seconds east of UTC
    version: int | None = None  # the protocol version it speaks; old consoles say none


class Take(Request, frozen=True, kw_only=True, tag="take"):
    lsid: Lsid


class Chat(Request, frozen=True, kw_only=True, tag="chat"):
    lsid: Lsid
    body: ChatBody


class Note(Request, frozen=True, kw_only=True, tag="note"):
    lsid: Lsid
    text: Annotated[str, Meta(min_length=1, max_length=MAX_NOTE)]


class ExternalKey(Request, frozen=True, kw_only=True, tag="external_key"):
    lsid: Lsid
    value: Annotated[str, Meta(max_length=1024)] = ""


class Transfer(Request, frozen=True, kw_only=True, tag="transfer"):
    lsid: Lsid
    queue: Annotated[str, Meta(min_length=1, max_length=300)]  # general, rep:ID, team:ID, embassy:ID


class Invite(Request, frozen=True, kw_only=True, tag="invite"):
    lsid: Lsid
    rep_id: RecordId


class Leave(Request, frozen=True, kw_only=True, tag="leave"):
    lsid: Lsid


class End(Request, frozen=True, kw_only=True, tag="end"):
    lsid: Lsid


class Survey(Request, frozen=True, kw_only=True, tag="survey"):
    lsid: Lsid
    answers: Answers  # question id -> its answers


class Showing(Request, frozen=True, kw_only=True, tag="showing"):
    value: bool


class GenerateKey(Request, frozen=True, kw_only=True, tag="generate_key"):
    external_key: Annotated[str, Meta(max_length=1024)] = ""
    hostname: Annotated[str, Meta(max_length=255)] = ""


class OpenScript(Request, frozen=True, kw_only=True, tag="open_script"):
    text: Annotated[str, Meta(min_length=1, max_length=MAX_SCRIPT)]


class Logout(Request, frozen=True, kw_only=True, tag="logout"):
    pass


class StartTyping(Request, frozen=True, kw_only=True, tag="typing"):
    """A signal: no answer (a failed ack, under its ref if it has one, when the console is
    not in the session)."""

    lsid: Lsid


ConsoleRequest = (
    Take
    | Chat
    | Note
    | ExternalKey
    | Transfer
    | Invite
    | Leave
    | End
    | Survey
    | Showing
    | GenerateKey
    | OpenScript
    | Logout
    | StartTyping
    | Ping
)

# --- to the console ---------------------------------------------------------------------------


class User(Struct, frozen=True, kw_only=True):
    id: int
    username: str
    display_name: str


class Rep(Struct, frozen=True, kw_only=True):
    """A representative logged in now."""

    id: int
    name: str
    sessions: int  # how many support sessions they are in


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    gsnumber: int
    resume_token: str  # keep it for resuming
    resumed: bool
    user: User
    showing: bool  # on the public representative list
    queues: list[dict[str, Any]]  # {key: "rep:5"|"team:1"|"embassy:3"|"general", name, kind}
    sessions: list[dict[str, Any]]  # session states: the waiting ones it may take, the ones it is in
    history: dict[str, list[EventRecord]]  # lsid -> events after its last_event_ids
    teams: list[dict[str, Any]]  # {id, name, embassy}
    reps: list[Rep]
    survey: list[dict[str, Any]]  # the representative exit survey: {id, name, label, type, options}
    server_time: float
    version: int


class Refused(Message, frozen=True, kw_only=True, tag="refused"):
    """This account may not use the console (or may not log in now); the socket closes with 4410."""

    error: str


class SessionChanged(Message, frozen=True, kw_only=True, tag="session"):
    """A session's state, to the consoles that may see it: `{lsid, version, status, queue,
    start_time, end_time, external_key, attributes, customer, owner, members, ...}`."""

    session: dict[str, Any]


class Reps(Message, frozen=True, kw_only=True, tag="reps"):
    reps: list[Rep]


ToConsole = Welcome | Gone | Refused | Ack | Error | Pong | Event | SessionChanged | Reps | Typing
