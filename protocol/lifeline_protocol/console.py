"""The representative console's socket (`/ws/console`): its hello, its requests, and what
the appliance sends it besides the common messages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

from lifeline_protocol.common import (
    MAX_NOTE,
    MAX_SCRIPT,
    Ack,
    Answers,
    Appliances,
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
from lifeline_protocol.computer import (
    MAX_SHELL_INPUT,
    Capability,
    Computer,
    Dimension,
    Folders,
    Path,
    ShellId,
    SystemInformation,
    TransferState,
)
from lifeline_protocol.screen import ClipboardText, Codec, InputEvents, MonitorNumber, Share, Size, StreamId

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


class PresentationStart(Request, frozen=True, kw_only=True, tag="presentation_start"):
    """Present: the ack's result is {lsid, short_key, url} (the attendee link). The
    presentation shows in the console as a session of session_type "presentation"."""

    hostname: Annotated[str, Meta(max_length=255)] = ""  # the public site the link is on


class PresentationEnd(Request, frozen=True, kw_only=True, tag="presentation_end"):
    lsid: Lsid


class PresentationShare(Request, frozen=True, kw_only=True, tag="presentation_share"):
    """The presenter shares their screen (again: a new size) with the attendees: the ack's
    result is {stream}, the stream of the SCREEN frames the console then sends."""

    lsid: Lsid
    codec: Codec = "vp8"
    width: Size
    height: Size


class PresentationUnshare(Request, frozen=True, kw_only=True, tag="presentation_unshare"):
    lsid: Lsid


# --- the customer's computer (the Lifeline client), each for a session the rep is in --------


class ComputerAsk(Request, frozen=True, kw_only=True, tag="computer_ask"):
    """Ask the customer to allow a capability."""

    lsid: Lsid
    capability: Capability


class ComputerInfo(Request, frozen=True, kw_only=True, tag="computer_info"):
    """Fresh system information: pushed as `system_info` (not logged: the spec logs only
    the pull at session start)."""

    lsid: Lsid


class ComputerList(Request, frozen=True, kw_only=True, tag="computer_list"):
    """A folder of the customer's computer; the ack's result is a Listing."""

    lsid: Lsid
    path: Path | None = None


class ShellOpen(Request, frozen=True, kw_only=True, tag="shell_open"):
    """A command shell on the customer's computer; the ack's result is `{shell}`, the number
    its output frames (binary, kind SHELL) carry as their stream."""

    lsid: Lsid
    cols: Dimension = 80
    rows: Dimension = 24


class ShellType(Request, frozen=True, kw_only=True, tag="shell_input"):
    """Keys or pasted text for a shell (no answer unless refused)."""

    lsid: Lsid
    shell: ShellId
    data: Annotated[str, Meta(min_length=1, max_length=MAX_SHELL_INPUT)]


class ShellSize(Request, frozen=True, kw_only=True, tag="shell_resize"):
    lsid: Lsid
    shell: ShellId
    cols: Dimension
    rows: Dimension


class ShellClose(Request, frozen=True, kw_only=True, tag="shell_close"):
    lsid: Lsid
    shell: ShellId


class ShellReplay(Request, frozen=True, kw_only=True, tag="shell_replay"):
    """The shell's recent output again (a console that reloaded or reconnected): sent as
    its frames before any new ones."""

    lsid: Lsid
    shell: ShellId


class ProcessEnd(Request, frozen=True, kw_only=True, tag="process_end"):
    lsid: Lsid
    pid: Annotated[int, Meta(ge=1, le=2**31 - 1)]


class FileGet(Request, frozen=True, kw_only=True, tag="file_get"):
    """Download a file (a folder comes zipped) from the customer's computer into the file
    store; the ack's result is its TransferState, `transfer` pushes follow."""

    lsid: Lsid
    path: Path


class FilePut(Request, frozen=True, kw_only=True, tag="file_put"):
    """Upload a file the rep sent to the file store (`/console/sessions/<lsid>/files`) into
    the folder `path` of the customer's computer, in its `folders` ("a/b" under `path`,
    made where missing: a folder the rep uploads goes file by file)."""

    lsid: Lsid
    file_id: RecordId
    path: Path
    folders: Folders = ""


class ScreenStart(Request, frozen=True, kw_only=True, tag="screen_start"):
    """Ask the customer's Lifeline client to share its screen (needs "screen" allowed), or to
    switch to another monitor. Every console in the session gets `screen` pushes; the ack
    comes once sharing started."""

    lsid: Lsid
    monitor: MonitorNumber | None = None


class ScreenStop(Request, frozen=True, kw_only=True, tag="screen_stop"):
    lsid: Lsid


class ScreenWatch(Request, frozen=True, kw_only=True, tag="screen_watch"):
    """Receive the session's shared screen (binary frames of kind SCREEN, from the next key
    frame) until `screen_unwatch`, leaving the session, or the share ending. Only members
    of the session may watch."""

    lsid: Lsid


class ScreenUnwatch(Request, frozen=True, kw_only=True, tag="screen_unwatch"):
    lsid: Lsid


class ScreenControl(Request, frozen=True, kw_only=True, tag="screen_control"):
    """Take control when nobody has it (`to` None), hand it to another member of the session
    (`to` their gsnumber; only the one in control may), or give it up (`release`)."""

    lsid: Lsid
    to: int | None = None
    release: bool = False


class ScreenInput(Request, frozen=True, kw_only=True, tag="screen_input"):
    """Mouse and keyboard from the rep in control (no answer unless refused)."""

    lsid: Lsid
    events: InputEvents


class ScreenClipboard(Request, frozen=True, kw_only=True, tag="screen_clipboard"):
    """Put text on the customer's clipboard (the rep in control, "control" allowed)."""

    lsid: Lsid
    text: ClipboardText


# --- Jump Clients and Jumpoints (lifeline_protocol.jump) ---------------------------------------

JumpSearch = Annotated[str, Meta(max_length=1024)]
Credential = Annotated[str, Meta(max_length=16 * 1024)]


class JumpListRequest(Request, frozen=True, kw_only=True, tag="jump_list"):
    """The Jump Clients and Jumpoints this rep may use: `search` matches hostname, name,
    comments, tag, public or private IP (a substring, case-insensitive, as the spec's
    search_string); `group` is "", "personal" or "group:ID"; `online` None for both.
    Answered with an ack whose result is a `jump.JumpList`."""

    search: JumpSearch = ""
    group: Annotated[str, Meta(max_length=32)] = ""
    online: bool | None = None
    mode: Literal["jump_client", "jumpoint"] | None = None
    sort: Literal["name", "hostname", "last_seen", "group", "comments", "tag"] = "name"
    descending: bool = False
    offset: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    limit: Annotated[int, Meta(ge=1, le=500)] = 100


class JumpStart(Request, frozen=True, kw_only=True, tag="jump"):
    """Jump to a Jump Client: a new session with its computer, owned by this rep. Answered
    with `{lsid}` once the Jump Client was told (it then connects as the session's client)."""

    jump_client: RecordId
    external_key: Annotated[str, Meta(max_length=1024)] = ""


class JumpRemove(Request, frozen=True, kw_only=True, tag="jump_remove"):
    """Remove a Jump Client or Jumpoint: it is revoked now and uninstalls itself when it connects."""

    jump_client: RecordId


class ShellJumpStart(Request, frozen=True, kw_only=True, tag="shell_jump"):
    """A Shell Jump through a Jumpoint: SSH to `host` on the Jumpoint's network. Answered with
    `{lsid}`; the session's command shells are SSH sessions (recorded as any shell)."""

    jumpoint: RecordId
    host: Annotated[str, Meta(min_length=1, max_length=255)]
    port: Annotated[int, Meta(ge=1, le=65535)] = 22
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    password: Credential = ""
    private_key: Credential = ""
    external_key: Annotated[str, Meta(max_length=1024)] = ""


class PushStart(Request, frozen=True, kw_only=True, tag="push_start"):
    """push_and_start_local: a Jumpoint copies the customer client to `host` over SSH and
    starts it there for a new session. Answered with `{lsid}`."""

    jumpoint: RecordId
    host: Annotated[str, Meta(min_length=1, max_length=255)]
    port: Annotated[int, Meta(ge=1, le=65535)] = 22
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    password: Credential = ""
    private_key: Credential = ""
    external_key: Annotated[str, Meta(max_length=1024)] = ""


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
    | PresentationStart
    | PresentationEnd
    | PresentationShare
    | PresentationUnshare
    | OpenScript
    | Logout
    | StartTyping
    | ComputerAsk
    | ComputerInfo
    | ComputerList
    | ShellOpen
    | ShellType
    | ShellSize
    | ShellClose
    | ShellReplay
    | ProcessEnd
    | FileGet
    | FilePut
    | ScreenStart
    | ScreenStop
    | ScreenWatch
    | ScreenUnwatch
    | ScreenControl
    | ScreenInput
    | ScreenClipboard
    | JumpListRequest
    | JumpStart
    | JumpRemove
    | ShellJumpStart
    | PushStart
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
    # The failover pair's origins, the primary first (empty without failover): where to
    # go when this appliance stops answering or closes with 4421.
    appliances: Appliances = []


class Refused(Message, frozen=True, kw_only=True, tag="refused"):
    """This account may not use the console (or may not log in now); the socket closes with 4410."""

    error: str


class SessionChanged(Message, frozen=True, kw_only=True, tag="session"):
    """A session's state, to the consoles that may see it: `{lsid, version, status, queue,
    start_time, end_time, external_key, attributes, customer, owner, members, ...}`."""

    session: dict[str, Any]


class Reps(Message, frozen=True, kw_only=True, tag="reps"):
    reps: list[Rep]


class ComputerState(Message, frozen=True, kw_only=True, tag="computer"):
    """The customer's computer in a session: whether its client is connected, what it is,
    what the customer allowed and what is still asked, and its open shells."""

    lsid: str
    connected: bool
    computer: Computer | None = None
    allowed: list[Capability] = []
    asked: list[Capability] = []
    shells: list[int] = []


class SystemInfoPushed(Message, frozen=True, kw_only=True, tag="system_info"):
    lsid: str
    categories: SystemInformation
    at: float
    automatic: bool  # the pull at session start (logged), or one a rep asked for


class ShellEnded(Message, frozen=True, kw_only=True, tag="shell_exit"):
    lsid: str
    shell: int
    code: int | None = None


class TransferChanged(Message, frozen=True, kw_only=True, tag="transfer"):
    lsid: str
    transfer: TransferState


class ScreenState(Message, frozen=True, kw_only=True, tag="screen"):
    """The session's shared screen: `share` None when nothing is shared; who is in control
    (by gsnumber and name), if anyone. Sent to every console in the session on each change
    and when a console starts following the session."""

    lsid: str
    share: Share | None = None
    controller: int | None = None
    controller_name: str = ""
    error: str = ""  # why sharing stopped, when it stopped on its own


class ClipboardPushed(Message, frozen=True, kw_only=True, tag="clipboard"):
    """Text the customer copied, for the rep in control."""

    lsid: str
    text: ClipboardText


class KeyFrameWanted(Message, frozen=True, kw_only=True, tag="key_frame"):
    """An attendee starts or fell behind: the presenter's next frame of `stream` should be a key frame."""

    stream: StreamId


ToConsole = (
    Welcome
    | Gone
    | Refused
    | Ack
    | Error
    | Pong
    | Event
    | SessionChanged
    | Reps
    | Typing
    | ComputerState
    | SystemInfoPushed
    | ShellEnded
    | TransferChanged
    | ScreenState
    | ClipboardPushed
    | KeyFrameWanted
)
