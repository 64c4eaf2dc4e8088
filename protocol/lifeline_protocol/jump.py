"""The Jump Client's socket (`/ws/jump`): the Lifeline client installed to stay on a computer
nobody needs to sit at (a Jump Client), or on one machine of a remote network to reach the
others there (a Jumpoint).

Each installation proves who it is with its own Ed25519 key, made when it was installed
(`lifeline-client jump install`); the appliance keeps only the public half. The appliance
speaks first with a `challenge`; the client answers `hello` with its id and its signature
of `signed_text(...)`; the appliance answers `welcome` (or closes: 4403 for a revoked or
unknown installation, which then uninstalls itself; 4400 for a bad hello).

The connection is light on purpose (an appliance holds tens of thousands): the appliance
pings it (the transport's keep-alive is the heartbeat), the client sends `statistics` at
the interval the welcome says, and waits. A representative's Jump arrives as
`start_session`: the client then opens the session's own `/ws/client` socket with the
token given, exactly as the customer client does, with `allowed` already allowed (the Jump
Group's consent rule); a Jumpoint gets `shell_jump` or `push_client` the same way.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from lifeline_protocol.common import MAX_ID, Appliances, Lsid, Message
from lifeline_protocol.computer import Capability, Computer, RequestId, Text

JumpClientId = Annotated[int, Meta(gt=0, le=MAX_ID)]
# The things an admin may choose to collect from every Jump Client (/login, Jump settings).
Statistic = Literal["console_user", "cpu", "disk", "uptime", "thumbnail"]
STATISTICS: tuple[Statistic, ...] = ("console_user", "cpu", "disk", "uptime", "thumbnail")
# A Jump Client reaches its own computer; a Jumpoint reaches others on its network.
Mode = Literal["jump_client", "jumpoint"]

MAX_JUMP_MESSAGE = 256 * 1024  # a text frame from a Jump Client (a thumbnail is the largest)
MAX_THUMBNAIL = 128 * 1024  # characters of a thumbnail (base64 of a small JPEG or PNG)
MAX_SECRET = 16 * 1024  # a password or a private key for a Shell Jump or a push
Host = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:\-\[\]%]+$")]
Port = Annotated[int, Meta(ge=1, le=65535)]
Secret = Annotated[str, Meta(max_length=MAX_SECRET)]
Nonce = Annotated[str, Meta(min_length=16, max_length=128)]
Signature = Annotated[str, Meta(min_length=1, max_length=256)]  # base64url, no padding


def signed_text(nonce: str, jump_client_id: int, origin: str) -> bytes:
    """What a Jump Client signs to connect: bound to this challenge, this installation and
    the appliance's origin (`https://host[:port]`), so a signature is good for nothing else."""
    return f"lifeline-jump-v1\n{origin}\n{jump_client_id}\n{nonce}".encode()


def install_text(installer_key: str, public_key: str, origin: str) -> bytes:
    """What a new installation signs when it registers, proving it holds the private key of
    the public key it sends."""
    return f"lifeline-jump-install-v1\n{origin}\n{installer_key}\n{public_key}".encode()


def uninstall_text(jump_client_id: int, at: int, origin: str) -> bytes:
    """What an installation signs to tell the appliance it removed itself (`POST /jump/uninstall`):
    `at` is the UNIX time it signed, so an old signature is good for nothing later."""
    return f"lifeline-jump-uninstall-v1\n{origin}\n{jump_client_id}\n{at}".encode()


# --- from the appliance ------------------------------------------------------------------------


class Challenge(Message, frozen=True, kw_only=True, tag="challenge"):
    """The appliance's first message: sign it (see `signed_text`) within 15 seconds."""

    nonce: Nonce
    version: int


class Upgrade(Struct, frozen=True, kw_only=True):
    """A newer client the appliance serves for this platform: fetch it from `url` (same
    appliance, same pinned certificate), check `sha256`, replace yourself, restart."""

    version: str
    url: str
    sha256: str
    size: int


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    """Connected. `statistics` are the ones to send, every `interval` seconds (none: send
    nothing). `upgrade` is set when this client is older than the appliance's and its turn
    to upgrade has come (the appliance throttles upgrades)."""

    name: str  # the name the Jump Client is listed under
    statistics: list[Statistic]
    interval: float
    upgrade: Upgrade | None = None
    version: int
    # The failover pair's origins, the primary first (empty without failover): where to
    # go when this appliance stops answering or closes with 4421.
    appliances: Appliances = []


class StartSession(Message, frozen=True, kw_only=True, tag="start_session"):
    """A representative jumped to this computer: open `/ws/client` for session `lsid` with
    `token` (as `lifeline-client attach` would). `allowed` is what the Jump Group lets the
    rep use without asking; anything else the client asks whoever is at the computer."""

    request: RequestId
    lsid: Lsid
    token: Annotated[str, Meta(min_length=1, max_length=128)]
    allowed: list[Capability]
    rep: Text  # who jumps, for the computer's user


class ShellJump(Message, frozen=True, kw_only=True, tag="shell_jump"):
    """To a Jumpoint: open `/ws/client` for session `lsid` as `start_session` does, but its
    command shells are SSH sessions to `host`:`port` with these credentials (used once,
    never written down). Everything else (system information, files, screen) is refused."""

    request: RequestId
    lsid: Lsid
    token: Annotated[str, Meta(min_length=1, max_length=128)]
    host: Host
    port: Port = 22
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    password: Secret = ""
    private_key: Secret = ""  # OpenSSH or PEM text
    rep: Text


class PushClient(Message, frozen=True, kw_only=True, tag="push_client"):
    """To a Jumpoint: copy the customer client to `host` over SSH and start it there for
    session `lsid` (`attach` with `chat_url`, pinned to the appliance's certificate), with
    `allowed` allowed."""

    request: RequestId
    lsid: Lsid
    chat_url: Annotated[str, Meta(min_length=1, max_length=2048)]
    host: Host
    port: Port = 22
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    password: Secret = ""
    private_key: Secret = ""
    allowed: list[Capability]
    rep: Text


class Uninstall(Message, frozen=True, kw_only=True, tag="uninstall"):
    """This installation was removed (in /login or a console): delete your state and service
    files and stop. The socket then closes with 4403."""

    reason: Text = ""


# --- from the client ---------------------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    id: JumpClientId
    signature: Signature  # of signed_text(challenge nonce, id, origin)
    computer: Computer
    mode: Mode = "jump_client"
    version: int | None = None


class Statistics(Message, frozen=True, kw_only=True, tag="statistics"):
    """What the admin chose to collect (see Welcome.statistics); what was not asked is left out."""

    console_user: Text | None = None
    cpu: Annotated[float, Meta(ge=0, le=100)] | None = None  # percent, over the interval
    disk: Annotated[float, Meta(ge=0, le=100)] | None = None  # percent used, the system drive
    uptime: Annotated[int, Meta(ge=0)] | None = None  # seconds since boot
    thumbnail: Annotated[str, Meta(max_length=MAX_THUMBNAIL)] | None = None  # data: URL of the screen


class Started(Message, frozen=True, kw_only=True, tag="started"):
    """The answer to start_session, shell_jump or push_client: `error` says why not, in words."""

    request: RequestId
    error: Text = ""


FromJumpClient = Hello | Statistics | Started
ToJumpClient = Challenge | Welcome | StartSession | ShellJump | PushClient | Uninstall


# --- what consoles see of them (the console's `jump_list` answer) ------------------------------


class JumpItem(Struct, frozen=True, kw_only=True):
    """One Jump Client or Jumpoint in a representative's Jump list."""

    id: int
    mode: Mode
    name: str
    hostname: str
    comments: str
    tag: str
    group: str  # "group:ID" or "personal:USER_ID"
    group_name: str
    online: bool
    last_seen: float | None  # UNIX seconds; None if it never connected
    os: str
    platform: str
    private_ip: str
    public_ip: str
    console_user: str = ""
    cpu: float | None = None
    disk: float | None = None
    uptime: int | None = None
    thumbnail: str = ""
    consent_required: bool = False
    client_version: str = ""


class JumpList(Struct, frozen=True, kw_only=True):
    items: list[JumpItem]
    total: int  # matching, before offset and limit
    groups: list[dict[str, str]]  # the groups this rep may use: {key, name}
