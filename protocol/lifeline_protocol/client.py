"""The Lifeline client's socket (`/ws/client`): the program on the customer's computer
that gives representatives system information, a command shell and the file system, each
only once the customer allows it.

The client says hello with the session's customer token (the one in `/chat/<token>`). The
appliance relays what representatives ask (each with a `request` id) and the client
answers each with `done`, `failed` or the answer's own message. Shell output travels as
binary frames of kind SHELL (`binary.py`): the stream is the shell's number, the sequence
counts that shell's frames; the appliance records them (asciicast) before any
representative sees them, and acknowledges with `shell_ack`, so that a client that
reconnects sends again exactly what was not recorded. The screen travels as binary frames
of kind SCREEN (`screen.py`): lossy by design, a viewer that misses frames waits for the
next key frame.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, field

from lifeline_protocol.common import Ack, Appliances, Error, Gone, Message, Ping, Pong, Who
from lifeline_protocol.computer import (
    MAX_SHELL_INPUT,
    Capability,
    Computer,
    Dimension,
    Folders,
    Listing,
    Path,
    RequestId,
    ShellId,
    SystemInformation,
    Text,
)
from lifeline_protocol.screen import (
    MAX_MONITORS,
    ClipboardText,
    Codec,
    InputEvents,
    Monitor,
    MonitorNumber,
    Size,
    StreamId,
)

MAX_CLIENT_MESSAGE = 1024 * 1024  # a text frame from the client (system information is large)
SHELL_WINDOW = 4 * 1024 * 1024  # bytes of shell output a client may send ahead of `shell_ack`
SHELL_ACK_EVERY = 0.05  # seconds: the appliance acknowledges recorded output at least this often

# --- from the client -------------------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    """The first message. `allowed` is what the customer allowed before connecting (with
    `--allow`, `flag` says so; it is logged as the customer's answer)."""

    token: Annotated[str, Meta(min_length=1, max_length=128)]
    computer: Computer
    allowed: list[Capability] = []
    flag: bool = False
    version: int | None = None


class Consent(Message, frozen=True, kw_only=True, tag="consent"):
    """The customer allowed or denied a capability, or took it back (allowed false)."""

    capability: Capability
    allowed: bool


class SystemInfo(Message, frozen=True, kw_only=True, tag="system_info"):
    """System information: `request` None for the automatic pull at session start (the only
    one logged, as the spec says), else the request it answers."""

    request: RequestId | None = None
    categories: SystemInformation


class FolderListing(Message, frozen=True, kw_only=True, tag="listing"):
    request: RequestId
    listing: Listing


class Done(Message, frozen=True, kw_only=True, tag="done"):
    """A request went through (a shell opened, a process ended, a file sent)."""

    request: RequestId
    result: Any = None


class Failed(Message, frozen=True, kw_only=True, tag="failed"):
    """A request could not be done: denied by the customer, no such path, too large..."""

    request: RequestId
    error: Annotated[str, Meta(max_length=1024)]


class ShellExit(Message, frozen=True, kw_only=True, tag="shell_exit"):
    """The shell's program ended; its output before this was all sent."""

    shell: ShellId
    code: int | None = None


class Bye(Message, frozen=True, kw_only=True, tag="bye"):
    """The customer closed the client: it will not reconnect."""


class ScreenStarted(Message, frozen=True, kw_only=True, tag="screen_started"):
    """The client shares the screen on `stream` (the one `start_screen` gave): SCREEN frames
    follow, the first a key frame. Sent again when the picture's size or monitor changes
    (the next frame is then a key frame)."""

    stream: StreamId
    codec: Codec = "vp8"
    width: Size
    height: Size
    monitor: MonitorNumber
    monitors: Annotated[list[Monitor], Meta(max_length=MAX_MONITORS)] = []


class ScreenStopped(Message, frozen=True, kw_only=True, tag="screen_stopped"):
    """Sharing ended: the customer stopped it or took the allowance back, or capture failed
    (`error` says why)."""

    stream: StreamId
    error: Annotated[str, Meta(max_length=1024)] = ""


class ClipboardChanged(Message, frozen=True, kw_only=True, tag="clipboard"):
    """Text the customer copied while control is allowed (sent to the controlling rep)."""

    text: ClipboardText


FromClient = (
    Consent
    | SystemInfo
    | FolderListing
    | Done
    | Failed
    | ShellExit
    | Bye
    | ScreenStarted
    | ScreenStopped
    | ClipboardChanged
    | Ping
)

# --- to the client ----------------------------------------------------------------------------


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    """`shells`: the session's open shells (as text keys) -> the last sequence recorded; the
    client sends again what follows and closes any other shell it has. `system_info`: the
    automatic pull is still wanted."""

    lsid: str
    company: str
    shells: dict[str, int] = field(default_factory=dict)
    system_info: bool = False
    server_time: float
    version: int
    # The failover pair's origins, the primary first (empty without failover): where to
    # go when this appliance stops answering or closes with 4421.
    appliances: Appliances = []


class Ask(Message, frozen=True, kw_only=True, tag="ask"):
    """A representative asks to use a capability: the client asks the customer (unless
    already allowed) and answers with `consent`."""

    capability: Capability
    rep: Who


class ConsentAnswer(Message, frozen=True, kw_only=True, tag="consent_answer"):
    """The customer answered in the browser chat page (relayed by the appliance)."""

    capability: Capability
    allowed: bool


class GetSystemInfo(Message, frozen=True, kw_only=True, tag="get_system_info"):
    request: RequestId


class ListFolder(Message, frozen=True, kw_only=True, tag="list_folder"):
    """`path` None: the folder to start from (the customer's home)."""

    request: RequestId
    path: Path | None = None


class OpenShell(Message, frozen=True, kw_only=True, tag="open_shell"):
    request: RequestId
    shell: ShellId
    cols: Dimension = 80
    rows: Dimension = 24


class ShellInput(Message, frozen=True, kw_only=True, tag="shell_input"):
    shell: ShellId
    data: Annotated[str, Meta(min_length=1, max_length=MAX_SHELL_INPUT)]


class ShellResize(Message, frozen=True, kw_only=True, tag="shell_resize"):
    shell: ShellId
    cols: Dimension
    rows: Dimension


class CloseShell(Message, frozen=True, kw_only=True, tag="close_shell"):
    shell: ShellId


class ShellAck(Message, frozen=True, kw_only=True, tag="shell_ack"):
    """Output up to `sequence` is recorded: the client may forget it."""

    shell: ShellId
    sequence: int


class EndProcess(Message, frozen=True, kw_only=True, tag="end_process"):
    request: RequestId
    pid: Annotated[int, Meta(ge=1, le=2**31 - 1)]


class SendFile(Message, frozen=True, kw_only=True, tag="send_file"):
    """Send the file (or folder, zipped) at `path` to the appliance: PUT its bytes to
    `/client/transfers/<transfer>` in chunks (resumable from the offset a HEAD gives)."""

    request: RequestId
    transfer: Annotated[str, Meta(min_length=1, max_length=64)]
    path: Path


class FetchFile(Message, frozen=True, kw_only=True, tag="fetch_file"):
    """Fetch `/client/transfers/<transfer>` (`size` bytes) and write it as `name` in the
    folder `path` (in its `folders`, made where missing), never overwriting a file that is
    there."""

    request: RequestId
    transfer: Annotated[str, Meta(min_length=1, max_length=64)]
    path: Path
    name: Text
    size: Annotated[int, Meta(ge=0)]
    folders: Folders = ""


class StartScreen(Message, frozen=True, kw_only=True, tag="start_screen"):
    """Share the screen (if the customer allows "screen") as `stream`, monitor `monitor`
    (None: the primary), within the admin's caps: at most `fps` pictures a second, about
    `kbits` kbit/s, scaled down to fit `max_width` x `max_height`. Answered with `done` once
    `screen_started` went out, or `failed`. Sent again to switch monitors (same stream)."""

    request: RequestId
    stream: StreamId
    monitor: MonitorNumber | None = None
    fps: Annotated[int, Meta(ge=1, le=60)]
    kbits: Annotated[int, Meta(ge=50, le=100_000)]
    max_width: Size
    max_height: Size


class StopScreen(Message, frozen=True, kw_only=True, tag="stop_screen"):
    stream: StreamId


class KeyFrame(Message, frozen=True, kw_only=True, tag="key_frame"):
    """A viewer starts or fell behind: make the next frame a key frame."""

    stream: StreamId


class ScreenInput(Message, frozen=True, kw_only=True, tag="screen_input"):
    """The controlling rep's mouse and keyboard, already checked by the appliance; the client
    checks again that control is allowed, and injects them (no answer)."""

    stream: StreamId
    events: InputEvents


class SetClipboard(Message, frozen=True, kw_only=True, tag="set_clipboard"):
    """The controlling rep's text for the customer's clipboard (needs "control")."""

    text: ClipboardText


ToClient = (
    Welcome
    | Ask
    | ConsentAnswer
    | GetSystemInfo
    | ListFolder
    | OpenShell
    | ShellInput
    | ShellResize
    | CloseShell
    | ShellAck
    | EndProcess
    | SendFile
    | FetchFile
    | StartScreen
    | StopScreen
    | KeyFrame
    | ScreenInput
    | SetClipboard
    | Gone
    | Ack
    | Error
    | Pong
)
