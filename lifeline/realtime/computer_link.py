"""One Lifeline client socket, on the process that holds it: what the appliance knows of the
customer's computer through it (allowed, asked, open shells, requests waiting for an
answer), and its shells' output recorded before anyone sees it, then acknowledged."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import msgspec
from lifeline_protocol import ProtocolError, binary, encode
from lifeline_protocol import client as client_wire
from lifeline_protocol import console as console_wire
from lifeline_protocol.computer import CAPABILITIES, Computer

from lifeline.clients import actions as clients
from lifeline.clients.shells import RecordedShell
from lifeline.realtime.computer_events import (
    ComputerAnswered,
    ComputerAsked,
    ComputerChanged,
    ComputerPushed,
    ShellOutput,
)
from lifeline.realtime.hub import Peer
from lifeline.runtime import Runtime
from lifeline.sessions.models import SessionError

log = logging.getLogger("lifeline.realtime")

SHELL_LOCK_SECONDS = 5.0  # how long a new socket waits for the old one to let go of a shell
MAX_SHELL_PAYLOAD = 64 * 1024  # bytes of output in one frame (the contract's)
MAX_INBOX = 1000  # console requests queued for one client, at most
MAX_WAITING = 100  # requests a client has not answered yet, at most (it may never answer)


class ClientPeer(Peer):
    """The Lifeline client's socket: requests and acks go out through the common outbox."""


@dataclass
class Pending:
    kind: str
    gsnumber: int
    ref: str | None
    detail: dict[str, Any] = field(default_factory=dict)


class Link:
    """A client socket held here, and what the appliance knows of it."""

    _ids = itertools.count(1)

    def __init__(
        self,
        runtime: Runtime,
        peer: ClientPeer,
        joined: clients.ClientJoined,
        computer: Computer,
        allowed: set[str],
    ) -> None:
        self.runtime = runtime
        self.peer = peer
        self.id = f"{runtime.node_id}:{next(self._ids)}"
        self.lsid = joined.lsid
        self.session_id = joined.session_id
        self.gsnumber = joined.gsnumber
        self.computer = computer
        self.allowed = allowed
        self.asked: dict[str, str] = {}  # capability -> the rep who asked
        self.shells: dict[int, RecordedShell] = {}
        self.requests: dict[str, Pending] = {}
        self._numbers = itertools.count(1)
        self.system_info_wanted = joined.system_info_wanted
        self._ack_timer: asyncio.TimerHandle | None = None
        self._dirty: set[int] = set()
        self.replaced = False
        self.gone = False  # its socket closed: nothing more is written through it
        # The consoles' requests, done one after the other: keystrokes keep their order.
        self.inbox: asyncio.Queue[ComputerAsked] = asyncio.Queue(MAX_INBOX)
        self.worker: asyncio.Task[None] | None = None

    # -- state ---------------------------------------------------------------------------

    def state(self, connected: bool = True) -> dict[str, Any]:
        return {
            "connected": connected,
            "computer": msgspec.to_builtins(self.computer),
            "allowed": [c for c in CAPABILITIES if c in self.allowed],
            "asked": [c for c in CAPABILITIES if c in self.asked],
            "asked_by": [{"capability": c, "rep": self.asked[c]} for c in CAPABILITIES if c in self.asked],
            "shells": sorted(self.shells),
        }

    def announce(self, connected: bool = True) -> None:
        self.runtime.bus.publish_local(ComputerChanged(self.lsid, self.id, self.state(connected)))

    def push(self, message: Any) -> None:
        self.runtime.bus.publish_local(ComputerPushed(self.lsid, encode(message).decode()))

    def answer(self, gsnumber: int, ref: str | None, *, result: Any = None, error: str = "") -> None:
        if ref is None and not error:
            return
        self.runtime.bus.publish_local(ComputerAnswered(gsnumber, ref, not error, result, error))

    def request_id(self, pending: Pending) -> str:
        if len(self.requests) >= MAX_WAITING:
            raise SessionError("Too many requests are waiting for the customer's computer; try again")
        number = str(next(self._numbers))
        self.requests[number] = pending
        return number

    # -- shells --------------------------------------------------------------------------

    def frame(self, header: binary.Header, data: bytes) -> None:
        """A binary frame from the client: shell output, recorded before anyone sees it."""
        if header.kind is not binary.FrameKind.SHELL:
            raise ProtocolError("the client sends shell output and its screen only")
        shell = self.shells.get(header.stream)
        if shell is None:
            return  # a shell closed (or taken up by another socket): it sends again there
        if len(data) - binary.HEADER_SIZE > MAX_SHELL_PAYLOAD:
            raise ProtocolError("shell frames carry at most 64 KiB")
        if shell.output(header.sequence, data, data[binary.HEADER_SIZE :]):
            self.runtime.bus.publish_local(ShellOutput(self.lsid, data.decode("latin-1")))
            self.touch(header.stream)

    def touch(self, number: int) -> None:
        """The shell's recording grew: commit it (and acknowledge) within SHELL_ACK_EVERY."""
        self._dirty.add(number)
        if self._ack_timer is None:
            self._ack_timer = asyncio.get_running_loop().call_later(client_wire.SHELL_ACK_EVERY, self.acknowledge)

    def acknowledge(self) -> None:
        """Commit what was recorded, then tell the client it may forget it."""
        self._ack_timer = None
        dirty, self._dirty = self._dirty, set()
        for number in dirty:
            shell = self.shells.get(number)
            if shell is None:
                continue
            try:
                shell.commit()
            except OSError:
                log.exception("could not commit shell %d's recording", number)
                continue
            self.peer.send(client_wire.ShellAck(shell=number, sequence=shell.sequence))

    def release_shells(self) -> None:
        """Let go of the recordings (another socket takes them up); nothing is lost."""
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None
        for shell in self.shells.values():
            try:
                shell.close()
            except OSError:
                log.exception("could not close shell %d's recording", shell.shell)
        self.shells.clear()

    async def end_shell(self, number: int, code: int | None) -> None:
        shell = self.shells.pop(number, None)
        if shell is None:
            return
        size = shell.finish()
        await self.runtime.db.write(clients.finish_shell, number, size)
        self.push(console_wire.ShellEnded(lsid=self.lsid, shell=number, code=code))
        self.announce()
